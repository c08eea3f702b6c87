"""Stored XSS: script and HTML payloads in everything users and operators can write stay
inert text in the desk, in the widget and in Telegram.

Every payload sets a window.__xss flag or fetches from a loopback "canary" server if it
ever runs; in Debian's Chromium each page must leave the flags unset, open no dialog,
make no request to the canary, and show the payload as text."""
from __future__ import annotations

import html
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List

import pytest
from playwright.sync_api import expect

from desk import migrate
from desk.config import Settings
from desk.db import Database
from desk.models import AssistantTurn, Role
from desk.models.base import utcnow
from desk.services import canned, directory, knowledge, learning, tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.seeding import seed_knowledge
from desk.web import create_app
from tests.conftest import KNOWLEDGE_DIR
from tests.support.browser import ARTIFACTS, chromium, needs_chromium
from tests.support.desk import PASSWORD, desk_settings, make_user
from tests.support.web_server import RecordingAssistant, serving

pytestmark = needs_chromium
SHOTS = ARTIFACTS / "xss"
TOPIC = "congedo_parentale"


class Canary:
    """A loopback HTTP server the payloads point to: any request means a payload ran or loaded."""

    def __init__(self) -> None:
        self.requests: List[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                canary.requests.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def payloads(canary: str) -> Dict[str, str]:
    return {
        "script": f"<script>window.__xss='script';fetch('{canary}/script')</script>",
        "img": f"<img src={canary}/img onerror=\"window.__xss='img'\">",
        "svg": f"\"><svg onload=\"window.__xss='svg'\"><img src=\"{canary}/svg\">",
        "link": "<a href=\"javascript:window.__xss='link'\">clic</a>",
        "template": "{{7*7}} {% if 1 %}jinja{% endif %} ${7*7}",
    }


@pytest.fixture(scope="module")
def canary():
    server = Canary()
    yield server
    server.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, canary):
    """A desk database where every field users and operators write holds a payload."""
    p = payloads(canary.url)
    everything = " ".join(p.values())
    url = f"sqlite:///{tmp_path_factory.mktemp('xss') / 'xss.db'}"
    migrate.upgrade(url)
    database = Database(url)
    make_user(database, Role.ADMIN, email="admin@sportello.example", name=p["img"])
    ids = {}
    with database.session() as session:
        seed_knowledge(session, KNOWLEDGE_DIR)
        directory.seed_directory(session, Settings().directory_file)
        now = utcnow()
        ticket = tickets.open_ticket(session, tickets.TicketIntake(
            intake_key=None, channel="widget", reply_address="w-xss", conversation_id="widget-w-xss", language="it",
            role="owner", name=p["img"], contact="anna@example.org", contact_kind="email", company_name=p["svg"],
            question=f"Domanda {p['script']} {p['template']}", consent_at=now,
            transcript=[{"who": "user", "text": everything, "at": now.isoformat()},
                        {"who": "bot", "text": p["link"], "at": now.isoformat()}],
            suggested_topics=[{"topic": TOPIC, "confidence": 0.9}]), BusinessCalendar())
        tickets.add_note(session, ticket, f"Nota {p['svg']}", actor="admin@sportello.example")
        tickets.reply(session, ticket, f"Risposta {p['img']}", actor="admin@sportello.example")
        tickets.add_follow_up(session, ticket, f"Seguito {p['link']}")
        ids["ref"] = ticket.ref
        canned.create(session, f"Predefinita {p['svg']}", f"Ciao {{nome}} {p['script']}", "it", "admin@sportello.example")
        knowledge.update_entry(session, TOPIC, {
            "title_it": f"Titolo {p['svg']}", "answer_it": f"Risposta {p['script']} {p['template']}",
            "source": p["img"], "source_url": "javascript:window.__xss='source_url'",
            "confidence_note": p["link"]}, author="admin@sportello.example")
        point = directory.list_points(session)[0]
        point.name, point.notes, point.website = f"Sportello {p['svg']}", p["script"], "javascript:window.__xss='website'"
        point.topics = [TOPIC]
        ids["point"] = point.id
        for index, text in enumerate([f"domanda strana {p['script']}", f"domanda strana {p['img']}", f"{p['svg']} pensione"]):
            session.add(AssistantTurn(conversation_id=f"x{index}", outcome="unanswered", text=text, language="it",
                                      channel="telegram", intent="nlu_fallback", created_at=now - timedelta(hours=1)))
        session.flush()
        turns = [turn.id for turn in session.query(AssistantTurn)]
        learning.create_draft(session, f"Bozza {p['svg']}", turns[-1:], turns[-1:], "admin@sportello.example")
    yield database, ids, p
    database.dispose()


