"""Fault drills on a production-like stack (tests/support/production.py: the processes of
Procfile.prod behind the project's nginx, on a throwaway PostgreSQL database and a throwaway
redis-server). Each drill ends with a count of what was lost, which must be zero.

Conversations go the way users' do: through nginx's public port to the desk's widget endpoints,
which reach the assistants through nginx's balancer. A client that gets the widget's
"assistant unavailable" answer sends its message again after a moment, as the widget tells users.
The stack is shared by the drills of this module (starting two Rasa servers is the slow part), so
each drill leaves it able to answer: the first kills an assistant for good, the others run on the
one left."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from desk.cli import main as cli_main
from desk.db import Database
from desk.models import AnswerFeedback, OutboundMessage, TelegramUpdate, Ticket
from desk.services import tickets as ticket_service
from tests.support.databases import prepare_database
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.pg_cluster import ThrowawayCluster
from tests.support.production import ProductionStack, production_stack
from tests.support.smtp_server import RecordingHandler, smtp_server
from tests.support.stack import free_port
from tests.test_tickets import open_one

pytestmark = [pytest.mark.e2e, pytest.mark.drill, pytest.mark.timeout(600)]

RETRY_PAUSE = 1.0
MAX_ATTEMPTS = 20


@pytest.fixture(scope="module")
def drill_cluster():
    """A PostgreSQL cluster of the drills' own, which drill 3 restarts (never the machine's)."""
    cluster = ThrowawayCluster().init()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def drill_database(drill_cluster):
    admin = create_engine(drill_cluster.url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "dialoga"'))
    admin.dispose()
    url = drill_cluster.url.rsplit("/", 1)[0] + "/dialoga"
    prepare_database(url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def stack(drill_database, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("drill")
    extra = {"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "drill-webhook-secret"}
    with production_stack(drill_database.url, work_dir, extra_env=extra) as running:
        yield running


@dataclass
class WidgetUser:
    """One widget conversation through nginx; counts the answers it had to ask again for."""

    base_url: str
    language: str = "it"
    session: str = ""
    token: str = ""
    retries: int = 0
    apologies: List[str] = field(default_factory=list)
    # Drill 3: an answer with no message (Rasa failed on its database) is asked again, as a user would.
    retry_empty: bool = False

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=60)
        created = self.client.post("/widget/api/session", json={"lang": self.language})
        created.raise_for_status()
        self.session, self.token = created.json()["session"], created.json()["token"]

    def send_once(self, message: str, request_id: Optional[str] = None,
                  message_key: Optional[str] = None) -> httpx.Response:
        headers = {"X-Widget-Token": self.token}
        if request_id:
            headers["X-Request-ID"] = request_id
        body = {"session": self.session, "text": message, "lang": self.language}
        if message_key:
            body["message_key"] = message_key
        return self.client.post("/widget/api/messages", headers=headers, json=body)

    def say(self, message: str, retry: bool = True, message_key: Optional[str] = None) -> List[Dict[str, Any]]:
        # One idempotency key per message, the same on every retry, as the widget does.
        message_key = message_key or f"drill-{uuid.uuid4().hex}"
        for _ in range(MAX_ATTEMPTS):
            response = self.send_once(message, message_key=message_key)
            if response.status_code == 200 and (response.json()["messages"] or not self.retry_empty):
                return response.json()["messages"]
            if response.status_code == 200:
                self.retries += 1
                time.sleep(RETRY_PAUSE)
                continue
            assert response.status_code in (502, 503, 504), (response.status_code, response.text)
            if response.status_code == 503 and "messages" in response.json():
                self.apologies.append(response.json()["message"])
            if not retry:
                return []
            self.retries += 1
            time.sleep(RETRY_PAUSE)
        raise AssertionError(f"no answer to {message!r} after {MAX_ATTEMPTS} attempts")

    def close(self) -> None:
        self.client.close()


def merged(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for message in messages:
        out.update({key: value for key, value in message.items() if key != "text"})
    return out


# The ticket form, step by step: (message, what the assistant must ask next or give).
def form_steps(number: int) -> List[tuple]:
    return [
        ("vorrei parlare con un operatore", ("asks", "role")),
        ("lavoratrice", ("asks", "name")),
        (f"Anna Drill{number}", ("asks", "contact")),
        (f"anna.drill{number}@example.org", ("asks", "question")),
        (f"Posso chiedere il part-time dopo il congedo parentale? (caso {number})", ("asks", "consent")),
        ("/affirm", ("ticket", None)),
    ]


# An answer, then a rating of it: the rating is recorded with the answer's topic only if the
# conversation's state (the last_topic slot) survived.
ANSWER_STEPS = [
    ("quanti giorni di congedo di paternità spettano al padre lavoratore?", ("topic", None)),
    ("/feedback_helpful", ("reply", None)),
]


def run_conversation(user: WidgetUser, steps: List[tuple], outcome: Dict[str, Any], progress: List[int],
                     lock: threading.Lock) -> None:
    try:
        for message, (key, expected) in steps:
            messages = user.say(message)
            found = merged(messages)
            if key == "reply":
                assert messages, f"no reply to {message!r}"
            elif expected is None:
                assert key in found, (message, found)
                outcome[key] = found[key]
            else:
                assert found.get(key) == expected, (message, found)
            with lock:
                progress[0] += 1
        outcome["done"] = True
    except BaseException as error:  # recorded, then counted as a lost conversation
        outcome["error"] = repr(error)


def tickets_of(database: Database, addresses: List[str]) -> Dict[str, int]:
    with database.session() as session:
        rows = session.execute(
            select(Ticket.reply_address, func.count()).where(Ticket.reply_address.in_(addresses))
            .group_by(Ticket.reply_address)
        ).all()
    return {address: count for address, count in rows}


def feedback_of(database: Database, conversation_ids: List[str]) -> Dict[str, int]:
    with database.session() as session:
        rows = session.execute(
            select(AnswerFeedback.conversation_id, func.count())
            .where(AnswerFeedback.conversation_id.in_(conversation_ids)).group_by(AnswerFeedback.conversation_id)
        ).all()
    return {conversation: count for conversation, count in rows}


def test_drill_1_an_assistant_killed_mid_conversations_loses_nothing(stack, drill_database):
    forms, answers = 12, 8
    users = [WidgetUser(stack.public_url) for _ in range(forms + answers)]
    scripts = [form_steps(number) for number in range(forms)] + [ANSWER_STEPS] * answers
    outcomes: List[Dict[str, Any]] = [{} for _ in users]
    progress, lock = [0], threading.Lock()
    threads = [threading.Thread(target=run_conversation, args=(user, steps, outcome, progress, lock))
               for user, steps, outcome in zip(users, scripts, outcomes)]
    total_steps = sum(len(steps) for steps in scripts)
    for thread in threads:
        thread.start()
    while progress[0] < total_steps // 3 and any(thread.is_alive() for thread in threads):
        time.sleep(0.05)
    stack.kill("assistant1")  # SIGKILL, with messages in flight and forms half filled
    killed_at = progress[0]
    for thread in threads:
        thread.join(timeout=400)

    form_users, answer_users = users[:forms], users[forms:]
    tickets = tickets_of(drill_database, [user.session for user in form_users])
    feedback = feedback_of(drill_database, [f"widget-{user.session}" for user in answer_users])
    unfinished = [outcome.get("error", "still running") for outcome in outcomes if not outcome.get("done")]
    missing_tickets = sum(1 for user in form_users if tickets.get(user.session, 0) == 0)
    duplicate_tickets = sum(count - 1 for count in tickets.values() if count > 1)
    missing_feedback = sum(1 for user in answer_users if feedback.get(f"widget-{user.session}", 0) != 1)
    lost = len(unfinished) + missing_tickets + duplicate_tickets + missing_feedback
    print(f"drill 1: killed assistant1 after {killed_at}/{total_steps} steps; "
          f"client retries {sum(user.retries for user in users)}; lost {lost}")
    assert 0 < killed_at < total_steps
    assert unfinished == []
    assert (missing_tickets, duplicate_tickets) == (0, 0)
    # A rating whose action ran on the killed instance before Rasa saved the conversation runs again
    # when the client retries on the other one: the message's idempotency key records it once.
    assert missing_feedback == 0, feedback
    assert lost == 0
    # The conversations of the killed instance went on in the other one: it now has every one of them.
    assert not stack.is_running("assistant1")
    for user in users:
        user.close()


def test_drill_2_an_action_server_killed(stack, drill_database):
    # One of two killed: nginx routes around it, users notice nothing.
    users = [WidgetUser(stack.public_url) for _ in range(6)]
    outcomes: List[Dict[str, Any]] = [{} for _ in users]
    progress, lock = [0], threading.Lock()
    threads = [threading.Thread(target=run_conversation, args=(user, form_steps(100 + number), outcome, progress, lock))
               for number, (user, outcome) in enumerate(zip(users, outcomes))]
    for thread in threads:
        thread.start()
    while progress[0] < 8 and any(thread.is_alive() for thread in threads):
        time.sleep(0.05)
    stack.kill("actions1")
    for thread in threads:
        thread.join(timeout=300)
    tickets = tickets_of(drill_database, [user.session for user in users])
    lost = sum(1 for outcome in outcomes if not outcome.get("done")) + \
        sum(1 for user in users if tickets.get(user.session) != 1)
    print(f"drill 2a: actions1 killed; client retries {sum(user.retries for user in users)}; lost {lost}")
    assert lost == 0, outcomes

    # Both down: a short apology in the user's language, not silence.
    stack.kill("actions2")
    italian, english = WidgetUser(stack.public_url, "it"), WidgetUser(stack.public_url, "en")
    assert italian.say("quanti giorni di congedo di paternità spettano?", retry=False) == []
    assert english.say("how many days of paternity leave does a father get?", retry=False) == []
    assert italian.apologies and "assistente non è raggiungibile" in italian.apologies[0]
    assert english.apologies and "assistant cannot be reached" in english.apologies[0]

    # Back: the same users get their answers.
    stack.start("actions1")
    stack.wait_until_up(["actions1"], timeout=180)
    assert merged(italian.say("quanti giorni di congedo di paternità spettano al padre?")).get("topic")
    assert merged(english.say("how many days of paternity leave does a father get?")).get("topic")
    for user in users + [italian, english]:
        user.close()


def test_drill_3_postgresql_restarted_while_escalations_complete(stack, drill_database, drill_cluster):
    users = [WidgetUser(stack.public_url, retry_empty=True) for _ in range(6)]
    outcomes: List[Dict[str, Any]] = [{} for _ in users]
    progress, lock = [0], threading.Lock()
    threads = [threading.Thread(target=run_conversation, args=(user, form_steps(300 + number), outcome, progress, lock))
               for number, (user, outcome) in enumerate(zip(users, outcomes))]
    for thread in threads:
        thread.start()
    while progress[0] < 14 and any(thread.is_alive() for thread in threads):
        time.sleep(0.05)
    restarted_at = progress[0]
    ready_urls = [stack.health_url("assistant2"), stack.health_url("actions1")]
    assert [httpx.get(url, timeout=10).status_code for url in ready_urls] == [200, 200]
    drill_cluster.stop()  # fast shutdown: every connection of the desk, the actions and Rasa is cut
    stopped = time.monotonic()
    # The readiness routes say it: the assistant's tracker store and the action server's database are gone.
    during_outage = [httpx.get(url, timeout=10) for url in ready_urls]
    time.sleep(max(0.0, 2 - (time.monotonic() - stopped)))
    drill_cluster.start()
    for thread in threads:
        thread.join(timeout=300)
    # Intakes completed while the database was down were spooled; the worker registers them.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tickets = tickets_of(drill_database, [user.session for user in users])
        if all(tickets.get(user.session) for user in users):
            break
        time.sleep(1)
    refs = {user.session: outcome.get("ticket", {}).get("ref") for user, outcome in zip(users, outcomes)}
    with drill_database.session() as session:
        stored = dict(session.execute(select(Ticket.reply_address, Ticket.ref)
                                      .where(Ticket.reply_address.in_(list(refs)))).all())
    unfinished = [outcome.get("error", "still running") for outcome in outcomes if not outcome.get("done")]
    lost = len(unfinished) + sum(1 for user in users if tickets.get(user.session, 0) != 1) + \
        sum(1 for session_id, ref in refs.items() if stored.get(session_id) != ref)
    print(f"drill 3: PostgreSQL restarted after {restarted_at}/{6 * 6} steps; client retries "
          f"{sum(user.retries for user in users)}; lost {lost}")
    assert 0 < restarted_at < 6 * 6
    assert unfinished == [] and lost == 0, (unfinished, tickets, refs, stored)
    assert [response.status_code for response in during_outage] == [503, 503], [r.text for r in during_outage]
    assert during_outage[0].json()["tracker_store"]["state"] == "unreachable"
    assert during_outage[0].json()["model"] == {"state": "ok"}
    assert during_outage[1].json()["database"] == {"state": "unreachable"}
    assert [httpx.get(url, timeout=10).json()["status"] for url in ready_urls] == ["ok", "ok"]
    for user in users:
        user.close()


def test_drill_4_redis_down_the_assistant_answers_and_limits_hold(stack):
    user = WidgetUser(stack.public_url)
    stack.redis.stop()
    try:
        health = httpx.get(f"{stack.public_url}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["status"] == "degraded" and health.json()["redis"] == {"state": "unreachable"}

        answered = [merged(user.say(question, retry=False)).get("topic") for question in (
            "quanti giorni di congedo di paternità spettano al padre lavoratore?",
            "come funziona lo smart working?",
        )]
        lost = sum(1 for topic in answered if not topic) + len(user.apologies)
        print(f"drill 4: Redis down; unanswered {lost}")
        assert lost == 0, (answered, user.apologies)
        rasa_log = stack.log_of("assistant2").read_text(errors="replace")
        assert "lock store degraded: Redis unreachable" in rasa_log
        # The assistant's readiness: still serving (200), its lock store degraded.
        ready = httpx.get(stack.health_url("assistant2"), timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
        assert ready.json()["lock_store"]["state"] == "unreachable"

        # The poll limit (20 a minute) still holds, counted in each desk process's memory
        # (DIALOGA_DESK_WORKERS=2): at most twice the limit goes through.
        statuses = [user.client.get("/widget/api/updates", headers={"X-Widget-Token": user.token},
                                    params={"session": user.session, "after": 0}).status_code
                    for _ in range(41)]
        assert 429 in statuses and statuses.count(200) <= 40
    finally:
        stack.redis.start()
    health = httpx.get(f"{stack.public_url}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["redis"] == {"state": "ok"}
    assert merged(user.say("quanti giorni di congedo di paternità spettano al padre?")).get("topic")
    user.close()


# Drill 5: the shortened form in `make drills`; DIALOGA_DRILL_FULL=1 runs the full form (BENCHMARKS.md).
FULL = os.environ.get("DIALOGA_DRILL_FULL") == "1"
DRILL5_CHATS, DRILL5_REPLIES_PER_CHAT, DRILL5_ROUNDS = (30, 4, 3) if FULL else (6, 3, 1)
DRILL5_READ_TIMEOUT = 2.0  # generous: a loaded machine must not time out the prompt answers


def post_marked_replies(database: Database, ticket, prefix: str, count: int,
                        value_of: Callable[[Any], Any]) -> Dict[str, Any]:
    """`count` operator replies on the ticket, each with its own marker ("<prefix>-<n>") in the text
    so that the drill can count it at the other end: {marker: value_of(session) right after it}."""
    markers: Dict[str, Any] = {}
    with database.session() as session:
        current = ticket_service.find_by_ref(session, ticket.ref)
        for reply in range(count):
            marker = f"{prefix}-{reply}"
            ticket_service.reply(session, current, f"Risposta {reply + 1} ({marker}).", actor="op@drill",
                                 set_waiting=False)
            markers[marker] = value_of(session)
    return markers


def plan_bot_api_trouble(fake: FakeTelegram) -> int:
    """One round of trouble on sendMessage, in the order the calls arrive: flood control, server
    errors, a timeout (the message arrives, the answer comes after the gateway gave up), and a slow
    answer during which the test kills the gateway. Returns the number of calls the round spans;
    the kill comes at its last one."""
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake.delay("sendMessage", 0.05)
    fake.fail("sendMessage", 500, "Internal Server Error")
    fake.delay("sendMessage", 0.05)
    fake.delay("sendMessage", DRILL5_READ_TIMEOUT * 2)  # a timeout: delivered, never answered in time
    fake.fail("sendMessage", 502, "Bad Gateway")
    fake.delay("sendMessage", 0.05)
    fake.delay("sendMessage", DRILL5_READ_TIMEOUT * 0.8)  # answered too late for the killed gateway
    return 8


def deliver_through_restarts(gateway: ProductionStack, fake: FakeTelegram, kill_calls: List[int],
                             markers: Dict[str, int], delivered, database: Database) -> Dict[str, int]:
    """Kill the gateway at each planned call, restart it, stop it cleanly once more; wait until every
    reply reached the Bot API and every message has its final state. Returns the states' counts."""
    def sends_received() -> int:
        return sum(1 for call in list(fake.received) if call.method == "sendMessage")

    for kill_at in kill_calls:
        fake.wait_for(lambda: sends_received() >= kill_at, timeout=120, what=f"{kill_at} sendMessage calls")
        time.sleep(DRILL5_READ_TIMEOUT * 0.3)  # the request is at the Bot API, its answer not yet back
        gateway.kill("telegram")  # SIGKILL: no chance to record anything
        gateway.start("telegram")
    if FULL:  # a clean restart too (SIGTERM, as honcho or systemd do) in the middle of the deliveries
        fake.wait_for(lambda: sum(1 for count in delivered().values() if count) >= len(markers) * 3 // 4,
                      timeout=120, what="three quarters of the replies")
        gateway.kill("telegram", signal.SIGTERM)
        gateway.start("telegram")
    fake.wait_for(lambda: all(delivered().values()), timeout=120, what="every reply")
    addresses = sorted({str(chat) for chat in markers.values()})

    def settled():
        with database.session() as session:
            states = dict(session.execute(
                select(OutboundMessage.status, func.count())
                .where(OutboundMessage.channel == "telegram", OutboundMessage.address.in_(addresses))
                .group_by(OutboundMessage.status)).all())
        return states if set(states) <= {"sent", "unconfirmed"} else None

    # The message in flight when the gateway was killed stays "sending" until its lease ends.
    return fake.wait_for(settled, timeout=60, what="every message sent or unconfirmed")


