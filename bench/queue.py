"""The queue page with 100,000 tickets on PostgreSQL: p50/p95 of GET through the real Flask
app (routing, login session, queries, Jinja rendering) as a logged-in operator.

    python -m bench.queue [--tickets 100000] [--requests 200]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from typing import Dict, List, Tuple

from sqlalchemy import func, select

from bench.report import percentile, write_section
from bench.seed_tickets import seed_tickets
from desk.db import Database
from desk.models import Role, Ticket
from desk.services import queue
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.desk import desk_app_for, log_in, make_user

# (what the operator does, the URL). The search words are chosen by how many tickets hold them.
SCENARIOS: List[Tuple[str, str]] = [
    ("default view: active tickets by SLA", "/coda"),
    ("filtered: open, widget, unassigned", "/coda?status=open&channel=widget&assignee=unassigned"),
    ("filtered: one suggested category", "/coda?topic=congedo_parentale"),
    ("filtered: overdue only", "/coda?overdue=1"),
    ("all statuses, newest first", "/coda?status=all&sort=newest"),
    ("page 20 of the default view", "/coda?page=20"),
    ("search, rare word (active tickets)", "/coda?q=Lambrate"),
    ("search, common word (active tickets)", "/coda?q=congedo"),
    ("search, two words over all statuses", "/coda?q=asilo+nido&status=all"),
    ("search, a surname over all statuses", "/coda?q=fumagalli&status=all"),
    ("live fragment (polled every 5 s)", "/coda/risultati?since=1"),
]


def measure(client, url: str, requests: int, warmup: int = 10) -> List[float]:
    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def run(tickets: int = 100_000, requests: int = 200) -> str:
    with throwaway_postgres_database("dialoga_bench_queue") as url:
        prepare_database(url)
        database = Database(url)
        try:
            seeded = seed_tickets(database, tickets)
            with database.session() as session:
                total = session.scalar(select(func.count()).select_from(Ticket))
                active = session.scalar(select(func.count()).select_from(Ticket).where(queue.active_condition()))
            app = desk_app_for(database)
            client = app.test_client()
            assert log_in(client, make_user(database, Role.OPERATOR)).status_code == 302
            results: Dict[str, List[float]] = {}
            rows: Dict[str, int] = {}
            with database.session() as session:  # the most urgent active ticket, as "next ticket" opens it
                urgent = queue.next_ticket(session, None, "nobody@sportello.example")
            scenarios = SCENARIOS + [("ticket page of the most urgent ticket", f"/ticket/{urgent}")]
            for name, path in scenarios:
                results[name] = measure(client, path, requests)
                rows[name] = client.get(path).get_data(as_text=True).count("<tr data-ref=")
        finally:
            database.dispose()
    lines = [
        "## Desk: the ticket queue with 100,000 tickets",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores with "
        f"`python -m bench.queue --tickets {tickets} --requests {requests}` (also `make bench`).",
        "",
        f"PostgreSQL, {total:,} tickets seeded by bench/seed_tickets.py in {seeded['seconds']:.0f} s "
        f"({active:,} active, the rest resolved or closed over three years). Each figure: {requests} sequential GETs "
        "after 10 warm-up requests, through the Flask app (test client: routing, session and user loading, "
        "queries, Jinja rendering; no network), logged in as an operator.",
        "",
        "| request | rows shown | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, path in scenarios:
        timings = results[name]
        lines.append(f"| {name} (`{path}`) | {rows[name]} | {percentile(timings, 50):.1f} | "
                     f"{percentile(timings, 95):.1f} | {max(timings):.1f} |")
    worst = max(percentile(results[name], 95) for name, _ in SCENARIOS)
    lines += ["", f"Worst p95 of the queue page: **{worst:.1f} ms** (target: under 100 ms). The ticket page "
              "shows the history, the suggested answers and its neighbours in the queue; rows shown counts "
              "queue rows only."]
    body = "\n".join(lines)
    write_section("queue", body)
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(run(args.tickets, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