@pytest.fixture(scope="module")
def desk(seeded):
    database, _, _ = seeded
    assistant = RecordingAssistant(lambda payload: [])
    with serving(assistant) as assistant_url:
        app = create_app(desk_settings(database.url, rasa_url=assistant_url, widget_poll_seconds=1.0), database=database)
        with serving(app) as url:
            yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, desk):
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="it-IT")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def log_in(page, desk) -> None:
    page.goto(f"{desk}/login")
    page.fill("input[name=email]", "admin@sportello.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def assert_inert(page, canary, name: str, *visible: str, scope: str = "body") -> None:
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.evaluate("typeof window.__xss") == "undefined", f"{name}: a payload ran ({page.evaluate('window.__xss')})"
    assert page.dialogs == [], f"{name}: dialogs {page.dialogs}"
    assert canary.requests == [], f"{name}: the canary was reached: {canary.requests}"
    text = "\n".join(page.locator(scope).all_inner_texts())  # CSS locators reach into open shadow roots
    for snippet in visible:
        assert snippet in text, f"{name}: {snippet!r} is not shown as text"


def test_desk_pages_show_payloads_as_text_and_run_nothing(page, desk, seeded, canary):
    _, ids, p = seeded
    log_in(page, desk)
    pages = [
        ("queue", "/coda", [p["img"]]),
        ("ticket", f"/ticket/{ids['ref']}", [p["script"], p["img"], p["svg"], p["link"], p["template"]]),
        ("knowledge-list", "/knowledge/", [f"Titolo {p['svg']}"]),
        ("knowledge-history", f"/knowledge/{TOPIC}/versions", [p["script"]]),
        ("directory", "/directory/", [f"Sportello {p['svg']}"]),
        ("directory-point", f"/directory/{ids['point']}", []),
        ("reports", "/reports/", [p["script"]]),
        ("learning", "/learning/", [p["img"], f"Bozza {p['svg']}"]),
        ("canned", "/risposte-predefinite", [f"Predefinita {p['svg']}"]),
        ("users", "/admin/users", [p["img"]]),
    ]
    for name, path, visible in pages:
        page.goto(desk + path)
        assert_inert(page, canary, name, *visible)
    # The ticket's composer: a canned reply and a suggested answer inserted into the text box stay text.
    page.goto(f"{desk}/ticket/{ids['ref']}")
    page.click("button.insert-text >> nth=0")
    assert_inert(page, canary, "ticket-suggestion")
    # The knowledge editor and its chat preview (htmx).
    page.goto(f"{desk}/knowledge/{TOPIC}")
    assert p["script"] in page.input_value("#answer_it")
    page.click("text=Anteprima in chat")
    page.wait_for_selector("#preview .chat-preview")
    assert_inert(page, canary, "knowledge-preview", p["script"], p["template"])
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert not any(link.strip().lower().startswith("javascript:") for link in links), links


def test_the_widget_shows_an_operators_payload_reply_as_text(page, desk, seeded, canary):
    database, _, p = seeded
    page.goto(f"{desk}/widget/demo")
    page.locator("#dialoga-widget .launcher").click()
    stored = ("() => { const key = Object.keys(localStorage).find(k => k.startsWith('dialoga-widget:'));"
              " return key ? JSON.parse(localStorage.getItem(key)).session || null : null; }")
    if page.evaluate(stored) is None:  # the widget starts its conversation with the first message
        page.locator("#dialoga-widget textarea").fill("buongiorno")
        page.keyboard.press("Enter")
        page.wait_for_function(stored)
    session = page.evaluate(stored)
    with database.session() as db:
        ticket = tickets.open_ticket(db, tickets.TicketIntake(
            intake_key=None, channel="widget", reply_address=session, conversation_id=f"widget-{session}", language="it",
            role="owner", name="Anna", contact="widget", contact_kind="channel", company_name="", question="Una domanda",
            consent_at=utcnow()), BusinessCalendar())
        tickets.reply(db, ticket, " ".join(p.values()), actor="admin@sportello.example")
    operator = page.locator("#dialoga-widget .message.operator, #dialoga-widget .message.bot").filter(has_text="window.__xss")
    expect(operator.first).to_be_visible(timeout=20_000)
    # The widget turns web addresses into links (checked http(s) hrefs), so look at the text around them.
    assert_inert(page, canary, "widget", "<script>window.__xss='script'", "onerror=\"window.__xss='img'\">",
                 "\"><svg onload=\"window.__xss='svg'\">", p["link"], p["template"], scope="#dialoga-widget .bubble")
    hrefs = page.eval_on_selector_all("#dialoga-widget a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs
    assert page.locator("#dialoga-widget img, #dialoga-widget svg[onload], #dialoga-widget script").count() == 0


def test_telegram_messages_carry_payloads_escaped(seeded):
    from bot.telegram.rendering import PayloadMap, render_replies

    _, _, p = seeded
    [message] = render_replies([{"text": " ".join(p.values()), "buttons": [{"title": p["img"], "payload": "/x"}]}], PayloadMap())
    for payload in p.values():
        assert html.escape(payload, quote=False) in message.html
    assert "<script" not in message.html and "<img" not in message.html and "<a " not in message.html