def test_drill_5_bot_api_failures_and_gateway_restarts_deliver_each_reply_once(drill_database, tmp_path):
    """Operator replies queued for Telegram users; the Bot API (the fake, spoken to by
    python-telegram-bot's real HTTP client) answers 429, 5xx and too late; the gateway process
    (Procfile.prod's `telegram`) is killed with SIGKILL while a sendMessage is in flight and started
    again (the full form: three times, and once more stopped with SIGTERM in the middle of the
    deliveries). Counted on the fake Bot API: every reply delivered exactly once."""
    started = time.monotonic()
    markers: Dict[str, int] = {}
    base_chat = 7_700_000_000 + int(time.time()) % 100_000 * 1000
    with FakeTelegram() as fake:
        kill_calls = []
        calls = 0
        for _ in range(DRILL5_ROUNDS):
            calls += plan_bot_api_trouble(fake)
            kill_calls.append(calls)
        for chat_number in range(DRILL5_CHATS):
            chat = base_chat + chat_number
            ticket = open_one(drill_database, key=f"drill5-{chat}", conversation=f"telegram-{chat}",
                              reply_address=str(chat), contact="+39 333 0000000", contact_kind="phone")
            markers.update(post_marked_replies(drill_database, ticket, f"drill5-{chat}", DRILL5_REPLIES_PER_CHAT,
                                               lambda session: chat))
        environment = {
            "DIALOGA_DATABASE_URL": drill_database.url, "DIALOGA_SECRET_KEY": os.environ["DIALOGA_SECRET_KEY"],
            "DIALOGA_RASA_URL": f"http://127.0.0.1:{free_port()}", "DIALOGA_PUBLIC_URL": "http://127.0.0.1:9",
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url, "TELEGRAM_FILE_URL": fake.base_file_url,
            "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "drill-webhook-secret",
            "TELEGRAM_DELIVERY_INTERVAL": "0.2", "TELEGRAM_READ_TIMEOUT": str(DRILL5_READ_TIMEOUT),
            "DIALOGA_LOG_FORMAT": "json",
        }
        gateway = ProductionStack(environment, {}, None, tmp_path, name="drill5")

        def delivered() -> Dict[str, int]:
            counts = dict.fromkeys(markers, 0)
            for call in fake.calls_of("sendMessage", ok_only=True):
                for marker in markers:
                    if marker in call.params.get("text", ""):
                        counts[marker] += 1
            return counts

        gateway.start("telegram")
        try:
            states = deliver_through_restarts(gateway, fake, kill_calls, markers, delivered, drill_database)
        finally:
            if gateway.is_running("telegram"):
                gateway.kill("telegram", signal.SIGTERM)
        restarts = len(kill_calls) + (1 if FULL else 0)
        counts = delivered()
    lost = sum(1 for count in counts.values() if count == 0)
    duplicated = sum(count - 1 for count in counts.values() if count > 1)
    answered = fake.calls_of("sendMessage")
    print(f"drill 5: {len(markers)} replies to {DRILL5_CHATS} chats; Bot API answers: "
          f"{sum(1 for c in answered if c.status == 429)} x 429, {sum(1 for c in answered if c.status >= 500)} x 5xx, "
          f"{DRILL5_ROUNDS} timeouts; gateway restarted {restarts} times ({DRILL5_ROUNDS} SIGKILL while sending); "
          f"states {states}; lost {lost}, duplicated {duplicated}; {time.monotonic() - started:.1f} s")
    assert (lost, duplicated) == (0, 0), {marker: count for marker, count in counts.items() if count != 1}
    # What the gateway could not know is said, not guessed: each timeout and each kill mid-send.
    assert states.get("unconfirmed", 0) == 2 * DRILL5_ROUNDS and states["sent"] == len(markers) - 2 * DRILL5_ROUNDS


