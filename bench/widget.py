"""The web widget's costs: what the desk's widget endpoint adds to a message on its way to
the assistant (compared with calling the assistant's REST channel directly), and how long
an operator's reply takes to reach a browser that polls at the widget's interval.

The desk runs as in production (gunicorn, 2 workers x 4 threads, `Procfile`) on a
throwaway PostgreSQL, with the trained assistant and action server."""
from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Dict, List, Optional

import httpx
from sqlalchemy import select

from bench.report import percentile, write_section
from desk.db import Database
from desk.models import Ticket
from desk.models.base import utcnow
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar
from desk.services.tickets import TicketIntake
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.stack import VENV_BIN, _environment, _process, free_port, running_assistant, wait_for

QUESTIONS = [
    "quanti giorni di congedo di paternità spettano?",
    "come funziona lo smart working per i genitori?",
    "cos'è il fondo FSBA per gli artigiani?",
    "What is corporate welfare and how can a small firm start it?",
]
UNLIMITED = "1000000"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class Desk:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=60, headers={"Origin": url})

    def session(self) -> Dict[str, str]:
        response = self.client.post(f"{self.url}/widget/api/session", json={"lang": "it"})
        response.raise_for_status()
        return response.json()

    def say(self, session: Dict[str, str], text: str) -> List[dict]:
        response = self.client.post(f"{self.url}/widget/api/messages", json={"session": session["session"], "text": text},
                                    headers={"X-Widget-Token": session["token"]})
        response.raise_for_status()
        return response.json()["messages"]

    def updates(self, session: Dict[str, str], after: int) -> dict:
        response = self.client.get(f"{self.url}/widget/api/updates",
                                   params={"session": session["session"], "after": after},
                                   headers={"X-Widget-Token": session["token"]})
        response.raise_for_status()
        return response.json()


def message_overhead(desk: Desk, rasa_url: str, rounds: int) -> Dict[str, List[float]]:
    """The same first messages, alternately to the assistant directly and through the widget."""
    direct_client = httpx.Client(timeout=60)
    timings: Dict[str, List[float]] = {"direct": [], "widget": []}
    for index in range(rounds):
        text = QUESTIONS[index % len(QUESTIONS)]
        session = desk.session()
        order = ["direct", "widget"] if index % 2 == 0 else ["widget", "direct"]
        for way in order:
            started = time.perf_counter()
            if way == "direct":
                response = direct_client.post(f"{rasa_url}/webhooks/rest/webhook",
                                              json={"sender": f"bench-direct-{uuid.uuid4().hex}", "message": text,
                                                    "metadata": {"channel": "widget", "language": "it"}})
                response.raise_for_status()
            else:
                desk.say(session, text)
            timings[way].append(time.perf_counter() - started)
    direct_client.close()
    return timings


def widget_ticket(database: Database, session_id: str) -> str:
    intake = TicketIntake(
        intake_key=f"bench-{session_id}", channel="widget", reply_address=session_id,
        conversation_id=f"widget-{session_id}", language="it", role="owner", name="Giulia Bianchi",
        contact=session_id, contact_kind="channel", company_name="Panificio Bianchi snc",
        question="Posso concedere orari ridotti a una dipendente al rientro dalla maternità?", consent_at=utcnow(),
    )
    with database.session() as session:
        return tickets.open_ticket(session, intake, BusinessCalendar()).ref


def reply_delivery(desk: Desk, database: Database, trials: int, poll_seconds: float) -> Dict[str, List[float]]:
    """A poller per trial asks for updates every `poll_seconds`, as the widget does; an operator
    replies at a random moment of its cycle; we time the reply's commit to the poll that returns it."""
    latencies: List[float] = []
    poll_times: List[float] = []
    for _ in range(trials):
        session = desk.session()
        ref = widget_ticket(database, session["session"])
        replied_at: Dict[str, float] = {}
        delivered = threading.Event()
        received_at: Dict[str, float] = {}

        def poll() -> None:
            while not delivered.is_set():
                started = time.perf_counter()
                answer = desk.updates(session, 0)
                finished = time.perf_counter()
                poll_times.append(finished - started)
                if answer["messages"]:
                    received_at["t"] = finished
                    delivered.set()
                    return
                time.sleep(max(0.0, poll_seconds - (finished - started)))

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(random.uniform(0, poll_seconds))
        with database.session() as db:
            ticket = tickets.find_by_ref(db, ref)
            tickets.reply(db, ticket, "Buongiorno, sì: può concordare un part-time reversibile.", actor="bench")
        replied_at["t"] = time.perf_counter()  # the commit happened when the unit of work closed
        delivered.wait(timeout=poll_seconds * 5)
        poller.join(timeout=poll_seconds * 5)
        if "t" in received_at:
            latencies.append(received_at["t"] - replied_at["t"])
    return {"latency": latencies, "poll": poll_times}


