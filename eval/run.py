"""Run the held-out set (eval/heldout/*.yml) through the real stack and report
topic accuracy, wrong-topic rate and escalation recall per language.

The stack is the trained model, the action server and a fresh SQLite
database seeded from data/knowledge, exactly as `make run` serves it."""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import yaml

from desk.config import PROJECT_ROOT
from tests.support.databases import prepare_database
from tests.support.stack import custom_of, running_assistant

HELDOUT = PROJECT_ROOT / "eval" / "heldout"
REPORT = PROJECT_ROOT / "eval" / "REPORT.md"
TARGETS = {"accuracy": 0.92, "wrong_topic": 0.03, "escalation_recall": 0.90}


def load_cases() -> List[Dict[str, str]]:
    cases = []
    for path in sorted(HELDOUT.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            cases.append({**case, "file": path.name})
    return cases


def outcome(replies) -> Dict[str, str]:
    custom = custom_of(replies)
    if custom.get("topic"):
        return {"kind": "answer", "topic": custom["topic"]}
    if custom.get("escalation"):
        return {"kind": "escalation", "topic": ""}
    if custom.get("clarify"):  # asked which topic was meant: neither an answer nor an offer
        return {"kind": "clarify", "topic": ""}
    return {"kind": "other", "topic": ""}


def score(results: List[Dict]) -> Dict[str, Dict[str, float]]:
    groups: Dict[str, List[Dict]] = defaultdict(list)
    for result in results:
        groups[result["lang"]].append(result)
        groups["all"].append(result)
    table = {}
    for language, items in groups.items():
        in_scope = [r for r in items if r["expect"] != "escalate"]
        out_scope = [r for r in items if r["expect"] == "escalate"]
        correct = sum(r["kind"] == "answer" and r["topic"] == r["expect"] for r in in_scope)
        wrong = sum(r["kind"] == "answer" and r["topic"] != r["expect"] for r in in_scope)
        escalated = sum(r["kind"] == "escalation" for r in out_scope)
        table[language] = {
            "in_scope": len(in_scope),
            "accuracy": correct / len(in_scope) if in_scope else float("nan"),
            "wrong_topic": wrong / len(in_scope) if in_scope else float("nan"),
            "escalated_in_scope": sum(r["kind"] != "answer" for r in in_scope) / len(in_scope) if in_scope else float("nan"),
            "out_of_scope": len(out_scope),
            "escalation_recall": escalated / len(out_scope) if out_scope else float("nan"),
        }
    return table


def render(table, results, seconds: float) -> str:
    lines = [
        "# Held-out evaluation",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `make eval` "
        f"({len(results)} cases from eval/heldout/, {seconds:.0f} s through the REST channel).",
        "",
        "- accuracy: in-scope questions answered with the expected topic (target >= 0.92)",
        "- wrong topic: in-scope questions answered with another topic (target <= 0.03)",
        "- escalated: in-scope questions the assistant escalated instead of answering",
        "- escalation recall: out-of-scope questions escalated (target >= 0.90)",
        "",
        "| language | in-scope | accuracy | wrong topic | escalated | out-of-scope | escalation recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for language in ("all", "it", "en", "other"):
        if language not in table:
            continue
        row = table[language]
        lines.append(
            f"| {language} | {row['in_scope']} | {row['accuracy']:.3f} | {row['wrong_topic']:.3f} | "
            f"{row['escalated_in_scope']:.3f} | {row['out_of_scope']} | {row['escalation_recall']:.3f} |"
        )
    misses = [r for r in results if (r["expect"] == "escalate") != (r["kind"] != "answer") or
              (r["kind"] == "answer" and r["topic"] != r["expect"])]
    lines += ["", f"## Misses ({len(misses)})", "", "| lang | expected | got | text |", "|---|---|---|---|"]
    for r in sorted(misses, key=lambda r: (r["expect"], r["lang"])):
        got = r["topic"] or r["kind"]
        lines.append(f"| {r['lang']} | {r['expect']} | {got} | {r['text'][:120].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    cases = load_cases()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'eval.db'}"
        prepare_database(url)
        with running_assistant(url, name="eval") as assistant:
            started = time.monotonic()

            def run(case):
                replies = assistant.say(f"eval-{uuid.uuid4().hex[:10]}", case["text"])
                return {**case, **outcome(replies)}

            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(run, cases))
            seconds = time.monotonic() - started
    table = score(results)
    report = render(table, results, seconds)
    REPORT.write_text(report, encoding="utf-8")
    print(report.split("## Misses")[0])
    print(f"full report with misses: {REPORT.relative_to(PROJECT_ROOT)}")
    overall = table["all"]
    met = (overall["accuracy"] >= TARGETS["accuracy"] and overall["wrong_topic"] <= TARGETS["wrong_topic"]
           and overall["escalation_recall"] >= TARGETS["escalation_recall"])
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
