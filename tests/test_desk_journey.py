"""The operators' desk end to end, in Debian's Chromium (issue #5's browser journey): a user
escalates through the assistant's REST channel; the operator sees the ticket arrive in the
queue without reloading, opens it, replies with a suggested answer, resolves it; edits a
knowledge-base entry and the assistant answers with the new text; the reports count it all.
The real assistant and action server run on the same PostgreSQL database as the desk.
Screenshots of every page go to test-artifacts/desk-journey/."""
from __future__ import annotations

import csv
import io

import pytest

from desk.models import Role, TicketStatus
from desk.services import outbox, tickets
from tests.support.browser import ARTIFACTS, desk_page, needs_chromium
from tests.support.conversation import new_sender, open_worker_ticket
from tests.support.desk import PASSWORD, desk_app_for, make_user
from tests.support.stack import custom_of, text_of
from tests.support.web_server import serving

SHOTS = ARTIFACTS / "desk-journey"
QUESTION = "Al rientro dalla maternità posso chiedere il part-time per qualche mese e poi tornare a tempo pieno?"

pytestmark = [pytest.mark.e2e, needs_chromium]


@pytest.fixture
def desk_url(stack):
    _, database, _ = stack
    with serving(desk_app_for(database)) as url:
        yield url


@pytest.fixture
def page():
    with desk_page() as page:
        yield page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def report_csv(page, desk_url: str, section: str):
    response = page.request.get(f"{desk_url}/reports/{section}.csv")
    assert response.ok, response.status
    return list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))


def tickets_opened(page, desk_url) -> int:
    rows = report_csv(page, desk_url, "escalations")
    column = rows[0].index("Ticket aperti")
    return sum(int(row[column] or 0) for row in rows[1:])


def resolutions_measured(page, desk_url) -> int:
    rows = report_csv(page, desk_url, "response_times")
    measured = rows[0].index("Ticket misurati")
    return sum(int(row[measured] or 0) for row in rows[1:] if "isoluzione" in row[0])


@pytest.mark.timeout(300)
def test_an_operator_clears_a_ticket_and_keeps_the_knowledge_base_true(stack, desk_url, page):
    assistant, database, _ = stack
    email = make_user(database, Role.SUPERVISOR, email="sara.supervisor@sportello.example", name="Sara Supervisora")

    page.goto(f"{desk_url}/login")
    shot(page, "01-login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    opened_before, resolved_before = tickets_opened(page, desk_url), resolutions_measured(page, desk_url)

    page.goto(f"{desk_url}/coda")
    page.evaluate("window.__notReloaded = true")
    ref = open_worker_ticket(assistant, new_sender(), "Chiara Verdi", "chiara.verdi@example.org", QUESTION)
    row = page.wait_for_selector(f'tr[data-ref="{ref}"]', timeout=20_000)  # the queue polls every 5 s
    assert page.evaluate("window.__notReloaded") is True
    assert "nuovo" in row.inner_text()
    shot(page, "02-queue-new-ticket")

    page.click(f'tr[data-ref="{ref}"] a')
    page.wait_for_url(f"**/ticket/{ref}*")
    assert "Chiara Verdi" in page.inner_text("body") and QUESTION in page.inner_text("body")
    shot(page, "03-ticket")

    page.click("button.insert-text >> nth=0")
    suggested = page.input_value("#reply-body")
    assert "Fonte:" in suggested, suggested
    page.fill("#reply-body", "Gentile Chiara, ecco cosa prevede la legge.\n\n" + suggested)
    page.click("#risposta button[type=submit]")
    page.wait_for_selector("text=in coda")  # the reply waits in the outbox for its channel
    with database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.current_status is TicketStatus.WAITING_ON_USER
        [queued] = outbox.for_address(session, ticket.channel, ticket.reply_address)
        assert queued.body.startswith("Gentile Chiara")
    page.click(f"button[name=status][value={TicketStatus.RESOLVED.value}]")
    page.wait_for_selector(".badge.status-resolved")
    shot(page, "04-ticket-resolved")
    with database.session() as session:
        assert tickets.find_by_ref(session, ref).current_status is TicketStatus.RESOLVED

    page.goto(f"{desk_url}/knowledge/congedo_paternita")
    marker = "Dieci giorni lavorativi obbligatori (testo aggiornato dal desk)."
    page.fill("#answer_it", marker + "\n" + page.input_value("#answer_it"))
    page.click("#entry-form button[type=submit]")
    page.wait_for_selector("text=Scheda salvata")
    shot(page, "05-knowledge-saved")
    answer = assistant.say(new_sender(), "quanti giorni di congedo di paternità spettano al papà?")
    assert custom_of(answer).get("topic") == "congedo_paternita"
    assert marker in text_of(answer)

    assert tickets_opened(page, desk_url) == opened_before + 1
    assert resolutions_measured(page, desk_url) == resolved_before + 1
    page.goto(f"{desk_url}/reports/")
    page.wait_for_selector("#chart-escalations")
    shot(page, "06-reports")