def run(rounds: int = 60, trials: int = 30, poll_seconds: float = 3.0) -> str:
    with throwaway_postgres_database("dialoga_bench_widget") as url:
        prepare_database(url)
        database = Database(url)
        with running_assistant(url, name="bench-widget") as assistant:
            port = free_port()
            env = _environment({
                "DIALOGA_DATABASE_URL": url, "DIALOGA_RASA_URL": assistant.url,
                "DIALOGA_WIDGET_MESSAGES_PER_MINUTE": UNLIMITED, "DIALOGA_WIDGET_POLLS_PER_MINUTE": UNLIMITED,
                "DIALOGA_WIDGET_SESSIONS_PER_MINUTE": UNLIMITED, "DIALOGA_WIDGET_POLL_SECONDS": str(poll_seconds),
            })
            command = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                       "desk.web:create_app()"]
            with _process("bench-widget-desk", command, env) as process:
                desk_url = f"http://127.0.0.1:{port}"
                wait_for(f"{desk_url}/healthz", 60, process, "desk")
                desk = Desk(desk_url)
                for text in QUESTIONS:  # warm both paths (models, connections) before measuring
                    desk.say(desk.session(), text)
                overhead = message_overhead(desk, assistant.url, rounds)
                delivery = reply_delivery(desk, database, trials, poll_seconds)
        with database.session() as session:
            widget_tickets = len(session.scalars(select(Ticket.id).where(Ticket.channel == "widget")).all())
        database.dispose()
    return report(overhead, delivery, rounds, trials, poll_seconds, widget_tickets)


def report(overhead, delivery, rounds, trials, poll_seconds, widget_tickets) -> str:
    direct, widget = overhead["direct"], overhead["widget"]
    paired = [through - straight for through, straight in zip(widget, direct)]
    latency, polls = delivery["latency"], delivery["poll"]
    lines = [
        "## Web widget: endpoint overhead and operator reply delivery",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python -m bench.run --only widget` "
        "(bench/widget.py): the desk under gunicorn (2 workers x 4 threads) on PostgreSQL, the trained "
        "assistant and action server, all on this machine.",
        "",
        f"**A message through the widget** ({rounds} first messages of new conversations, alternately "
        "direct and through the widget, same questions):",
        "",
        "| path | p50 | p95 |",
        "|---|---|---|",
        f"| assistant's REST channel directly | {ms(percentile(direct, 50))} | {ms(percentile(direct, 95))} |",
        f"| `POST /widget/api/messages` (token check, rate limit, forward, reshape) | {ms(percentile(widget, 50))} "
        f"| {ms(percentile(widget, 95))} |",
        f"| overhead per message (widget minus direct, same round) | {ms(percentile(paired, 50))} "
        f"| {ms(percentile(paired, 95))} |",
        "",
        f"**An operator's reply reaching the browser** ({len(latency)} of {trials} replies delivered; "
        f"`tickets.reply` committed at a random moment, the client polling `/widget/api/updates` every "
        f"{poll_seconds:g} s as the widget does by default, `DIALOGA_WIDGET_POLL_SECONDS`):",
        "",
        f"- reply -> shown: p50 **{percentile(latency, 50):.2f} s**, p95 **{percentile(latency, 95):.2f} s**, "
        f"max {max(latency, default=float('nan')):.2f} s (bounded by the polling interval plus one request)",
        f"- one poll of the update endpoint: p50 {ms(percentile(polls, 50))}, p95 {ms(percentile(polls, 95))} "
        f"({len(polls)} polls)",
        f"- widget tickets in the database: {widget_tickets}",
    ]
    body = "\n".join(lines)
    write_section("widget", body)
    return body


if __name__ == "__main__":
    print(run())