def test_drill_6_double_submissions_and_retries_create_nothing_twice(stack, drill_database):
    # The form's last step sent twice at once (a double click), then again later (a client retry).
    user = WidgetUser(stack.public_url)
    for message, (key, expected) in form_steps(600)[:-1]:
        assert merged(user.say(message)).get(key) == expected
    results: List[httpx.Response] = []
    clicks = [threading.Thread(target=lambda: results.append(user.send_once("/affirm"))) for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    user.say("/affirm")
    assert [response.status_code for response in results] == [200, 200]
    refs = [merged(response.json()["messages"]).get("ticket", {}).get("ref") for response in results]
    assert any(refs)

    # A rating clicked twice at once and sent again.
    rater = WidgetUser(stack.public_url)
    assert merged(rater.say(ANSWER_STEPS[0][0])).get("topic")
    # The widget sends one key for a button: the double click and the retry carry the same one.
    ratings = [threading.Thread(target=rater.send_once, args=("/feedback_helpful",),
                                kwargs={"message_key": "choice-m2-0"}) for _ in range(2)]
    for rating in ratings:
        rating.start()
    for rating in ratings:
        rating.join()
    rater.say("/feedback_helpful", message_key="choice-m2-0")

    # The same Telegram update delivered twice by Telegram (webhook through nginx).
    update_id = int(time.time() * 1000) % 2_000_000_000
    update = {"update_id": update_id, "message": {"message_id": 1, "date": int(time.time()), "text": "ciao",
                                                   "chat": {"id": 4242, "type": "private"},
                                                   "from": {"id": 4242, "is_bot": False, "first_name": "Drill"}}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "drill-webhook-secret"}
    deliveries = [httpx.post(f"{stack.public_url}/telegram/webhook", json=update, headers=headers, timeout=10)
                  for _ in range(2)]
    assert [delivery.status_code for delivery in deliveries] == [200, 200]

    tickets = tickets_of(drill_database, [user.session])
    feedback = feedback_of(drill_database, [f"widget-{rater.session}"])
    with drill_database.session() as session:
        updates = session.scalar(select(func.count()).select_from(TelegramUpdate)
                                 .where(TelegramUpdate.update_id == update_id))
    duplicates = (tickets.get(user.session, 0) - 1) + (feedback.get(f"widget-{rater.session}", 0) - 1) + (updates - 1)
    print(f"drill 6: tickets {tickets}, ratings {feedback}, telegram updates {updates}; duplicates {duplicates}")
    assert (tickets.get(user.session), feedback.get(f"widget-{rater.session}"), updates) == (1, 1, 1)
    user.close()
    rater.close()


# Drill 7: e-mails (the same two forms as drill 5). The worker's SMTP timeout sets its lease
# (bot/email/smtp.py: 9 steps x 2 s + 10 s = 28 s without TLS or login), which the drill waits out
# once after its last kill; the worker's rounds run every second.
DRILL7_TICKETS, DRILL7_REPLIES_PER_TICKET, DRILL7_KILLS, DRILL7_TROUBLE = (20, 3, 4, 2) if FULL else (6, 2, 2, 1)
DRILL7_SMTP_TIMEOUT = 2.0
DRILL7_CONFIRM_DELAY = 0.2  # the server keeps each e-mail at once and confirms it this much later


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def test_drill_7_a_worker_killed_while_sending_emails_sends_none_twice(drill_database, tmp_path):
    """Operator replies queued for tickets with an e-mail contact, sent by the worker process
    (Procfile.prod's `worker`, `dialoga worker`) to a real SMTP server on loopback (aiosmtpd) that is
    slow to confirm what it keeps, also refuses with 451 at RCPT, hangs up before DATA and hangs up
    after keeping a content. The worker is killed with SIGKILL while the server holds the final reply
    to a content it already kept (the e-mail an at-least-once delivery sends again), and started again,
    repeatedly. Counted on the server: no e-mail twice, every e-mail sent once or unconfirmed."""
    started = time.monotonic()
    stamp = uuid.uuid4().hex[:8]
    markers: Dict[str, int] = {}  # marker -> outbox message id
    for number in range(DRILL7_TICKETS):
        address = f"drill7.{stamp}.{number}@example.org"
        ticket = open_one(drill_database, key=f"drill7-{stamp}-{number}", conversation=f"drill7-{stamp}-{number}",
                          channel="rest", reply_address=address, contact=address, contact_kind="email")
        markers.update(post_marked_replies(
            drill_database, ticket, f"drill7-{stamp}-{number}", DRILL7_REPLIES_PER_TICKET,
            lambda session: session.scalars(select(OutboundMessage.id).where(OutboundMessage.channel == "email")
                                            .order_by(OutboundMessage.id.desc())).first()))
    total = len(markers)
    handler = RecordingHandler(confirm_delay=DRILL7_CONFIRM_DELAY)
    for _ in range(DRILL7_TROUBLE):
        handler.refuse_once.append("451 4.7.1 Greylisted, try again later")
        handler.drop_once.extend(["RCPT", "DATA"])
    # The kills, spread over the e-mails (after the first content, which the server hangs up on).
    handler.hold_contents = {2 + (total - 2) * (kill + 1) // (DRILL7_KILLS + 1) for kill in range(DRILL7_KILLS)}

    def copies() -> Dict[str, int]:
        counts = dict.fromkeys(markers, 0)
        for message in handler.received():
            text = message.get_body(preferencelist=("plain",)).get_content()
            for marker in markers:
                if f"({marker})" in text:
                    counts[marker] += 1
        return counts

    def states() -> Dict[int, tuple]:
        """(status, last error) of each drill e-mail, by outbox id."""
        with drill_database.session() as session:
            rows = session.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(list(markers.values()))))
            return {row.id: (row.status, row.last_error or "") for row in rows}

    with smtp_server(handler) as smtp:
        environment = {
            "DIALOGA_DATABASE_URL": drill_database.url, "DIALOGA_SECRET_KEY": os.environ["DIALOGA_SECRET_KEY"],
            "DIALOGA_SPOOL_DIR": str(tmp_path / "spool"), "DIALOGA_PUBLIC_URL": "https://desk.example",
            "DIALOGA_SMTP_HOST": "127.0.0.1", "DIALOGA_SMTP_PORT": str(smtp.port), "DIALOGA_SMTP_SECURITY": "none",
            "DIALOGA_SMTP_TIMEOUT": str(DRILL7_SMTP_TIMEOUT),
            "DIALOGA_EMAIL_FROM": "Sportello <sportello@drill.example>",
            "DIALOGA_WORKER_INTERVAL": "1", "DIALOGA_LOG_FORMAT": "json",
        }
        worker = ProductionStack(environment, {}, None, tmp_path, name="drill7")
        worker.start("worker")
        try:
            for kill in range(DRILL7_KILLS):
                wait_until(lambda: len(handler.held) > kill, 120, f"the content held for kill {kill + 1}")
                worker.kill("worker")  # SIGKILL: the server has the e-mail, the worker never hears so
                worker.start("worker")

            def settled():
                found = states()
                return found if all(status in ("sent", "unconfirmed") for status, _ in found.values()) else None

            # Each e-mail in flight at a kill stays "sending" until its lease ends.
            final = wait_until(settled, 120, "every e-mail sent or unconfirmed")
            time.sleep(2 * DRILL7_CONFIRM_DELAY + 1)  # nothing more arrives
        finally:
            if worker.is_running("worker"):
                worker.kill("worker", signal.SIGTERM)
        counts = copies()
        held = {marker for marker in markers for message in handler.held
                if f"({marker})" in message.get_body(preferencelist=("plain",)).get_content()}
    by_state = {status: sum(1 for s, _ in final.values() if s == status) for status in ("sent", "unconfirmed")}
    duplicated = sum(count - 1 for count in counts.values() if count > 1)
    lost_silently = sum(1 for marker, count in counts.items()
                        if count == 0 and final[markers[marker]][0] != "unconfirmed")
    interrupted = sum(1 for _, error in final.values() if "stopped while sending" in error)
    print(f"drill 7: {total} e-mails to {DRILL7_TICKETS} addresses; server: {DRILL7_TROUBLE} x 451 at RCPT, "
          f"{DRILL7_TROUBLE} hang-ups before DATA, {DRILL7_TROUBLE} after keeping a content; worker killed "
          f"{DRILL7_KILLS} times (SIGKILL while the server held the final reply) and restarted; states {by_state} "
          f"({interrupted} unconfirmed by the restarted worker); copies received {sum(counts.values())}; "
          f"duplicated {duplicated}, lost silently {lost_silently}; {time.monotonic() - started:.1f} s")
    assert (duplicated, lost_silently) == (0, 0), {marker: count for marker, count in counts.items() if count != 1}
    assert all(counts[marker] == 1 for marker in markers if final[markers[marker]][0] == "sent")
    # The e-mails the worker could not know about (a hang-up after the content, a kill) are unconfirmed.
    assert len(held) == DRILL7_KILLS and all(final[markers[marker]][0] == "unconfirmed" for marker in held)
    assert interrupted == DRILL7_KILLS
    assert by_state == {"sent": total - DRILL7_KILLS - DRILL7_TROUBLE, "unconfirmed": DRILL7_KILLS + DRILL7_TROUBLE}


