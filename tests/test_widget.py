"""The web widget's endpoints on both databases: sessions, origins (with preflight),
rate limits, forwarding to the assistant over real HTTP, an unreachable assistant,
and operator replies delivered once through the update endpoint."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.widget.gateway import WIDGET_SCRIPT
from bot.widget.hours import office_hours
from bot.widget.replies import widget_messages
from desk.config import Settings, parse_origins
from desk.models import DeliveryStatus, OutboundMessage, TicketStatus
from desk.models.base import utcnow
from desk.services import outbox, tickets
from desk.services.business_hours import BusinessCalendar
from desk.web import create_app
from tests.support.desk import desk_settings
from tests.support.stack import free_port
from tests.support.web_server import RecordingAssistant, serving
from tests.test_tickets import CALENDAR, MONDAY_9_ROME, intake

ASSOCIATION = "https://www.botteghe-mestieri.example"
ANSWER_TEXT = (
    "Congedo di paternità obbligatorio\n\n"
    "Il padre lavoratore dipendente ha diritto a 10 giorni lavorativi di congedo.\n\n"
    "Fonte: INPS — https://www.inps.it/congedo-paternita\nVerificato il 12/03/2025.\n\n"
    "Ti è stata utile?"
)


def rasa_answer(payload):
    """What Rasa's REST channel sends for a knowledge answer: the text with its buttons,
    then the `custom` object as a message of its own."""
    return [
        {"recipient_id": payload["sender"], "text": ANSWER_TEXT, "buttons": [
            {"title": "👍 Sì", "payload": "/feedback_helpful"},
            {"title": "👎 No", "payload": "/feedback_not_helpful"},
            {"title": "Parla con una persona", "payload": "/request_human"}]},
        {"recipient_id": payload["sender"], "custom": {
            "topic": "congedo_paternita", "source": "INPS", "source_url": "https://www.inps.it/congedo-paternita",
            "verified_on": "2025-03-12", "title": "Congedo di paternità obbligatorio", "unconfirmed": False,
            "language": "it"}},
    ]


@pytest.fixture
def assistant():
    recorder = RecordingAssistant(rasa_answer)
    with serving(recorder) as url:
        recorder.url = url
        yield recorder


def widget_app(database, rasa_url, **settings):
    settings.setdefault("widget_origins", (ASSOCIATION,))
    app = create_app(desk_settings(database.url, rasa_url=rasa_url, **settings), database=database)
    app.testing = True
    return app


@pytest.fixture
def client(database, assistant):
    return widget_app(database, assistant.url).test_client()


def start_session(client, origin=ASSOCIATION):
    response = client.post("/widget/api/session", json={"lang": "it"}, headers={"Origin": origin})
    assert response.status_code == 201, response.json
    return response.json


def say(client, session, text, origin=ASSOCIATION, lang="it", token=None):
    return client.post("/widget/api/messages", json={"session": session["session"], "text": text, "lang": lang},
                       headers={"Origin": origin, "X-Widget-Token": token or session["token"]})


def updates(client, session, after=0, origin=ASSOCIATION):
    return client.get(f"/widget/api/updates?session={session['session']}&after={after}",
                      headers={"Origin": origin, "X-Widget-Token": session["token"]})


def open_widget_ticket(database, session_id, key="widget-intake"):
    with database.session() as session:
        ticket = tickets.open_ticket(
            session, intake(key, conversation=f"widget-{session_id}", channel="widget", reply_address=session_id,
                            contact=session_id, contact_kind="channel"),
            CALENDAR, now=MONDAY_9_ROME)
        return ticket.ref


# Sessions and forwarding


def test_a_session_is_a_random_id_with_a_signed_token(client):
    first, second = start_session(client), start_session(client)
    assert first["session"] != second["session"] and len(first["session"]) >= 20
    assert first["token"] != second["token"] and first["poll_seconds"] > 0


def test_a_message_goes_to_the_assistant_as_the_widget_channel_and_comes_back_shaped(client, assistant):
    session = start_session(client)
    response = say(client, session, "quanti giorni di congedo di paternità spettano?")
    assert response.status_code == 200, response.json
    [sent] = assistant.received
    client_key = sent["metadata"].pop("client")  # the client's address as a keyed digest, for lookup limits
    assert len(client_key) == 16 and "127.0.0.1" not in client_key
    # The request's id (X-Request-ID, README "Deployment") travels with the message.
    assert sent == {"sender": f"widget-{session['session']}", "message": "quanti giorni di congedo di paternità spettano?",
                    "metadata": {"channel": "widget", "reply_address": session["session"], "language": "it",
                                 "request_id": response.headers["X-Request-ID"]}}
    [message] = response.json["messages"]
    assert message["source"] == "INPS" and message["verified_on"] == "2025-03-12"
    assert message["source_url"] == "https://www.inps.it/congedo-paternita"
    assert message["topic"] == "congedo_paternita" and message["language"] == "it"
    # The widget shows the source and the date in one line of its own, not twice.
    assert "Fonte:" not in message["text"] and "Verificato il" not in message["text"]
    assert message["text"].startswith("Congedo di paternità") and message["text"].endswith("Ti è stata utile?")
    assert [b.get("feedback") for b in message["buttons"]] == ["helpful", "not_helpful", None]


def test_the_message_key_travels_to_the_assistant_and_a_malformed_one_is_left_out(client, assistant):
    session = start_session(client)
    for key in ("choice-m4-0", "x" * 101, "<script>", 42):
        response = client.post("/widget/api/messages", headers={"Origin": ASSOCIATION, "X-Widget-Token": session["token"]},
                               json={"session": session["session"], "text": "/feedback_helpful", "lang": "it",
                                     "message_key": key})
        assert response.status_code == 200, response.json
    assert [sent["metadata"].get("message_key") for sent in assistant.received] == ["choice-m4-0", None, None, None]


def test_a_wrong_or_foreign_token_is_refused(client, assistant):
    first, second = start_session(client), start_session(client)
    assert say(client, first, "ciao", token=second["token"]).status_code == 401
    assert say(client, first, "ciao", token="not-a-token").status_code == 401
    response = client.post("/widget/api/messages", json={"session": first["session"], "text": "ciao"})
    assert response.status_code == 401 and response.json["error"] == "session_expired"
    assert assistant.received == []


def test_empty_and_overlong_messages_are_refused_kindly(client, assistant):
    session = start_session(client)
    assert say(client, session, "   ").status_code == 400
    response = say(client, session, "a" * 2001, lang="en")
    assert response.status_code == 413 and "2000" in response.json["message"]
    assert assistant.received == []


def test_an_unreachable_assistant_gets_a_friendly_answer(database):
    client = widget_app(database, f"http://127.0.0.1:{free_port()}").test_client()
    session = start_session(client)
    response = say(client, session, "ciao")
    assert response.status_code == 503
    assert response.json["error"] == "assistant_unavailable"
    assert "non è raggiungibile" in response.json["messages"][0]["text"]
    assert response.headers["Access-Control-Allow-Origin"] == ASSOCIATION


# Origins


def test_an_allowed_origin_gets_cors_headers_and_its_preflight_answered(client):
    preflight = client.options("/widget/api/messages", headers={
        "Origin": ASSOCIATION, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-widget-token"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ASSOCIATION
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Widget-Token" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Origin" in preflight.headers["Vary"]
    session = start_session(client)
    response = updates(client, session)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == ASSOCIATION


def test_another_origin_is_refused_also_at_preflight(client, assistant):
    session = start_session(client)
    evil = "https://evil.example"
    preflight = client.options("/widget/api/messages", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    response = say(client, session, "ciao", origin=evil)
    assert response.status_code == 403 and response.json["error"] == "origin_refused"
    assert "Access-Control-Allow-Origin" not in response.headers
    refused = client.post("/widget/api/session", json={}, headers={"Origin": evil})
    assert refused.status_code == 403
    # The same host on another scheme or port is another origin.
    assert say(client, session, "ciao", origin="http://www.botteghe-mestieri.example").status_code == 403
    assert assistant.received == []


def test_the_desk_itself_and_non_browser_clients_are_allowed(client):
    session = start_session(client, origin="http://localhost")  # the test client's own host: the demo page
    assert say(client, session, "ciao", origin="http://localhost").status_code == 200
    no_origin = client.post("/widget/api/messages", json={"session": session["session"], "text": "ciao"},
                            headers={"X-Widget-Token": session["token"]})
    assert no_origin.status_code == 200 and "Access-Control-Allow-Origin" not in no_origin.headers


def test_origins_are_read_from_the_configuration():
    assert parse_origins("https://a.example, http://LOCALHOST:8080/ ,") == ("https://a.example", "http://localhost:8080")
    assert Settings.from_env({"DIALOGA_WIDGET_ORIGINS": "https://a.example"}).widget_origins == ("https://a.example",)
    for bad in ("a.example", "https://a.example/path", "ftp://a.example"):
        with pytest.raises(ValueError):
            parse_origins(bad)


# Rate limits


def test_too_many_messages_get_429_with_a_friendly_message(database, assistant):
    client = widget_app(database, assistant.url, widget_messages_per_minute=3).test_client()
    session, other = start_session(client), start_session(client)
    for _ in range(3):
        assert say(client, session, "ciao").status_code == 200
    refused = say(client, session, "ciao", lang="en")
    assert refused.status_code == 429
    assert refused.json["error"] == "rate_limited" and "wait a few seconds" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Access-Control-Allow-Origin"] == ASSOCIATION
    assert say(client, other, "ciao").status_code == 200  # the limit is per session
    assert len(assistant.received) == 4


def test_too_many_new_sessions_from_one_address_get_429(database, assistant):
    client = widget_app(database, assistant.url, widget_sessions_per_minute=2).test_client()
    start_session(client), start_session(client)
    response = client.post("/widget/api/session", json={"lang": "it"})
    assert response.status_code == 429 and "velocemente" in response.json["message"]


# Operator replies


def test_operator_replies_come_once_each_by_id_and_are_marked_sent(database, client):
    session = start_session(client)
    ref = open_widget_ticket(database, session["session"])
    assert updates(client, session).json == {"messages": [], "last_id": 0}
    with database.session() as db:
        tickets.reply(db, tickets.find_by_ref(db, ref), "Buongiorno, le rispondo io: sono 10 giorni.", actor="op")
    first = updates(client, session).json
    [reply] = first["messages"]
    assert reply["kind"] == "reply" and reply["text"] == "Buongiorno, le rispondo io: sono 10 giorni."
    assert first["last_id"] == reply["id"]
    with database.session() as db:
        stored = db.get(OutboundMessage, reply["id"])
        assert stored.delivery_status is DeliveryStatus.SENT and stored.sent_at is not None
    assert updates(client, session, after=first["last_id"]).json["messages"] == []
    # At least once from the server: asking again from an older id returns it again (the widget shows ids once).
    assert [m["id"] for m in updates(client, session, after=0).json["messages"]] == [reply["id"]]

    with database.session() as db:
        ticket = tickets.find_by_ref(db, ref)
        tickets.change_status(db, ticket, TicketStatus.RESOLVED, actor="op")
    later = updates(client, session, after=first["last_id"]).json
    [notice] = later["messages"]
    assert notice["kind"] == "resolved" and ref in notice["text"] and notice["id"] > reply["id"]


def test_updates_belong_to_their_session_only(database, client):
    mine, theirs = start_session(client), start_session(client)
    ref = open_widget_ticket(database, theirs["session"])
    with database.session() as db:
        tickets.reply(db, tickets.find_by_ref(db, ref), "Solo per l'altra sessione.", actor="op")
    assert updates(client, mine).json["messages"] == []
    response = client.get(f"/widget/api/updates?session={theirs['session']}&after=0",
                          headers={"Origin": ASSOCIATION, "X-Widget-Token": mine["token"]})
    assert response.status_code == 401
    with database.session() as db:
        assert db.scalars(select(OutboundMessage.status)).all() == [DeliveryStatus.QUEUED.value]


def test_failed_messages_are_not_shown_and_bad_ids_are_refused(database, client):
    session = start_session(client)
    ref = open_widget_ticket(database, session["session"])
    with database.session() as db:
        tickets.reply(db, tickets.find_by_ref(db, ref), "Non consegnabile.", actor="op")
        [message] = outbox.for_address(db, "widget", session["session"])
        outbox.mark_failed(db, message, "gave up")
    assert updates(client, session).json["messages"] == []
    assert client.get(f"/widget/api/updates?session={session['session']}&after=-1",
                      headers={"X-Widget-Token": session["token"]}).status_code == 400


# Office hours, the script and the demo page


def test_office_hours_say_when_the_desk_reopens():
    wednesday_noon_rome = datetime(2026, 11, 25, 11)  # naive UTC
    calendar = BusinessCalendar()
    assert office_hours(calendar, "it", now=wednesday_noon_rome)["open"] is True
    evening = office_hours(calendar, "it", now=wednesday_noon_rome + timedelta(hours=8))
    assert evening["open"] is False and evening["next_opening"].startswith("2026-11-26T09:00")
    assert evening["status"] == "Operatori non in servizio: riapriamo domani alle 09:00"
    assert "lun-ven 09:00-13:00, 14:00-17:00" in evening["intake_notice"]
    friday_evening = office_hours(calendar, "en", now=datetime(2026, 11, 27, 18))
    assert friday_evening["status"] == "Operators are away: back on Monday 30 November at 09:00"


def test_the_hours_endpoint_uses_the_desks_calendar(database, client):
    response = client.get("/widget/api/hours?lang=en", headers={"Origin": ASSOCIATION})
    assert response.status_code == 200 and response.json["hours"] == "Mon-Fri 09:00-13:00, 14:00-17:00"
    assert response.json["open"] == office_hours(BusinessCalendar.from_env(), "en", now=utcnow())["open"]


def test_the_script_and_the_demo_page_are_served(client):
    script = client.get("/widget.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    demo = client.get("/widget/demo").get_data(as_text=True)
    assert 'src="/widget.js" data-lang="it" defer' in demo and "Pagina dimostrativa" in demo
    assert client.get("/widget/demo/servizi").status_code == 200
    assert client.get("/widget/demo/altro").status_code == 404


def test_the_script_never_inserts_markup():
    source = WIDGET_SCRIPT.read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", source)


# Shaping replies


def test_custom_objects_attach_to_the_message_they_follow():
    replies = [
        {"text": "Tu sei:", "buttons": [{"title": "Titolare d'impresa", "payload": "owner"}, {"title": "", "payload": "x"}]},
        {"custom": {"escalation": "intake", "asks": "role"}},
        {"text": "Fatto! Codice DC-7K4M2Q."},
        {"custom": {"ticket": {"ref": "DC-7K4M2Q", "status": "open"}}},
        {"image": "https://example.org/x.png"},
    ]
    assert widget_messages(replies) == [
        {"text": "Tu sei:", "buttons": [{"title": "Titolare d'impresa", "payload": "owner"}],
         "escalation": "intake", "asks": "role"},
        {"text": "Fatto! Codice DC-7K4M2Q.", "buttons": [], "ticket": {"ref": "DC-7K4M2Q", "status": "open"}},
    ]


def test_only_web_addresses_become_source_links():
    [message] = widget_messages([{"text": "Risposta"}, {"custom": {"source": "INPS", "source_url": "javascript:alert(1)"}}])
    assert message["source"] == "INPS" and "source_url" not in message


def test_limits_are_shared_through_redis_when_configured(database, assistant):
    settings = dict(widget_messages_per_minute=1, redis_url="redis://127.0.0.1:6379/0")
    first_process, second_process = widget_app(database, assistant.url, **settings), widget_app(database, assistant.url, **settings)
    session = start_session(first_process.test_client())
    assert say(first_process.test_client(), session, "ciao").status_code == 200
    assert say(second_process.test_client(), session, "ciao").status_code == 429


def test_the_language_of_the_assistants_own_sentences_is_recognised():
    from actions.texts import TEXTS
    from bot.widget.replies import language_of_reply

    assert language_of_reply(TEXTS["cannot_answer"]["en"]) == "en"
    assert language_of_reply(TEXTS["ask_role"]["it"]) == "it"
    assert language_of_reply("Sì") is None  # too short to say: the widget keeps its language
    bilingual = {"foreign_language"}
    wrong = [(key, language) for key, variants in TEXTS.items() if key not in bilingual
             for language, text in variants.items() if language_of_reply(text) not in (language, None)]
    assert wrong == []
    [offer] = widget_messages([{"text": TEXTS["cannot_answer"]["en"], "buttons": []}, {"custom": {"escalation": "offer"}}])
    assert offer["language"] == "en"
