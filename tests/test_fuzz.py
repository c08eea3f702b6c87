"""Bad input at scale: property-based fuzzing (hypothesis, derandomized so CI is reproducible)
of every way in from the public and of the desk's forms.

- the widget's endpoints (session, messages, updates, hours, preflight) with random JSON,
  random headers and tokens, random query strings, huge and deeply nested bodies;
- Telegram's webhook endpoint with random update JSON, and the gateway's update handlers
  with random updates (python-telegram-bot's Application against the fake Bot API);
- the REST path every gateway uses (desk.services.conversations) with random text, against
  a real HTTP stand-in for the assistant;
- every form of the desk, posted by a logged-in administrator with a valid CSRF token.

Each run checks: no 5xx, no crash, a clear error for each refusal, and no row stored by a
refused request. 10,000 generated inputs in all (EXAMPLES; each test checks that it ran its share)."""
from __future__ import annotations

import asyncio
import json
import logging
import string
import unicodedata
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desk.config import Settings
from tests.support.desk import desk_settings
from desk.db import Database
from desk.models import Base, Role
from desk.services.conversations import AssistantClient, InboundMessage
from desk.text import user_text
from desk.web import create_app
from tests.support.databases import seeded_sqlite_database
from tests.support.web_server import RecordingAssistant, serving

EXAMPLES = {"widget": 2500, "webhook": 2000, "route": 2500, "telegram": 500, "desk_forms": 2500}
ORIGIN = "https://www.botteghe-mestieri.example"
WEBHOOK_SECRET = "webhook-secret-0123456789"


RUNS: Dict[str, int] = {}


def ran(name: str) -> None:
    RUNS[name] = RUNS.get(name, 0) + 1


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


# --- strategies --------------------------------------------------------------------------------

# Text as users (and attackers) type it: any code point, surrogates and controls included.
any_text = st.text(st.characters(codec=None, blacklist_categories=()), max_size=80)
hostile_text = st.one_of(
    any_text,
    st.sampled_from(["", " ", "\x00", "\ud800", "\u0085\u009f", "\ufdd0\uffff", "\u202e", "DC-ZZZZZZ", "/start",
                     "/stato DC-0000AA", "<script>alert(1)</script>", "{{7*7}}", "a" * 3000, "\n" * 500, "١٢"]),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63), st.floats(),
                         hostile_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)), max_leaves=12)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=600)  # what HTTP headers can carry


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def raw_bodies(shaped: st.SearchStrategy) -> st.SearchStrategy:
    """Bodies as the endpoint expects them, random JSON, random bytes, deep nesting, huge bodies."""
    return st.one_of(
        shaped.map(json_bytes),
        json_values.map(json_bytes),
        st.binary(max_size=300),
        st.integers(1, 70_000).map(lambda depth: b"[" * depth),
        st.integers(1, 70_000).map(lambda depth: b'{"a":' * depth),
        st.integers(60_000, 80_000).map(lambda size: b'{"text": "' + b"x" * size + b'"}'),
    )


# --- the database and the assistant's stand-in ---------------------------------------------------

def row_counts(database: Database) -> Dict[str, int]:
    """Rows per table, in one query."""
    counts = [select(func.count()).select_from(table).scalar_subquery().label(table.name)
              for table in Base.metadata.sorted_tables]
    with database.session() as session:
        return dict(session.execute(select(*counts)).one()._mapping)


@pytest.fixture(scope="module")
def fuzz_database(tmp_path_factory):
    database = seeded_sqlite_database(tmp_path_factory.mktemp("fuzz"), "fuzz.db")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def stand_in_assistant():
    assistant = RecordingAssistant(lambda payload: [{"recipient_id": payload.get("sender"), "text": "Risposta di prova",
                                                     "buttons": [{"title": "Sì", "payload": "/affirm"}]}])
    with serving(assistant) as url:
        assistant.url = url
        yield assistant


def fuzz_app(database: Database, assistant_url: str, tmp_path, **overrides):
    values = dict(database_url=database.url, rasa_url=assistant_url, widget_origins=(ORIGIN,),
                  widget_messages_per_minute=10**6, widget_polls_per_minute=10**6, widget_sessions_per_minute=10**6,
                  telegram_mode="webhook", telegram_webhook_secret=WEBHOOK_SECRET, learned_nlu_dir=tmp_path / "nlu",
                  spool_dir=tmp_path / "spool")
    values.update(overrides)
    app = create_app(desk_settings(**values), database=database)
    app.testing = True
    return app


@pytest.fixture(scope="module")
def app(fuzz_database, stand_in_assistant, tmp_path_factory):
    return fuzz_app(fuzz_database, stand_in_assistant.url, tmp_path_factory.mktemp("app"))


