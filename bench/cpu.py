"""CPU time each process of the assistant spends per message: where the cost is.

Reads the kernel's CPU accounting (/proc/<pid>/stat) of the Rasa server and the
action server around a run of held-out questions sent one at a time, so the
figure depends less on what else the machine is doing than wall time would (on
the shared 2-core machine the same code still gave 94-137 ms for the Rasa server
within the same hour: compare two versions side by side). This is how we found
that Rasa's per-call check of action-server responses against a JSON schema
took about 30% of the Rasa server's CPU (policies/action_validation.py), and,
with py-spy on the Rasa server during this run, that Rasa's applied events grew
quadratically while a form stays active (policies/applied_events.py) and that the
two calls to the action server per message, each carrying the whole tracker, took
a quarter of the message handling (policies/tracker_window.py)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

from bench.assistant import full_stack_messages, load
from bench.report import write_section
from tests.support.databases import prepare_database
from tests.support.stack import running_assistant

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def pids_listening_on(port: str) -> List[int]:
    found = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def run(messages: int = 150) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'cpu.db'}"
        prepare_database(url)
        with running_assistant(url, name="bench-cpu") as assistant:
            processes: Dict[str, List[int]] = {
                "Rasa server": pids_listening_on(assistant.url.rsplit(":", 1)[1]),
                "action server": pids_listening_on(assistant.actions_url.rsplit(":", 1)[1]),
            }
            asyncio.run(load(assistant.url, full_stack_messages(), 1, 20))  # warm up
            before = {name: sum(map(cpu_seconds, pids)) for name, pids in processes.items()}
            # One long conversation, as when the baseline below was measured.
            result = asyncio.run(load(assistant.url, full_stack_messages(), 1, messages, messages_per_conversation=messages))
            after = {name: sum(map(cpu_seconds, pids)) for name, pids in processes.items()}
    lines = [
        "## Assistant: CPU per message",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `.venv/bin/python -m bench.run --only cpu` "
        f"(bench/cpu.py): {result['requests']} held-out questions sent one at a time in one conversation, CPU time from the kernel's "
        "accounting of each process.",
        "",
        "| process | CPU ms per message |",
        "|---|---|",
    ]
    lines += [f"| {name} | {1000 * (after[name] - before[name]) / messages:.0f} |" for name in processes]
    lines += ["", "The questions come in the development set's order. From the seventh on, the guided check of "
              "congedo parentale starts; a question about a topic in the middle of a check now ends the check and is "
              "answered (actions/checks.py), so the conversation no longer stays inside the form as it did when 449 ms "
              "and 98 ms were measured. Before the tracker's applied events were computed in linear time "
              "(policies/applied_events.py) and event classes were looked up once per name (policies/event_types.py), "
              "the same command gave 449 ms for the Rasa server (2026-12-01). Before each call to the action server "
              "carried only the events its actions read instead of the whole tracker (policies/tracker_window.py), the "
              "same command gave 26-32 ms for the action server and 115-173 ms for the Rasa server (2026-12-01, 7 runs "
              "on the shared machine, load average 1-7).",
              "", "Before the action-server response check was compiled once (policies/action_validation.py), the "
              "same measurement (150 messages in one conversation) gave 134 ms for the Rasa server and 21 ms for the action server "
              "(2026-11-25, ad hoc run of this method). The cost grows with the length of the conversation: with "
              "200 messages the Rasa server took 100 ms per message (same day, same method)."]
    body = "\n".join(lines)
    write_section("cpu", body)
    return body