def test_a_request_id_follows_a_message_from_nginx_to_the_actions_and_metrics_are_served(stack, drill_database):
    user = WidgetUser(stack.public_url)
    request_id = f"drill-{uuid.uuid4().hex[:16]}"
    response = user.send_once("quanti giorni di congedo di paternità spettano al padre lavoratore?", request_id)
    assert response.status_code == 200 and response.headers["X-Request-ID"] == request_id
    # Without one, nginx makes one up.
    assert len(httpx.get(f"{stack.public_url}/healthz").headers["X-Request-ID"]) >= 16
    # In Rasa's tracker store, with the message.
    with drill_database.engine.connect() as connection:
        stored = connection.execute(text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user'"),
                                    {"sender": f"widget-{user.session}"}).scalars().all()
    assert any(json.loads(data).get("metadata", {}).get("request_id") == request_id for data in stored)
    # In an action server's log (JSON lines), on the action that answered it.
    logs = "".join(stack.log_of(name).read_text(errors="replace") for name in ("actions1", "actions2")
                   if stack.log_of(name).exists())
    assert f"for request {request_id}" in logs
    # In nginx's access log.
    assert request_id in (stack.prefix / "access.log").read_text()

    # Metrics: not on the public port; on the desk's own port with the token.
    assert httpx.get(f"{stack.public_url}/metrics").status_code == 404
    metrics = httpx.get(f"http://127.0.0.1:{stack.ports['desk']}/metrics",
                        headers={"Authorization": f"Bearer {stack.environment['DIALOGA_METRICS_TOKEN']}"})
    assert metrics.status_code == 200
    with drill_database.session() as session:
        opened = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "open"))
    with drill_database.engine.connect() as connection:
        messages = connection.execute(text("SELECT count(*) FROM events WHERE type_name = 'user'")).scalar()
    assert f'dialoga_tickets{{status="open"}} {opened}\n' in metrics.text
    assert f"dialoga_messages_total {messages}\n" in metrics.text and messages > 0
    user.close()


def test_dialoga_deploy_ready_says_which_instances_can_serve(stack):
    # After the drills, assistant1 and actions2 are down for good (when run alone, everything is up).
    result = CliRunner().invoke(cli_main, ["deploy", "ready"], env={**stack.environment, "DIALOGA_LOG_FORMAT": "text"})
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()}
    processes = {f"assistant:{stack.ports['rasa1']}": "assistant1", f"assistant:{stack.ports['rasa2']}": "assistant2",
                 f"actions:{stack.ports['actions1']}": "actions1", f"actions:{stack.ports['actions2']}": "actions2",
                 f"desk:{stack.ports['desk']}": "desk"}
    expected = {name: "ready" if stack.is_running(process) else "NOT" for name, process in processes.items()}
    assert lines == expected, result.output
    assert result.exit_code == (0 if all(value == "ready" for value in expected.values()) else 1)
