"""A firm owner uses the web widget on an association's page, in Debian's Chromium, against
the real assistant and action server: an answer with its source, feedback, a request for a
person filled in the chat, the operator's reply arriving, a reload, and text that looks
like HTML staying text. Also: the widget embedded on another site, allowed or not."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.widget.gateway import WidgetGateway
from desk.models import Ticket
from desk.services import knowledge, tickets
from desk.services.business_hours import BusinessCalendar
from desk.web import create_app
from tests.support.browser import ARTIFACTS, chromium
from tests.support.desk import desk_settings
from tests.support.web_server import serving

pytestmark = pytest.mark.e2e

W = "#dialoga-widget"  # Playwright's CSS selectors reach into the widget's open shadow root
XSS_IMG = '<img src=x onerror="window.__pwned=1">'
XSS_SCRIPT = "<script>window.__pwned=1</script>"
POLL_SECONDS = 1.0


def closed_all_day() -> BusinessCalendar:
    """A calendar on which the desk is away all of today (Milan time): the notice must show."""
    today = datetime.now(ZoneInfo("Europe/Rome")).weekday()
    return BusinessCalendar(working_weekdays=frozenset(day for day in range(7) if day != today))


def desk_app(stack, **settings):
    assistant, database, _ = stack
    settings = desk_settings(database.url, rasa_url=assistant.url, widget_poll_seconds=POLL_SECONDS,
                        widget_messages_per_minute=60, **settings)
    app = create_app(settings, database=database)
    gateway = WidgetGateway.from_settings(settings)
    gateway.calendar = closed_all_day()
    app.extensions["dialoga.widget"] = gateway
    return app


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 850}, locale="it-IT")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def bot_messages(page):
    return page.locator(f"{W} .message.bot:not(.typing)")


def wait_for_reply(page, before: int) -> None:
    expect(bot_messages(page)).not_to_have_count(before, timeout=60_000)
    expect(page.locator(f"{W} .typing")).to_have_count(0, timeout=60_000)


def type_and_send(page, text: str) -> None:
    before = bot_messages(page).count()
    page.locator(f"{W} textarea").fill(text)
    page.keyboard.press("Enter")
    wait_for_reply(page, before)


def send_only(page, text: str) -> None:
    page.locator(f"{W} textarea").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .message.user .bubble").last).to_have_text(text)
    expect(page.locator(f"{W} .typing")).to_have_count(0, timeout=60_000)
    expect(page.locator(f"{W} .send")).to_be_enabled()


def choose(page, title: str) -> None:
    before = bot_messages(page).count()
    page.locator(f"{W} .choice:not([disabled])", has_text=title).last.click()
    wait_for_reply(page, before)


def active_element(page) -> str:
    return page.evaluate(
        "() => { const a = document.getElementById('dialoga-widget').shadowRoot.activeElement;"
        " return a ? (a.id || a.className) : ''; }")


def session_id(page) -> str:
    return page.evaluate(
        "() => { const key = Object.keys(localStorage).find(k => k.startsWith('dialoga-widget:'));"
        " return JSON.parse(localStorage.getItem(key)).session; }")


def test_an_owner_asks_gives_feedback_reaches_a_person_and_gets_the_reply_once(stack, browser, page):
    _, database, _ = stack
    with serving(desk_app(stack)) as desk:
        page.goto(f"{desk}/widget/demo")
        expect(page.locator(f"{W} [role=status][aria-live=polite]")).to_have_count(1)

        # Keyboard only: Tab to the launcher, Enter opens the panel and focus moves into it.
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement && document.activeElement.id") == "dialoga-widget":
                break
        assert active_element(page) == "launcher"
        page.keyboard.press("Enter")
        expect(page.locator(f"{W} #dialoga-panel")).to_be_visible()
        assert active_element(page) == "dialoga-input"
        page.keyboard.type("quanti giorni di congedo di paternità spettano?")
        page.keyboard.press("Enter")
        wait_for_reply(page, 1)

        answer = page.locator(f"{W} .message.bot", has=page.locator(".meta")).first
        meta = answer.locator(".meta")
        expect(meta).to_contain_text("Fonte: ")
        expect(meta).to_contain_text(re.compile(r"Verificato il \d{2}/\d{2}/\d{4}"))
        expect(answer.locator(".bubble")).not_to_contain_text("Fonte:")
        expect(answer.locator(".bubble")).to_contain_text("paternità")
        expect(page.locator(f"{W} [role=status]")).to_contain_text("Assistente:")
        expect(page.locator(f"{W} .hours")).to_contain_text("Operatori non in servizio: riapriamo")
        page.screenshot(path=str(ARTIFACTS / "widget-1-answer.png"))

        thumbs_up = answer.get_by_role("button", name="Risposta utile")
        thumbs_up.click()
        wait_for_reply(page, 2)
        expect(bot_messages(page).last).to_contain_text("Grazie del riscontro")
        expect(answer.get_by_role("button", name="Risposta utile")).to_have_attribute("aria-pressed", "true")
        expect(page.locator(f"{W} .message.user").last).to_contain_text("Sì")

        # A person: the form in the chat, with the out-of-hours notice.
        type_and_send(page, "vorrei parlare con un operatore")
        expect(page.locator(f"{W} .message.notice").last).to_contain_text("non sono in servizio")
        choose(page, "Titolare d'impresa")
        type_and_send(page, "Giulia Bianchi")
        choose(page, "Rispondetemi qui")
        type_and_send(page, "Panificio Bianchi snc")
        choose(page, "1-9")
        choose(page, "Sì")
        type_and_send(page, "Una dipendente rientra dalla maternità: posso concederle orari ridotti e come?")
        expect(bot_messages(page).last).to_contain_text("Giulia Bianchi")
        choose(page, "Acconsento e invio")
        expect(bot_messages(page).last).to_contain_text(re.compile(r"DC-[0-9A-Z]{6}"))
        page.screenshot(path=str(ARTIFACTS / "widget-2-ticket.png"))

        session = session_id(page)
        with database.session() as db:
            [ticket] = db.scalars(select(Ticket).where(Ticket.reply_address == session)).all()
            assert (ticket.channel, ticket.contact_kind, ticket.role) == ("widget", "channel", "owner")
            tickets.reply(db, ticket, "Buongiorno Giulia, sì: può concordare un part-time. Le scrivo i passi.",
                          actor="operatore@sportello.example")
        operator = page.locator(f"{W} .message.operator")
        expect(operator).to_have_count(1, timeout=15_000)
        expect(operator).to_contain_text("Operatore dello sportello")
        expect(operator).to_contain_text("può concordare un part-time")

        # A reload: the conversation is there, the reply shown once, also after more polls.
        page.reload()
        expect(page.locator(f"{W} #dialoga-panel")).to_be_visible()
        expect(page.locator(f"{W} .message.user", has_text="vorrei parlare con un operatore")).to_have_count(1)
        page.wait_for_timeout(POLL_SECONDS * 3 * 1000)
        expect(operator).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "widget-3-after-reload.png"))

        # Closed panel: a new reply shows as an unread badge; Escape returns focus to the launcher.
        page.locator(f"{W} textarea").focus()
        page.keyboard.press("Escape")
        expect(page.locator(f"{W} #dialoga-panel")).to_be_hidden()
        assert active_element(page) == "launcher"
        with database.session() as db:
            ticket = tickets.find_by_ref(db, ticket.ref)
            tickets.reply(db, ticket, f"Un'ultima cosa: {XSS_IMG} resta testo.", actor="operatore@sportello.example")
        expect(page.locator(f"{W} .badge")).to_have_text("1", timeout=15_000)
        expect(page.locator(f"{W} .launcher")).to_have_attribute("aria-label", re.compile("1 nuovo messaggio"))
        page.locator(f"{W} .launcher").click()
        expect(operator).to_have_count(2)
        expect(operator.last).to_contain_text(f"Un'ultima cosa: {XSS_IMG} resta testo.")

        # Another page of the site: same conversation.
        page.goto(f"{desk}/widget/demo/servizi")
        expect(operator).to_have_count(2)
        expect(page.locator(f"{W} .meta")).to_have_count(1)

        # Text that looks like HTML stays text and runs nothing.
        for payload in (XSS_IMG, XSS_SCRIPT):
            send_only(page, payload)  # the ticket waits on the user: the message goes to it
            expect(page.locator(f"{W} .message.user .bubble", has_text=payload)).to_have_count(1)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator(f"{W} img").count() == 0 and page.locator(f"{W} .bubble script").count() == 0
        page.screenshot(path=str(ARTIFACTS / "widget-4-html-as-text.png"))

        page.set_viewport_size({"width": 320, "height": 640})
        panel = page.locator(f"{W} #dialoga-panel").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 320
        page.screenshot(path=str(ARTIFACTS / "widget-5-phone-320.png"))


def association_site(desk: str):
    """Another origin: a page of an association's own site that embeds the desk's widget."""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Association</title></head>'
            f'<body><h1>An association site</h1><script src="{desk}/widget.js" data-lang="en" defer></script></body></html>')
    return lambda environ, start_response: Response(html, mimetype="text/html")(environ, start_response)


def test_the_widget_works_on_an_allowed_site_and_not_on_another(stack, page):
    app_holder = {}  # the desk needs the association's origin, known once its server runs

    def desk_wsgi(environ, start_response):
        return app_holder["app"](environ, start_response)

    with serving(desk_wsgi) as desk, serving(association_site(desk)) as allowed, serving(association_site(desk)) as other:
        app_holder["app"] = desk_app(stack, widget_origins=(allowed,))
        page.goto(allowed)
        page.get_by_role("button", name="Chat with us").click()
        type_and_send(page, "how many days of paternity leave does a father get?")
        expect(page.locator(f"{W} .meta")).to_contain_text("Source: ")
        expect(page.locator(f"{W} .hours")).to_contain_text("Operators are away")

        page.goto(other)
        page.get_by_role("button", name="Chat with us").click()
        page.locator(f"{W} textarea").fill("hello")
        page.keyboard.press("Enter")
        expect(page.locator(f"{W} .message.notice")).to_contain_text("can't reach the desk")
        assert session_id(page) is None


# --- clarification: "which of these topics?" --------------------------------------------

def widget_exchange(page, act):
    """Do `act` (type or press) and return the widget gateway's JSON answer once shown."""
    before = bot_messages(page).count()
    with page.expect_response(lambda response: response.url.endswith("/widget/api/messages")) as answer:
        act()
    wait_for_reply(page, before)
    return answer.value.json()["messages"]


