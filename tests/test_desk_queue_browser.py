"""The queue in a real browser (Debian's Chromium through Playwright) against the desk served
over loopback HTTP: a ticket opened by the assistant appears without a reload, the keyboard
takes it, and a suggested answer goes into the reply composer. Screenshots in test-artifacts/."""
from __future__ import annotations

import pytest

from desk.models import Role
from tests.support.browser import ARTIFACTS, desk_page, needs_chromium
from tests.support.desk import PASSWORD, desk_app_for, make_user
from tests.support.queue import open_ticket
from tests.support.web_server import serving

pytestmark = needs_chromium


@pytest.fixture
def served_desk(seeded_database):
    with serving(desk_app_for(seeded_database)) as url:
        yield url


@pytest.fixture
def browser_page():
    with desk_page() as page:
        yield page


@pytest.mark.timeout(120)
def test_a_new_ticket_appears_live_and_is_taken_from_the_keyboard(seeded_database, served_desk, browser_page):
    page = browser_page
    backend = seeded_database.engine.dialect.name
    email = make_user(seeded_database, Role.OPERATOR, name="Giulia Operatrice")
    page.goto(f"{served_desk}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served_desk}/coda")
    page.wait_for_selector("text=Nessun ticket corrisponde ai filtri")
    page.evaluate("window.__notReloaded = true")

    ref = open_ticket(seeded_database, "live", suggested_topics=[{"topic": "bonus_asilo_nido", "confidence": 0.6}])
    row = page.wait_for_selector(f'tr[data-ref="{ref}"]', timeout=15_000)  # polled every 5 s
    assert page.evaluate("window.__notReloaded") is True
    assert page.inner_text("#new-badge").startswith("1 nuovo")
    assert "nuovo" in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"queue-live-refresh-{backend}.png"), full_page=True)

    page.keyboard.press("j")
    assert "selected" in page.get_attribute(f'tr[data-ref="{ref}"]', "class")
    page.keyboard.press("t")
    page.wait_for_selector("text=Hai preso in carico")
    assert "Giulia Operatrice" in page.inner_text(f'tr[data-ref="{ref}"]')

    page.keyboard.press("j")
    page.keyboard.press("r")
    page.wait_for_url(f"**/ticket/{ref}#risposta")
    page.click("button.insert-text")
    composed = page.input_value("#reply-body")
    assert "Fonte: " in composed and "(verificato il " in composed
    page.screenshot(path=str(ARTIFACTS / f"ticket-page-{backend}.png"), full_page=True)
