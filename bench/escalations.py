"""1,000 escalations completed through the REST channel by 50 concurrent
conversations: every one must open exactly one ticket with its own reference."""
from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import httpx
from sqlalchemy import func, select

from bench.report import percentile, write_section
from desk.db import Database
from desk.models import Ticket
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.stack import custom_of, running_assistant

STEPS = ["vorrei parlare con un operatore", "worker", "Mario Rossi", "mario.rossi@example.org",
         "Posso chiedere il part-time al rientro dalla maternità?", "/affirm"]


async def escalate(client: httpx.AsyncClient, url: str) -> Dict:
    sender = f"bench-esc-{uuid.uuid4().hex}"
    started = time.perf_counter()
    replies: List = []
    for text in STEPS:
        response = await client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        replies = response.json()
    ticket = custom_of(replies).get("ticket") or {}
    return {"seconds": time.perf_counter() - started, "ref": ticket.get("ref")}


async def run_load(url: str, total: int, concurrency: int) -> List[Dict]:
    queue = iter(range(total))
    results: List[Dict] = []

    async def worker(client):
        for _ in queue:
            results.append(await escalate(client, url))

    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return results


def run(total: int = 1000, concurrency: int = 50, backend: str = "postgresql") -> str:
    with tempfile.TemporaryDirectory() as scratch:
        if backend == "postgresql":
            context = throwaway_postgres_database("dialoga_bench")
        else:
            from contextlib import nullcontext
            context = nullcontext(f"sqlite:///{Path(scratch) / 'bench.db'}")
        with context as url:
            prepare_database(url)
            database = Database(url)
            with running_assistant(url, name="bench-escalations", extra_env={"DIALOGA_SPOOL_DIR": scratch}) as assistant:
                started = time.perf_counter()
                results = asyncio.run(run_load(assistant.url, total, concurrency))
                elapsed = time.perf_counter() - started
            with database.session() as session:
                tickets = session.scalar(select(func.count()).select_from(Ticket))
                distinct = session.scalar(select(func.count(func.distinct(Ticket.ref))))
            database.dispose()
    refs = [r["ref"] for r in results if r["ref"]]
    seconds = [r["seconds"] for r in results]
    body = "\n".join([
        "## Tickets: escalations through the REST channel",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores with "
        f"`make bench` (bench/escalations.py), database {backend}.",
        "",
        f"{total} escalations (ask for a person, role, name, e-mail, question, consent: {len(STEPS)} REST requests each) "
        f"by {concurrency} concurrent conversations, in {elapsed:.0f} s.",
        "",
        f"- references returned to users: {len(refs)}, distinct: {len(set(refs))}",
        f"- tickets in the database: {tickets}, distinct references: {distinct}",
        f"- time per escalation (all {len(STEPS)} turns): p50 **{percentile(seconds, 50):.2f} s**, p95 **{percentile(seconds, 95):.2f} s**",
    ])
    write_section("escalations", body)
    return body