def clarified_in_widget(browser, desk, candidates):
    """A fresh visitor whose first message got a clarification: (context, page, offered topics)."""
    from tests.support.clarify import first_clarified

    opened = {}

    def ask(message):
        context = browser.new_context(viewport={"width": 1100, "height": 850}, locale="it-IT")
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{desk}/widget/demo")
        page.locator(f"{W} .launcher").click()
        expect(page.locator(f"{W} #dialoga-panel")).to_be_visible()

        def write():
            page.locator(f"{W} textarea").fill(message)
            page.keyboard.press("Enter")

        messages = widget_exchange(page, write)
        clarify = next((item["clarify"] for item in messages if item.get("clarify")), None)
        if clarify is None:
            context.close()
        else:
            opened[message] = (context, page, errors)
        return ({"clarify": clarify} if clarify else {}), []

    message, custom, _ = first_clarified(ask, candidates)
    context, page, errors = opened[message]
    return context, page, errors, custom["clarify"]


def test_a_widget_visitor_picks_a_topic_from_a_clarification(stack, browser):
    from tests.support.clarify import AMBIGUOUS_IT, NONE_OF_THESE

    _, database, _ = stack
    with serving(desk_app(stack)) as desk:
        context, page, errors, offered = clarified_in_widget(browser, desk, AMBIGUOUS_IT)
        with database.session() as db:
            titles = knowledge.titles_for(db, offered, "it")
        options = page.locator(f"{W} .message.bot").last.locator(".choices.clarify .choice")
        expect(options).to_have_text([titles[topic] for topic in offered] + [NONE_OF_THESE["it"]])
        page.screenshot(path=str(ARTIFACTS / "widget-clarify-1-question.png"))

        chosen = offered[-1]
        messages = widget_exchange(page, lambda: options.nth(len(offered) - 1).click())
        assert [item.get("topic") for item in messages if item.get("topic")] == [chosen]
        # The user's own message reads as the button's title, never its payload.
        expect(page.locator(f"{W} .message.user .bubble").last).to_have_text(titles[chosen])
        expect(page.locator(f"{W} .message.user .bubble", has_text="/")).to_have_count(0)
        expect(page.locator(f"{W} .message.bot").last.locator(".meta")).to_contain_text("Fonte: ")
        page.screenshot(path=str(ARTIFACTS / "widget-clarify-2-answer.png"))
        context.close()
        assert errors == [], errors