def assert_clear_error(response, needs_message: bool = True) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.is_json, (response.status_code, response.get_data(as_text=True)[:200])
        assert response.json.get("error"), response.json
        if needs_message:
            assert response.json.get("message"), response.json


# --- the widget ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def widget_session(app):
    response = app.test_client().post("/widget/api/session", json={"lang": "it"}, headers={"Origin": ORIGIN})
    return response.json


def widget_request(session: Dict[str, str]):
    tokens = st.one_of(st.none(), st.just(session["token"]), header_text, st.just(session["token"] + "x"))
    origins = st.one_of(st.none(), st.just(ORIGIN), st.just("http://localhost"), header_text)
    session_ids = st.one_of(st.just(session["session"]), json_values)
    message = st.fixed_dictionaries({}, optional={"session": session_ids, "text": st.one_of(hostile_text, json_values),
                                                  "lang": st.one_of(st.sampled_from(["it", "en"]), json_values)})
    query = st.dictionaries(st.sampled_from(["lang", "session", "after", "x"]) | st.text(max_size=5),
                            st.one_of(st.sampled_from([session["session"], "0", "١٢", "9" * 25, "-1", "en"]), hostile_text),
                            max_size=4)
    return st.fixed_dictionaries({
        "endpoint": st.sampled_from(["session", "messages", "updates", "hours", "preflight"]),
        "token": tokens, "origin": origins, "language": st.one_of(st.none(), header_text),
        "body": raw_bodies(message), "query": query,
    })


def test_the_widget_endpoints_answer_any_input_with_a_clear_4xx_or_a_reply(app, widget_session, fuzz_database,
                                                                           stand_in_assistant):
    client = app.test_client()
    before = row_counts(fuzz_database)

    @fuzz(EXAMPLES["widget"])
    @given(widget_request(widget_session))
    def check(request):
        ran("widget")
        headers = {name: value for name, value in (("X-Widget-Token", request["token"]), ("Origin", request["origin"]),
                                                    ("Accept-Language", request["language"])) if value is not None}
        headers["Content-Type"] = "application/json"
        query = {key: value.encode("utf-8", "surrogatepass") for key, value in request["query"].items()}
        received = len(stand_in_assistant.received)
        endpoint = request["endpoint"]
        if endpoint == "preflight":
            response = client.options("/widget/api/messages", headers=headers, query_string=query)
        elif endpoint in ("updates", "hours"):
            response = client.get(f"/widget/api/{endpoint}", headers=headers, query_string=query)
        else:
            response = client.post(f"/widget/api/{endpoint}", data=request["body"], headers=headers, query_string=query)
        assert_clear_error(response)
        if endpoint == "messages" and response.status_code == 200:
            sent = stand_in_assistant.received[-1]["message"]
            assert sent == user_text(sent) and sent, sent  # cleaned once, never empty
        elif endpoint != "messages" or response.status_code >= 400:
            assert len(stand_in_assistant.received) == received  # a refused message never reaches the assistant

    check()
    assert RUNS["widget"] >= EXAMPLES["widget"]
    assert row_counts(fuzz_database) == before  # the widget itself stores nothing


# --- Telegram's webhook ----------------------------------------------------------------------------

telegram_users = st.fixed_dictionaries({"id": st.integers(1, 2**40), "is_bot": st.booleans(), "first_name": hostile_text},
                                       optional={"language_code": st.one_of(st.sampled_from(["it", "en"]), hostile_text)})
telegram_chats = st.fixed_dictionaries({"id": st.integers(-(2**40), 2**40),
                                        "type": st.sampled_from(["private", "group", "supergroup", "channel"])})


def entities(text: str):
    return st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(["bot_command", "mention", "url", "bold", "text_link"]),
        "offset": st.integers(0, max(len(text), 1)), "length": st.integers(0, len(text) + 3)}), max_size=3)


@st.composite
def telegram_messages(draw):
    text = draw(st.one_of(hostile_text, st.sampled_from(["/start", "/stato", "/stato DC-7K4M2Q", "/aiuto", "/operatore",
                                                        "/bot", "/status x y", "/unknown", "/start@dialoga_test_bot"])))
    message = {"message_id": draw(st.integers(1, 2**31)), "date": draw(st.integers(0, 2**31)),
               "chat": draw(telegram_chats), "from": draw(telegram_users)}
    kind = draw(st.sampled_from(["text", "text", "sticker", "location", "caption"]))
    if kind == "text":
        message.update(text=text, entities=draw(entities(text)))
    elif kind == "sticker":
        message["sticker"] = {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": False,
                              "is_video": False, "type": "regular"}
    elif kind == "location":
        message["location"] = {"latitude": draw(st.floats(-90, 90)), "longitude": draw(st.floats(-180, 180))}
    else:
        message["caption"] = text
    return message


