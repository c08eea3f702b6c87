"""A guided check in the web widget, in Debian's Chromium against the real assistant: an
owner works out the fringe benefits left for an employee, choices are buttons, a wrong
amount gets a clear re-ask, the result shows the cliff-effect warning and its rule."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS
from tests.support.web_server import serving
from tests.test_widget_journey import W, bot_messages, browser, choose, desk_app, page, type_and_send  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_owner_works_out_fringe_benefits_in_the_widget(stack, page):  # noqa: F811
    with serving(desk_app(stack)) as desk:
        page.goto(f"{desk}/widget/demo")
        page.locator(f"{W} .launcher").click()
        type_and_send(page, "quanto posso ancora dare in fringe benefit a un dipendente?")
        expect(bot_messages(page).last).to_contain_text("figli fiscalmente a carico")
        choose(page, "No")
        expect(bot_messages(page).last).to_contain_text("Quanto gli hai già dato")
        type_and_send(page, "boh")
        # The re-ask, then the same question again.
        expect(page.locator(f"{W} .message.bot", has_text="Mi serve un importo in euro")).to_have_count(1)
        expect(bot_messages(page).last).to_contain_text("Quanto gli hai già dato")
        type_and_send(page, "800")
        expect(bot_messages(page).last).to_contain_text("Quanto vorresti dargli ancora")
        type_and_send(page, "300")
        result = bot_messages(page).last
        expect(result).to_contain_text("diventerebbero tassabili tutti i 1.100 €")
        expect(result).to_contain_text("TUIR art. 51 c. 3")
        expect(page.locator(f"{W} .choice:not([disabled])", has_text="Invia a un operatore")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "widget-check-fringe-benefit.png"))
