"""Evaluate trained models on the development set (eval/heldout) in-process: each model is
loaded with Rasa's Agent and every case is parsed by its NLU pipeline, without the Rasa server,
the action server or a database. An intent that is a topic id counts as an answer of that topic;
anything else (nlu_fallback, out_of_scope, greetings...) counts as an escalation. The figures
therefore measure understanding only and can differ slightly from `make eval`, which goes through
the whole stack (e.g. language checks); both models are measured the same way.

Loading Rasa costs memory and time, so the worker runs this module in a child process, from the
project root (eval/ and our Rasa components are imported from there):
    python -m desk.services.models.evaluation --out figures.json [--live LIVE.tar.gz
        --live-dataset HASH] CANDIDATE.tar.gz
The live model is evaluated only when its cached figures were measured on other cases.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Sequence

from desk.config import PROJECT_ROOT


def outcome_of_intent(intent: Optional[str], topics: Collection[str]) -> Dict[str, str]:
    """eval.run's outcome shape for one parsed message."""
    if intent in topics:
        return {"kind": "answer", "topic": intent}
    return {"kind": "escalation", "topic": ""}


def dataset_fingerprint(cases: Sequence[Dict]) -> str:
    """Figures are comparable only on the same cases: cached figures carry this hash."""
    canonical = json.dumps([[case["text"], case["lang"], case["expect"]] for case in cases], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def development_cases() -> List[Dict]:
    from eval.run import load_cases

    return load_cases()


async def _parse_all(agent, cases: Sequence[Dict], topics: Collection[str]) -> List[Dict]:
    results = []
    for case in cases:
        parsed = await agent.parse_message(case["text"])
        results.append({**case, **outcome_of_intent((parsed.get("intent") or {}).get("name"), topics)})
    return results


def evaluate_model_file(model_path: Path, cases: Sequence[Dict]) -> Dict:
    """{"score": eval.run.score(...), "misses": n} for one model file."""
    from rasa.core.agent import Agent

    from desk.topics import topic_ids
    from eval.run import is_miss, score

    agent = Agent.load(str(model_path))
    results = asyncio.run(_parse_all(agent, cases, set(topic_ids())))
    misses = sum(is_miss(r) for r in results)
    return {"score": score(results), "misses": misses, "cases": len(results)}


def evaluate_in_child_process(
    candidate: Path, out_file: Path, log_file: Path, live: Optional[Path] = None, live_dataset: Optional[str] = None,
    keep_waiting: Callable[[], bool] = lambda: True, timeout: float = 900, poll_seconds: float = 5,
) -> Dict:
    """Run this module in a child process (appending its output to log_file) and return
    {"dataset": ..., "models": {str(path): figures}}, the live model included only if it was
    measured again. keep_waiting() is called every poll_seconds (the worker renews its lease
    there); False stops the child."""
    command = [sys.executable, "-m", "desk.services.models.evaluation", "--out", str(out_file)]
    if live is not None:
        command += ["--live", str(live), "--live-dataset", live_dataset or ""]
    command.append(str(candidate))
    with open(log_file, "ab") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        _wait(process, keep_waiting, timeout, poll_seconds)
    if process.returncode != 0:
        raise RuntimeError(f"evaluation exited with {process.returncode}")
    return json.loads(out_file.read_text(encoding="utf-8"))


def _wait(process: subprocess.Popen, keep_waiting: Callable[[], bool], timeout: float, poll_seconds: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            process.wait(timeout=poll_seconds)
            return
        except subprocess.TimeoutExpired:
            pass
        if not keep_waiting() or time.monotonic() > deadline:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise RuntimeError("evaluation stopped (lease lost or too slow)")


def _quiet_rasa() -> None:
    import logging

    import structlog

    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate models on eval/heldout (NLU only).")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--live", type=Path, help="the live model, measured unless --live-dataset is current")
    parser.add_argument("--live-dataset", default="", help="the dataset hash of the live model's cached figures")
    parser.add_argument("candidate", type=Path)
    args = parser.parse_args(argv)
    _quiet_rasa()
    # Our own Rasa components (classifiers/, policies/) are imported by name from the project root.
    sys.path.insert(0, str(PROJECT_ROOT))
    cases = development_cases()
    figures = {"dataset": dataset_fingerprint(cases), "models": {}}
    models = [args.candidate]
    if args.live is not None and args.live_dataset != figures["dataset"]:
        models.append(args.live)
    for path in models:
        figures["models"][str(path)] = evaluate_model_file(path, cases)
        print(f"evaluated {path.name}: {json.dumps(figures['models'][str(path)]['score']['all'])}", flush=True)
    args.out.write_text(json.dumps(figures), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