@st.composite
def telegram_updates(draw):
    update = {"update_id": draw(st.integers(0, 2**62))}
    kind = draw(st.sampled_from(["message", "message", "callback_query", "edited_message", "other"]))
    if kind in ("message", "edited_message"):
        update[kind] = draw(telegram_messages())
    elif kind == "callback_query":
        update["callback_query"] = {"id": draw(st.text(string.digits, min_size=1, max_size=10)), "from": draw(telegram_users),
                                    "chat_instance": "ci", "data": draw(hostile_text),
                                    "message": draw(telegram_messages())}
    else:
        update[draw(st.text(string.ascii_lowercase, min_size=1, max_size=12))] = draw(json_values)
    return update


def test_the_telegram_webhook_answers_any_input_with_a_clear_4xx_or_stores_the_update(app, fuzz_database):
    from desk.models import TelegramUpdate

    client = app.test_client()
    bodies = raw_bodies(st.one_of(telegram_updates(), st.fixed_dictionaries({"update_id": json_values}),
                                  st.dictionaries(hostile_text, json_values, max_size=3)))

    @fuzz(EXAMPLES["webhook"])
    @given(bodies, st.one_of(st.just(WEBHOOK_SECRET), st.none(), header_text))
    def check(body, secret):
        ran("webhook")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        before = row_counts(fuzz_database)
        response = client.post("/telegram/webhook", data=body, headers=headers)
        assert_clear_error(response, needs_message=False)
        after = row_counts(fuzz_database)
        if response.status_code != 200:
            assert after == before
        else:
            assert after["telegram_updates"] - before["telegram_updates"] in (0, 1)
            assert {k: v for k, v in after.items() if k != "telegram_updates"} == {
                k: v for k, v in before.items() if k != "telegram_updates"}

    check()
    assert RUNS["webhook"] >= EXAMPLES["webhook"]
    with fuzz_database.session() as session:
        for row in session.scalars(select(TelegramUpdate)):
            json.dumps(row.payload).encode("utf-8")  # what was stored can be read back and sent on


# --- the gateways' REST path -------------------------------------------------------------------------

