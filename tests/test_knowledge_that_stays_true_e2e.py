"""Through the real assistant (REST channel, action server, PostgreSQL): an ended ELBA
deadline is said as ended, "dove mi rivolgo a Rho?" lists the points for Rho, and
"Avvisami se cambia" then /avvisi subscribe and list. Update notices end to end: a Telegram
subscriber gets exactly one notice in the chat (fake Bot API), a widget subscriber sees it at the
next visit (Chromium), after a supervisor publishes an edit marked "le regole sono cambiate"."""
import html
import time
from contextlib import contextmanager

import pytest

from desk.config import PROJECT_ROOT
from desk.models import Role
from desk.services import knowledge
from desk.services.directory import seed_directory
from tests.support.browser import ARTIFACTS, chromium
from tests.support.desk import desk_app_for, log_in, make_user, post_form
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import custom_of, text_of
from tests.support.telegram import gateway_settings, running_gateway
from tests.support.web_server import serving
from tests.test_knowledge_editor import form_of

pytestmark = pytest.mark.e2e


def test_dated_facts_area_search_and_notices_through_the_assistant(stack):
    assistant, database, _ = stack
    with database.session() as session:
        seed_directory(session, PROJECT_ROOT / "data" / "directory" / "service_points.yml")
    replies = assistant.say("kst-1", "quali sono le provvidenze ELBA per i lavoratori dipendenti?")
    assert custom_of(replies)["topic"] == "elba_prestazioni_lavoratori"
    assert custom_of(replies)["updating"] == ["provvidenze_lavoratori_2025"]
    assert "il periodo si è chiuso il 30 aprile 2026" in text_of(replies)
    payloads = [button["payload"] for reply in replies for button in reply.get("buttons", [])]
    assert "/subscribe_updates" in payloads and "/request_human" in payloads
    replies = assistant.say("kst-1", "/subscribe_updates")
    assert custom_of(replies)["subscription"] == {"topic": "elba_prestazioni_lavoratori", "status": "active"}
    replies = assistant.say("kst-1", "/avvisi")
    assert custom_of(replies)["subscriptions"] == ["elba_prestazioni_lavoratori"]
    replies = assistant.say("kst-1", "dove mi rivolgo a Rho?")
    assert custom_of(replies)["service_points"]["comune"] == "Rho"
    replies = assistant.say("kst-2", "sportello vicino a 20017")
    assert custom_of(replies)["service_points"]["comune"] == "Rho"


# ---- update notices, end to end: Telegram through the fake Bot API, the widget in Chromium ----

NOTICE_TOPIC = "fringe_benefit_soglie"
NOTICE_QUESTION = "soglia fringe benefit 2026"


@contextmanager
def rules_changed_by_a_supervisor(database, marker: str):
    """Yields a function that publishes, from the desk's entry form as a supervisor, an edit of
    the topic marked "le regole sono cambiate"; the entry's text is restored afterwards."""
    app = desk_app_for(database)
    supervisor = app.test_client()
    log_in(supervisor, make_user(database, Role.SUPERVISOR))
    with database.session() as session:
        original = knowledge.find_entry(session, NOTICE_TOPIC).answer_it

    def publish() -> None:
        with database.session() as session:
            entry = knowledge.find_entry(session, NOTICE_TOPIC)
        response = post_form(supervisor, f"/knowledge/{NOTICE_TOPIC}",
                             form_of(entry, answer_it=f"{marker}\n{entry.answer_it}", rules_changed="on"),
                             follow_redirects=True)
        assert "Chi segue l&#39;argomento riceverà un avviso" in response.get_data(as_text=True)

    try:
        yield publish
    finally:
        with database.session() as session:
            knowledge.update_entry(session, NOTICE_TOPIC, {"answer_it": original}, "test@sportello.example")


def test_a_telegram_subscriber_gets_exactly_one_notice_in_the_chat(stack):
    from tests.test_telegram_e2e import TelegramUser, buttons_of, text_of as telegram_text

    assistant, database, _ = stack
    marker = "Novità di prova per Telegram: le soglie cambiano."
    with FakeTelegram() as fake, running_gateway(gateway_settings(fake, database, assistant.url), database):
        user = TelegramUser(fake)
        replies = user.writes(NOTICE_QUESTION)
        assert buttons_of(replies).get("Avvisami se cambia") == "/subscribe_updates"
        assert "te lo scrivo qui" in telegram_text(user.presses(replies, "Avvisami se cambia"))
        before = len(fake.sent_to(user.chat))
        with rules_changed_by_a_supervisor(database, marker) as publish:
            publish()
            fake.wait_for(lambda: len(fake.sent_to(user.chat)) > before, 30, "the notice in the chat")
            time.sleep(1.0)  # a few delivery rounds (0.2 s each): nothing more may come
        notices = fake.sent_to(user.chat)[before:]
    assert len(notices) == 1
    assert "Sono cambiate le regole" in notices[0]["text"] and marker in html.unescape(notices[0]["text"])


def test_a_widget_subscriber_sees_the_notice_at_the_next_visit_in_chromium(stack):
    from playwright.sync_api import expect

    from tests.test_widget_journey import W, bot_messages, choose, desk_app, type_and_send

    _, database, _ = stack
    marker = "Novità di prova per il widget: le soglie cambiano."
    with chromium() as browser, serving(desk_app(stack)) as desk:
        context = browser.new_context(locale="it-IT")
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{desk}/widget/demo")
        page.locator(f"{W} .launcher").click()
        type_and_send(page, NOTICE_QUESTION)
        choose(page, "Avvisami se cambia")
        expect(bot_messages(page).last).to_contain_text("lo trovi qui alla tua prossima visita")
        # Under it, the offer to get the notices by e-mail: nothing is stored without consent.
        form = bot_messages(page).last.locator(".email-form")
        form.get_by_label("Il tuo indirizzo e-mail").fill("anna.verdi@example.org")
        form.get_by_role("button", name="Ricevi per e-mail").click()
        expect(form.locator(".error")).to_contain_text("serve il tuo consenso")
        page.close()
        with rules_changed_by_a_supervisor(database, marker) as publish:
            publish()
            page = context.new_page()  # the next visit: same browser storage, a new page
            page.goto(f"{desk}/widget/demo")  # the panel reopens as the user left it
            notice = page.locator(f"{W} .message", has_text="Sono cambiate le regole")
            expect(notice).to_have_count(1, timeout=20_000)
            expect(notice).to_contain_text(marker)
            page.screenshot(path=str(ARTIFACTS / "widget-update-notice.png"))
            # Now with consent: the next notices go by e-mail (delivery: tests/test_update_notices_email.py).
            form = page.locator(f"{W} .email-form")
            form.get_by_label("Il tuo indirizzo e-mail").fill("anna.verdi@example.org")
            form.locator("input[type=checkbox]").check()
            form.get_by_role("button", name="Ricevi per e-mail").click()
            expect(page.locator(f"{W} .message.notice").last).to_contain_text("arriveranno per e-mail")
            expect(page.locator(f"{W} .email-form")).to_have_count(0)
        context.close()
    assert errors == [], errors
