"""The Telegram gateway's cost: how much a message through the gateway (PTB's HTTP client,
long polling against a fake Bot API on loopback, typing indicator, rendering) adds to the
assistant's own REST latency, and how long an operator's reply takes to reach the
Telegram user (tickets.reply committed -> sendMessage received by the Bot API)."""
from __future__ import annotations

import itertools
import os
import random
import time
from datetime import datetime, timezone
from typing import List, Tuple

import httpx

from bench.report import percentile, write_section
from bot.telegram.rendering import PayloadMap, render_replies
from desk.config import Settings
from desk.db import Database
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar
from desk.topics import topic_ids
from tests.support.conversation import training_example
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import running_assistant
from tests.support.telegram import gateway_settings, running_gateway

_chats = itertools.count(9_000_001)


def questions(count: int) -> List[Tuple[str, str]]:
    topics = topic_ids()
    return [(training_example(topics[i % len(topics)], language), language)
            for i, language in zip(range(count), itertools.cycle(["it", "en"]))]


def direct(client: httpx.Client, url: str, text: str) -> Tuple[float, int]:
    """Seconds for one REST round trip, and how many Telegram messages its reply makes."""
    started = time.perf_counter()
    response = client.post(f"{url}/webhooks/rest/webhook",
                           json={"sender": f"bench-direct-{next(_chats)}", "message": text})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, len(render_replies(response.json(), PayloadMap()))


def through_gateway(fake: FakeTelegram, text: str, language: str, expected: int) -> float:
    """Seconds from the update being available to the last message of the reply reaching the Bot API."""
    chat = next(_chats)
    started = time.monotonic()  # the fake Bot API stamps calls with time.monotonic()
    fake.user_writes(chat, text, language)
    fake.wait_for(lambda: len(fake.sent_to(chat)) >= expected, 60, f"{expected} messages")
    return fake.calls_of("sendMessage", chat, ok_only=True)[expected - 1].at - started


def reply_latencies(fake: FakeTelegram, database: Database, count: int, interval: float) -> List[float]:
    calendar = BusinessCalendar()
    phases = random.Random(6)
    latencies = []
    for number in range(count):
        chat = next(_chats)
        time.sleep(phases.uniform(0, interval))  # operators reply at any moment of the loop's cycle
        with database.session() as session:
            ticket = tickets.open_ticket(session, _intake(chat, number), calendar)
        with database.session() as session:
            tickets.reply(session, tickets.find_by_ref(session, ticket.ref), "Ecco la risposta dello sportello.", actor="bench")
        committed = time.monotonic()
        fake.wait_for(lambda: fake.sent_to(chat), 30, "the operator's reply")
        latencies.append(fake.calls_of("sendMessage", chat, ok_only=True)[0].at - committed)
    return latencies


def _intake(chat: int, number: int) -> tickets.TicketIntake:
    return tickets.TicketIntake(
        intake_key=f"bench-telegram-{chat}", channel="telegram", reply_address=str(chat),
        conversation_id=f"telegram-{chat}", language="it", role="worker", name="Utente Bench",
        contact="telegram", contact_kind="channel", company_name="", question=f"Domanda di prova numero {number}",
        consent_at=datetime.now(timezone.utc).replace(tzinfo=None),
    )


def run(messages: int = 100, replies: int = 30) -> str:
    with throwaway_postgres_database("dialoga_bench_tg") as url:
        prepare_database(url)
        database = Database(url)
        try:
            with running_assistant(url, name="bench-telegram") as assistant, FakeTelegram() as fake:
                with httpx.Client(timeout=60) as client:
                    for text, _ in questions(4):  # warm up the models and the connections
                        direct(client, assistant.url, text)
                    rest, gateway = [], []
                    settings = gateway_settings(fake, database, assistant.url,
                                                telegram_delivery_interval=Settings().telegram_delivery_interval)
                    with running_gateway(settings, database):
                        through_gateway(fake, "ciao", "it", 1)
                        for text, language in questions(messages):
                            seconds, expected = direct(client, assistant.url, text)
                            rest.append(seconds)
                            gateway.append(through_gateway(fake, text, language, max(expected, 1)))
                        delivery_default = reply_latencies(fake, database, replies, settings.telegram_delivery_interval)
                    fast = gateway_settings(fake, database, assistant.url, telegram_delivery_interval=0.5)
                    with running_gateway(fast, database):
                        delivery_fast = reply_latencies(fake, database, replies, fast.telegram_delivery_interval)
        finally:
            database.dispose()
    overhead = [g - r for g, r in zip(gateway, rest)]
    ms = lambda values, q: f"{percentile(values, q) * 1000:.0f} ms"  # noqa: E731
    body = "\n".join([
        "## Telegram gateway",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores with "
        "`.venv/bin/python -m bench.run --only telegram` (bench/telegram.py): the trained assistant and the action "
        "server on PostgreSQL, the gateway (python-telegram-bot, long polling) and the fake Bot API on loopback "
        "(tests/support/fake_telegram.py) in threads of the benchmark process.",
        "",
        f"{messages} questions (topics in Italian and English, each in a new conversation), each sent once straight "
        "to the REST channel and once through the gateway (from the update being available to getUpdates until the "
        "reply's last sendMessage reaches the Bot API):",
        "",
        "| path | p50 | p95 |",
        "|---|---|---|",
        f"| REST channel, direct | {ms(rest, 50)} | {ms(rest, 95)} |",
        f"| through the Telegram gateway | {ms(gateway, 50)} | {ms(gateway, 95)} |",
        f"| gateway overhead (paired difference) | {ms(overhead, 50)} | {ms(overhead, 95)} |",
        "",
        f"Operator reply to Telegram: {replies} replies, from `tickets.reply` committed to the Bot API receiving "
        "sendMessage (the delivery loop looks at the outbox every `TELEGRAM_DELIVERY_INTERVAL` seconds):",
        "",
        "| delivery interval | p50 | p95 |",
        "|---|---|---|",
        f"| {settings.telegram_delivery_interval:g} s (default) | {ms(delivery_default, 50)} | {ms(delivery_default, 95)} |",
        f"| {fast.telegram_delivery_interval:g} s | {ms(delivery_fast, 50)} | {ms(delivery_fast, 95)} |",
    ])
    write_section("telegram", body)
    return body


if __name__ == "__main__":
    print(run())
