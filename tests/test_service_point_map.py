"""The public "Dove rivolgersi" page: points for a comune or CAP, without login, scripts or
tiles from elsewhere; checked in Chromium without JavaScript too."""
import pytest

from desk.config import PROJECT_ROOT
from desk.services.directory import seed_directory
from tests.support.browser import ARTIFACTS, chromium, needs_chromium
from tests.support.web_server import serving

SEED_FILE = PROJECT_ROOT / "data" / "directory" / "service_points.yml"


@pytest.fixture
def map_app(desk_app, seeded_database):
    with seeded_database.session() as session:
        seed_directory(session, SEED_FILE)
    return desk_app


def test_anyone_finds_the_points_for_a_postal_code(map_app):
    response = map_app.test_client().get("/sportelli/?dove=20017&argomento=servizi_chiusura_scolastica")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sportelli per <strong>Rho</strong>" in page
    assert 'data-point="comuni-nord-milano-servizi-estivi"' in page
    assert 'data-point="comune-milano-servizi-estivi"' not in page  # Milan's own service is not Rho's
    assert "Da completare:" in page  # missing contacts are said, never invented
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_milan_gets_its_own_service_first_and_an_unknown_place_is_said(map_app):
    client = map_app.test_client()
    page = client.get("/sportelli/?dove=Milano&argomento=servizi_chiusura_scolastica").get_data(as_text=True)
    assert page.index('data-point="comune-milano-servizi-estivi"') < page.index('data-point="comuni-nord-milano-servizi-estivi"')
    page = client.get("/sportelli/?dove=Atlantide").get_data(as_text=True)
    assert 'id="not-found"' in page and "Atlantide" in page


def test_contacts_show_with_their_official_source_and_date(map_app):
    page = map_app.test_client().get("/sportelli/?dove=Lodi&argomento=sanarti").get_data(as_text=True)
    assert "800 009 603" in page and "pagina consultata</a> il 01/12/2026" in page


@needs_chromium
@pytest.mark.timeout(120)
def test_the_page_works_in_chromium_without_javascript(map_app):
    with serving(map_app) as url, chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        blocked = []
        page.on("request", lambda request: blocked.append(request.url) if not request.url.startswith(url) else None)
        page.goto(f"{url}/sportelli/")
        page.fill("#dove", "sportello vicino a 20017")
        page.select_option("#argomento", "assistenza_anziani")
        page.click("button[type=submit]")
        page.wait_for_selector("#area")
        assert "Rho" in page.inner_text("#area")
        assert page.locator('[data-point="ambiti-sociali"]').count() == 1
        page.screenshot(path=str(ARTIFACTS / "service-point-map-rho.png"), full_page=True)
        assert blocked == []  # no tile server, no CDN: nothing outside the desk is loaded
        context.close()
