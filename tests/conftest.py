"""Fixtures: real databases (SQLite and PostgreSQL), the seeded knowledge base."""
from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from desk import migrate
from desk.config import PROJECT_ROOT
from desk.db import Database
from desk.services.seeding import seed_knowledge
from tests.support.databases import prepare_database, throwaway_postgres_database, truncate_all
from tests.support.stack import running_assistant
from tests.support.tcp_proxy import TcpProxy
from tests.support.desk import TEST_SECRET_KEY

# Processes the tests start (`dialoga worker`, the Telegram gateway) refuse the development key
# outside development: they get the tests' strong key (the refusal tests set their own).
os.environ.setdefault("DIALOGA_SECRET_KEY", TEST_SECRET_KEY)

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"


@pytest.fixture(scope="session")
def postgres_url():
    with throwaway_postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A migrated, empty database; every test that uses it runs on both backends."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dialoga.db'}"
        migrate.upgrade(url)
        db = Database(url)
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def seeded_database(database):
    with database.session() as session:
        seed_knowledge(session, KNOWLEDGE_DIR)
    return database


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with throwaway_postgres_database("dialoga_e2e") as direct_url:
        prepare_database(direct_url)
        database = Database(direct_url)
        parsed = make_url(direct_url)
        proxy = TcpProxy((parsed.host, parsed.port or 5432))
        proxied_url = str(parsed.set(port=proxy.port))
        try:
            spool = tmp_path_factory.mktemp("spool")
            with running_assistant(proxied_url, name="e2e", extra_env={"DIALOGA_SPOOL_DIR": str(spool)}) as assistant:
                yield assistant, database, proxy
        finally:
            proxy.close()
            database.dispose()


@pytest.fixture
def assistant(stack):
    return stack[0]



@pytest.fixture
def desk_app(seeded_database):
    from tests.support.desk import desk_app_for

    return desk_app_for(seeded_database)


@pytest.fixture
def desk_login(desk_app, seeded_database):
    """desk_login(role) -> a test client logged in as a user of that role."""
    from tests.support.desk import log_in, make_user

    def login(role):
        client = desk_app.test_client()
        response = log_in(client, make_user(seeded_database, role))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login