def test_a_widget_visitor_chooses_a_person_or_asks_out_of_scope(stack, browser):
    from tests.support.clarify import AMBIGUOUS_IT, NONE_OF_THESE, OUT_OF_SCOPE_IT

    with serving(desk_app(stack)) as desk:
        context, page, errors, _ = clarified_in_widget(browser, desk, AMBIGUOUS_IT)
        person = page.locator(f"{W} .choice:not([disabled])", has_text=NONE_OF_THESE["it"])
        messages = widget_exchange(page, lambda: person.click())
        assert {"escalation": "intake", "asks": "role"}.items() <= next(
            item for item in messages if item.get("escalation")).items()
        expect(page.locator(f"{W} .message.user .bubble").last).to_have_text(NONE_OF_THESE["it"])
        expect(page.locator(f"{W} .choice:not([disabled])", has_text="Titolare d'impresa")).to_have_count(1)
        expect(page.locator(f"{W} .message.notice").last).to_contain_text("non sono in servizio")

        # Out of scope: no topics to choose from, the offer of a person.
        type_and_send(page, "annulla")
        messages = widget_exchange(page, lambda: (page.locator(f"{W} textarea").fill(OUT_OF_SCOPE_IT),
                                                  page.keyboard.press("Enter")))
        assert [item.get("escalation") for item in messages if item.get("escalation")] == ["offer"]
        assert not any(item.get("clarify") for item in messages)
        expect(page.locator(f"{W} .choice:not([disabled])", has_text="Sì, scrivete a un operatore")).to_have_count(1)
        context.close()
        assert errors == [], errors
