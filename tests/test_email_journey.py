"""The whole e-mail journey in Debian's Chromium (Playwright) against the desk served over loopback
HTTP and a real SMTP server: the operator answers on the ticket page, the worker's round sends the
e-mail, the user opens the link found in the received e-mail, reads the answer and replies, and the
operator sees the reply on the ticket page and the ticket back in progress in the queue."""
from __future__ import annotations

import re

import pytest

from bot.email.delivery import EmailDelivery
from desk.config import Settings
from desk.models import Role
from tests.support.browser import ARTIFACTS, chromium, needs_chromium
from tests.support.desk import PASSWORD, desk_app_for, make_user
from tests.support.queue import open_ticket
from tests.support.smtp_server import smtp_server
from tests.support.web_server import serving

pytestmark = needs_chromium
SECRET = "a-test-secret-for-the-e-mail-journey"


@pytest.mark.timeout(180)
def test_the_user_answers_from_the_emailed_link_into_the_same_ticket(seeded_database):
    backend = seeded_database.engine.dialect.name
    ref = open_ticket(seeded_database, "email-journey", channel="rest", contact="maria.rossi@example.org",
                      contact_kind="email")
    operator = make_user(seeded_database, Role.OPERATOR, name="Giulia Operatrice")
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(desk_app_for(seeded_database, secret_key=SECRET)) as desk, smtp_server() as smtp, chromium() as browser:
        desk_page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        desk_page.set_default_timeout(20_000)
        desk_page.goto(f"{desk}/login")
        desk_page.fill("input[name=email]", operator)
        desk_page.fill("input[name=password]", PASSWORD)
        desk_page.click("button[type=submit]")
        desk_page.goto(f"{desk}/ticket/{ref}")
        desk_page.click("#take-form button")
        desk_page.wait_for_selector("text=Hai preso in carico")
        desk_page.fill("#reply-body", "Sì, i buoni pasto rientrano nel welfare aziendale.\nMi dice quanti dipendenti ha?")
        desk_page.click("#risposta button[type=submit]")
        desk_page.wait_for_selector("text=Risposta messa in coda")
        assert "e-mail in coda" in desk_page.inner_text("#ticket-history")

        worker = EmailDelivery.from_settings(seeded_database, Settings(
            database_url=seeded_database.url, secret_key=SECRET, public_url=desk, smtp_host="127.0.0.1",
            smtp_port=smtp.port, smtp_security="none", email_from="Sportello <sportello@dialoga.example>"))
        assert len(worker.run_round().sent) == 1
        (email,) = smtp.received()
        assert ref in email["Subject"]
        desk_page.wait_for_selector("#ticket-history .email-delivery.delivery-sent", timeout=15_000)  # polled every 5 s

        text = email.get_body(preferencelist=("plain",)).get_content()
        (link,) = re.findall(rf"{re.escape(desk)}/seguito/\S+", text)
        user_page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # the user's phone
        user_page.set_default_timeout(20_000)
        user_page.goto(link)
        exchange = user_page.inner_text("#exchange")
        assert "Mi dice quanti dipendenti ha?" in exchange and "Posso dare buoni pasto" in exchange
        assert "in attesa di una tua risposta" in user_page.inner_text("#follow-up-status")
        user_page.fill("#follow-up-body", "Abbiamo 8 dipendenti, tutti a tempo pieno.")
        user_page.click("form[action$='/risposta'] button")
        user_page.wait_for_selector("#follow-up-notice")
        assert "Abbiamo 8 dipendenti" in user_page.inner_text("#exchange")
        user_page.screenshot(path=str(ARTIFACTS / f"follow-up-page-{backend}.png"), full_page=True)

        desk_page.wait_for_selector("#ticket-history >> text=Abbiamo 8 dipendenti, tutti a tempo pieno.", timeout=15_000)
        desk_page.screenshot(path=str(ARTIFACTS / f"ticket-page-email-{backend}.png"), full_page=True)
        desk_page.goto(f"{desk}/coda")
        row = desk_page.wait_for_selector(f'tr[data-ref="{ref}"]')
        assert "In lavorazione" in row.inner_text()
