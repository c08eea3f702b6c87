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


# A 1x1 transparent PNG: every tile of the stand-in tile server.
TILE = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
                     "000100e527de240000000049454e44ae426082")


class TileServer:
    """Answers every /tiles/{z}/{x}/{y}.png and records the paths asked for."""

    def __init__(self):
        self.asked = []

    def __call__(self, environ, start_response):
        self.asked.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(TILE)))])
        return [TILE]


@needs_chromium
@pytest.mark.timeout(120)
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # the page only reads: one database is enough
def test_with_a_tile_server_configured_the_points_show_on_a_map_too(seeded_database):
    from desk.services import directory
    from tests.support.desk import desk_app_for

    with seeded_database.session() as session:
        seed_directory(session, SEED_FILE)
        for key, place in (("ambiti-sociali", (45.5287, 9.0400)), ("patronati", (45.4642, 9.1900))):
            point = next(p for p in directory.list_points(session) if p.seed_key == key)
            directory.update_point(session, point, {"latitude": place[0], "longitude": place[1]}, author="test")
    tiles = TileServer()
    with serving(tiles) as tile_url:
        app = desk_app_for(seeded_database, map_tiles_url=f"{tile_url}/tiles/{{z}}/{{x}}/{{y}}.png")
        response = app.test_client().get("/sportelli/?dove=Rho&argomento=assistenza_anziani")
        policy = response.headers["Content-Security-Policy"]
        assert f"img-src 'self' {tile_url};" in policy and "script-src 'self';" in policy
        assert "<script>" not in response.get_data(as_text=True)  # no inline script
        with serving(app) as url, chromium() as browser:
            page = browser.new_page()
            elsewhere, problems = [], []
            page.on("request", lambda request: elsewhere.append(request.url)
                    if not request.url.startswith((url, tile_url)) else None)
            page.on("response", lambda answer: problems.append(answer.url) if answer.status >= 400 else None)
            page.on("console", lambda message: problems.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(f"{url}/sportelli/?dove=Rho&argomento=assistenza_anziani")
            page.wait_for_selector("#service-map:not([hidden]) .leaflet-marker-icon")
            placed = page.locator("li[data-lat]").count()
            assert placed >= 1 and page.locator("#service-map .leaflet-marker-icon").count() == placed
            page.wait_for_function("document.querySelectorAll('#service-map img.leaflet-tile-loaded').length > 0")
            page.screenshot(path=str(ARTIFACTS / "service-point-map-leaflet.png"), full_page=True)
    assert elsewhere == [] and problems == [] and tiles.asked
    assert all(path.startswith("/tiles/") and path.endswith(".png") for path in tiles.asked)
    # Without a tile server, the same page has no map and runs no script.
    page = desk_app_for(seeded_database).test_client().get("/sportelli/?dove=Rho").get_data(as_text=True)
    assert "service-map" not in page and "<script" not in page
