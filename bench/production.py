"""Production mode under load: widget conversations through nginx's public port (the desk's
widget endpoints, nginx's balancer, Rasa on a SQL tracker store and a Redis lock store, the
action servers behind their balancer), with two assistant instances and then one; the stack is
tests/support/production.py (Procfile.prod's commands), on a throwaway PostgreSQL database and
redis-server. Each simulated user opens a widget session, sends its messages back to back (no
think time) and a new user starts, for a fixed time per configuration."""
from __future__ import annotations

import math
import os
from collections import defaultdict
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


PROCESS_KINDS = {"assistant": "Rasa servers", "actions": "action servers", "desk": "desk (gunicorn, widget endpoints)",
                 "nginx": "nginx", "worker": "worker"}


def _stat(pid: int):
    """(process group, command name, CPU seconds used) of one process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        data = stat.read()
    command = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[2]), command, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(stack) -> Dict[str, float]:
    """CPU seconds used so far by each kind of process of the stack (every process of a Procfile
    line's group: gunicorn's workers count with the desk), PostgreSQL's and Redis's processes, and
    this process (the simulated users' HTTP clients run on the same cores)."""
    groups = {popen.pid: name for name, popen in stack.processes.items()}
    totals: Dict[str, float] = defaultdict(float)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            group, command, seconds = _stat(int(entry))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if group in groups:
            name = groups[group]
            totals[next((kind for prefix, kind in PROCESS_KINDS.items() if name.startswith(prefix)), name)] += seconds
        elif command.startswith(("postgres", "postmaster")):
            totals["PostgreSQL (every backend on the machine)"] += seconds
        elif command.startswith("redis-server"):
            totals["Redis"] += seconds
        elif int(entry) == os.getpid():
            totals["load generator (this process)"] += seconds
    return totals


def measured_load(stack, users: int, seconds: float) -> Dict[str, float]:
    """`load`, with the CPU each kind of process used while it ran."""
    before = cpu_by_kind(stack)
    row = load(stack.public_url, users, seconds)
    after = cpu_by_kind(stack)
    row["cpu"] = {kind: after[kind] - before.get(kind, 0.0) for kind in after}
    row["seconds"] = seconds
    return row


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
                rows.append(("2", measured_load(stack, users, seconds)))
            stack.kill("assistant2", signal.SIGTERM)
            load(stack.public_url, 4, 5)  # nginx notices the instance is gone
            for users in (20, 50):
                rows.append(("1", measured_load(stack, users, seconds)))
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
    lines += ["", *where_the_time_goes(rows)]
    body = "\n".join(lines)
    write_section("production", body)
    return body


def where_the_time_goes(rows) -> List[str]:
    """Per kind of process, CPU ms per answered message at 50 conversations, with one and two
    Rasa instances: what the cores were busy with."""
    at_50 = {instances: row for instances, row in rows if row["users"] == 50}
    kinds = sorted(set().union(*(row["cpu"] for row in at_50.values())), key=lambda kind: -at_50["2"]["cpu"].get(kind, 0))
    lines = ["**Where the time goes** (measured in the same run: CPU time of each kind of process from /proc, "
             "at 50 concurrent conversations; ms of CPU per answered message, and the share of all the CPU used):", "",
             "| process | one Rasa instance | two Rasa instances |", "|---|---|---|"]
    for kind in kinds:
        cells = []
        for instances in ("1", "2"):
            row = at_50[instances]
            answered = max(1, row["requests"] - row["errors"])
            total = sum(row["cpu"].values()) or 1.0
            cells.append(f"{1000 * row['cpu'].get(kind, 0) / answered:.0f} ms ({100 * row['cpu'].get(kind, 0) / total:.0f}%)")
        lines.append(f"| {kind} | {cells[0]} | {cells[1]} |")
    for instances in ("1", "2"):
        row = at_50[instances]
        busy = sum(row["cpu"].values()) / (2 * row["seconds"])
        lines.append(f"\nWith {instances} Rasa instance{'s' if instances == '2' else ''} the processes above kept the 2 cores "
                     f"{100 * busy:.0f}% busy.")
    return lines
