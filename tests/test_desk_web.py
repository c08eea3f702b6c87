"""The desk's public pages and health endpoint, on both databases."""
import pytest

from desk.web import create_app
from tests.support.desk import desk_settings


@pytest.fixture
def client(seeded_database):
    app = create_app(desk_settings(seeded_database.url), database=seeded_database)
    app.testing = True
    return app.test_client()


def test_health_names_the_database_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": {"state": "ok", "knowledge_entries": 42}}


def test_health_reports_an_unreachable_database():
    app = create_app(desk_settings("postgresql://nobody@127.0.0.1:1/none", database_connect_timeout=1))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == {"state": "unreachable"}


def test_the_privacy_notice_is_public(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    assert "Garante" in response.get_data(as_text=True)
