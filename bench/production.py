"""Production mode under load: widget conversations through nginx's public port (the desk's
widget endpoints, nginx's balancer, Rasa on a SQL tracker store and a Redis lock store, the
action servers behind their balancer), with two assistant instances and then one; the stack is
tests/support/production.py (Procfile.prod's commands), on a throwaway PostgreSQL database and
redis-server. Each simulated user opens a widget session, sends its messages back to back (no
think time) and a new user starts, for a fixed time per configuration."""
from __future__ import annotations

import math
import os
import signal
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import httpx

from bench.report import percentile, write_section
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.production import production_stack

QUESTIONS = [
    "quanti giorni di congedo di paternità spettano?",
    "come funziona lo smart working per i genitori?",
    "cos'è il fondo FSBA per gli artigiani?",
    "What is corporate welfare and how can a small firm start it?",
    "posso chiedere il part-time dopo la maternità?",
]
MESSAGES_PER_USER = 5
UNLIMITED = "1000000"
# A person in a chat sends a message every 20 s or so (reading the answer, typing the next one):
# the projection's assumption, stated in the report.
SECONDS_BETWEEN_MESSAGES = 20.0


def _user_loop(base_url: str, stop_at: float, latencies: List[float], errors: List[str], lock: threading.Lock) -> None:
    client = httpx.Client(base_url=base_url, timeout=120)
    while time.monotonic() < stop_at:
        try:
            session = client.post("/widget/api/session", json={"lang": "it"}).json()
        except httpx.HTTPError as error:
            with lock:
                errors.append(repr(error))
            continue
        for index in range(MESSAGES_PER_USER):
            if time.monotonic() >= stop_at:
                break
            started = time.perf_counter()
            try:
                response = client.post("/widget/api/messages", headers={"X-Widget-Token": session["token"]},
                                       json={"session": session["session"], "text": QUESTIONS[index], "lang": "it"})
                ok = response.status_code == 200 and response.json().get("messages")
            except httpx.HTTPError as error:
                ok, response = False, error
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(str(getattr(response, "status_code", response)))
    client.close()


def load(base_url: str, users: int, seconds: float) -> Dict[str, float]:
    latencies: List[float] = []
    errors: List[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    stop_at = started + seconds
    threads = [threading.Thread(target=_user_loop, args=(base_url, stop_at, latencies, errors, lock))
               for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"users": users, "requests": len(latencies) + len(errors), "errors": len(errors),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "throughput": len(latencies) / elapsed}


def run(seconds: float = float(os.environ.get("DIALOGA_BENCH_SECONDS", 40))) -> str:
    extra = {"DIALOGA_WIDGET_SESSIONS_PER_MINUTE": UNLIMITED, "DIALOGA_WIDGET_MESSAGES_PER_MINUTE": UNLIMITED,
             "DIALOGA_WIDGET_POLLS_PER_MINUTE": UNLIMITED, "DIALOGA_LOG_FORMAT": "text"}
    rows = []
    with throwaway_postgres_database("dialoga_bench") as url:
        prepare_database(url)
        with production_stack(url, Path(tempfile.mkdtemp(prefix="dialoga-bench-")), name="bench-prod",
                              extra_env=extra) as stack:
            load(stack.public_url, 4, 10)  # warm-up: models loaded, connections open
            for users in (20, 50):
                rows.append(("2", load(stack.public_url, users, seconds)))
            stack.kill("assistant2", signal.SIGTERM)
            load(stack.public_url, 4, 5)  # nginx notices the instance is gone
            for users in (20, 50):
                rows.append(("1", load(stack.public_url, users, seconds)))
    return report(rows, seconds)


def machines_for(conversations: int, throughput: float) -> int:
    return max(1, math.ceil(conversations / SECONDS_BETWEEN_MESSAGES / throughput))


def report(rows, seconds: float) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_average = os.getloadavg()[0]
    lines = [
        "## Production mode: nginx, two assistants, PostgreSQL and Redis",
        "",
        f"Measured {now} with `.venv/bin/python -m bench.run --only production` (bench/production.py) on this "
        f"machine's 2 cores, **shared with other work** (load average {load_average:.1f} when the run ended): "
        "figures are lower bounds of what 2 dedicated cores do.",
        "",
        "Every message goes the whole production way: nginx's public port, the desk's widget endpoint "
        "(gunicorn, 2 workers x 8 threads), nginx's balancer, a Rasa server on the SQL tracker store "
        "(PostgreSQL) and the Redis lock store, the action servers behind their balancer. Each simulated user "
        f"opens a widget session and sends {MESSAGES_PER_USER} questions back to back (no think time), then a "
        f"new user starts; {seconds:.0f} s per row. All processes share the same 2 cores.",
        "",
        "| Rasa instances | concurrent conversations | requests | errors | p50 ms | p95 ms | throughput msg/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for instances, row in rows:
        lines.append(f"| {instances} | {row['users']} | {row['requests']} | {row['errors']} | "
                     f"{row['p50'] * 1000:.0f} | {row['p95'] * 1000:.0f} | {row['throughput']:.1f} |")
    best = max(row["throughput"] for _, row in rows)
    two_at_50 = next(row for instances, row in rows if instances == "2" and row["users"] == 50)
    lines += [
        "",
        f"50 concurrent widget conversations through nginx with two instances: **{two_at_50['errors']} errors** "
        f"in {two_at_50['requests']} requests.",
        "",
        "**Projection.** A conversation in a chat sends about one message every "
        f"{SECONDS_BETWEEN_MESSAGES:.0f} s (reading, typing): N concurrent conversations make N/"
        f"{SECONDS_BETWEEN_MESSAGES:.0f} messages per second. With the best throughput measured here, "
        f"{best:.1f} msg/s per 2-core machine running everything:",
        "",
        f"- 1,000 concurrent conversations = {1000 / SECONDS_BETWEEN_MESSAGES:.0f} msg/s: "
        f"**{machines_for(1000, best)}** such machines;",
        f"- 10,000 concurrent conversations = {10000 / SECONDS_BETWEEN_MESSAGES:.0f} msg/s: "
        f"**{machines_for(10000, best)}** such machines,",
        "",
        "with PostgreSQL and Redis on their own machine(s), and p95 latency near the closed-loop figures above "
        "only if each machine is kept below the measured throughput. This is arithmetic on the figures above, "
        "not a measurement of several machines.",
    ]
    body = "\n".join(lines)
    write_section("production", body)
    return body