def test_every_text_reaches_the_assistant_cleaned_once(stand_in_assistant):
    assistant = AssistantClient(stand_in_assistant.url, timeout=10)

    @fuzz(EXAMPLES["route"])
    @given(st.sampled_from(["telegram", "widget", "rest"]), hostile_text, hostile_text,
           st.one_of(st.none(), st.sampled_from(["it", "en"]), hostile_text))
    def check(channel, address, text, hint):
        ran("route")
        replies = assistant.route(InboundMessage(channel, address, text, hint))
        assert replies and replies[0]["text"] == "Risposta di prova"
        sent = stand_in_assistant.received[-1]["message"]
        assert sent == user_text(sent) and unicodedata.is_normalized("NFC", sent)
        assert not any(unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t" for char in sent)

    try:
        check()
    finally:
        assistant.close()
    assert RUNS["route"] >= EXAMPLES["route"]


# --- the gateway's update handlers --------------------------------------------------------------------

class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_gateways_handlers_survive_any_update(fuzz_database, stand_in_assistant):
    from telegram import Update

    from bot.telegram.gateway import TelegramGateway
    from desk.services.conversations import AsyncAssistantClient
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.telegram import gateway_settings

    errors = _Errors()
    for name in ("bot.telegram", "telegram.ext"):
        logging.getLogger(name).addHandler(errors)
    loop = asyncio.new_event_loop()
    try:
        with FakeTelegram() as fake:
            settings_ = gateway_settings(fake, fuzz_database, stand_in_assistant.url)
            gateway = TelegramGateway(settings_, fuzz_database, AsyncAssistantClient(stand_in_assistant.url, timeout=10))
            application = gateway.build_application()
            loop.run_until_complete(application.initialize())

            @fuzz(EXAMPLES["telegram"])
            @given(telegram_updates())
            def check(payload):
                ran("telegram")
                update = Update.de_json(payload, application.bot)
                loop.run_until_complete(application.process_update(update))
                assert not errors.records, [record.getMessage() for record in errors.records]

            try:
                check()
            finally:
                loop.run_until_complete(application.shutdown())
                loop.run_until_complete(gateway.assistant.close())
            assert fake.calls_of("sendMessage", ok_only=True)  # the handlers did answer
            assert RUNS["telegram"] >= EXAMPLES["telegram"]
    finally:
        for name in ("bot.telegram", "telegram.ext"):
            logging.getLogger(name).removeHandler(errors)
        loop.close()


# --- the desk's forms ------------------------------------------------------------------------------

FIELD_NAMES = sorted("""active address answer_en answer_it area assignee back base_version body channel confidence
confidence_note decision digest display_name email example from group kind language municipality name note notes
opening_hours password phone queue_args role source source_url status title title_en title_it to to_complete topic
topics unconfirmed unconfirmed_points verified_on wait website""".split())


@pytest.fixture(scope="module")
def desk_objects(fuzz_database):
    """One of each thing the forms act on, so that most posts reach real rows."""
    from desk.models import Role as UserRole
    from desk.services import canned, directory, tickets, users
    from desk.services.business_hours import BusinessCalendar
    from desk.models.base import utcnow
    from tests.support.desk import make_user

    make_user(fuzz_database, UserRole.ADMIN)
    with fuzz_database.session() as session:
        other = users.create_user(session, "victim@sportello.example", "Vittima", "una-password-lunga", UserRole.OPERATOR)
        ticket = tickets.open_ticket(session, tickets.TicketIntake(
            intake_key=None, channel="rest", reply_address="r", conversation_id="rest-r", language="it", role="worker",
            name="Anna", contact="anna@example.org", contact_kind="email", company_name="", question="Una domanda di prova",
            consent_at=utcnow()), BusinessCalendar())
        reply = canned.create(session, "Saluto", "Buongiorno {nome}", "it", "admin@sportello.example")
        directory.seed_directory(session, Settings().directory_file)
        point = directory.list_points(session)[0]
        return {"user": other.id, "ref": ticket.ref, "canned": reply.id, "point": point.id}


def form_posts(objects):
    ints = st.one_of(st.just(1), st.integers(-5, 50), st.integers(min_value=2**31), st.just(2**70))
    refs = st.one_of(st.just(objects["ref"]), st.just(objects["ref"].lower()), hostile_text.filter(lambda t: "/" not in t))
    topics = st.one_of(st.sampled_from(["congedo_parentale", "fringe_benefit"]), hostile_text.filter(lambda t: "/" not in t))
    endpoints = st.one_of(
        st.just("/admin/users"),
        st.tuples(st.sampled_from(["active", "password", "role"])).map(lambda p: f"/admin/users/{objects['user']}/{p[0]}"),
        st.tuples(st.one_of(st.just(objects["point"]), ints), st.sampled_from(["", "/delete"])).map(lambda p: f"/directory/{p[0]}{p[1]}"),
        st.just("/directory/new"),
        st.tuples(topics, st.sampled_from(["", "/preview"])).map(lambda p: f"/knowledge/{p[0]}{p[1]}"),
        st.tuples(topics, ints).map(lambda p: f"/knowledge/{p[0]}/versions/{p[1]}/revert"),
        st.sampled_from(["/learning/dismiss", "/learning/draft", "/learning/label", "/learning/label/preview"]),
        ints.map(lambda n: f"/learning/drafts/{n}/status"),
        st.tuples(st.one_of(st.just(objects["canned"]), ints), st.sampled_from(["disattiva", "modifica", "riattiva"]))
        .map(lambda p: f"/risposte-predefinite/{p[0]}/{p[1]}"),
        st.just("/risposte-predefinite/nuova"),
        st.tuples(refs, st.sampled_from(["assegna", "nota", "prendi", "risposta", "stato"])).map(lambda p: f"/ticket/{p[0]}/{p[1]}"),
    )
    values = st.one_of(hostile_text, st.sampled_from(["", "0", "1", "on", "it", "en", "resolved", "open", "2026-13-45",
                                                       "2099-01-01", "http://x", "javascript:alert(1)", "admin",
                                                       "operator", "ignored", "congedo_parentale", "9" * 30]))
    fields = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6)),
                             st.one_of(values, st.lists(values, max_size=3)), max_size=8)
    return st.tuples(endpoints, fields)


def test_every_desk_form_answers_any_input_without_a_server_error(app, fuzz_database, desk_objects):
    from urllib.parse import quote

    from tests.support.desk import csrf_token_of, log_in, make_user

    client = app.test_client()
    admin = make_user(fuzz_database, Role.ADMIN)
    assert log_in(client, admin).status_code == 302
    token = csrf_token_of(client.get("/coda").get_data(as_text=True))

    @fuzz(EXAMPLES["desk_forms"])
    @given(form_posts(desk_objects))
    def check(post):
        ran("desk_forms")
        path, fields = post
        url = quote(path.encode("utf-8", "surrogatepass"), safe="/")
        data = {key.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): value for key, value in fields.items()}
        data = {key: ([v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for v in value]
                      if isinstance(value, list) else value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
                for key, value in data.items()}
        before = row_counts(fuzz_database)
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code < 500, (url, data, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert row_counts(fuzz_database) == before, (url, data)
            assert response.get_data(as_text=True).strip()  # a page or JSON that says what went wrong
        assert "/login" not in response.headers.get("Location", "")  # nothing the forms do logs the admin out

    check()
    assert RUNS["desk_forms"] >= EXAMPLES["desk_forms"]
