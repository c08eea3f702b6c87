"""Tune the clarification thresholds (desk/services/understanding.py) on an evaluation set:
the trained model's NLU parses every case (no servers needed) and the case is scored by
what the assistant would do with it.

    .venv/bin/python -m eval.clarify                      # eval/heldout/*.yml, default thresholds
    DIALOGA_CLARIFY_MIN_COMBINED_CONFIDENCE=0.5 .venv/bin/python -m eval.clarify path/to/dev/*.yml

A case the FallbackClassifier lets through is answered with its top intent; an uncertain one
(nlu_fallback) is decided by `decide`. Cases in other languages are left out (they are
offered a person whatever the ranking)."""
from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List

import yaml

from desk.config import PROJECT_ROOT
from desk.services.understanding import FALLBACK_INTENT, Answer, Clarify, Thresholds, decide
from desk.topics import load_topics

MODEL = PROJECT_ROOT / "models" / "dialoga.tar.gz"
DEFAULT_SET = sorted((PROJECT_ROOT / "eval" / "heldout").glob("*.yml"))


def load_cases(paths: List[Path]) -> List[Dict[str, str]]:
    cases = []
    for path in paths:
        cases += [case for case in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["cases"]
                  if case.get("lang") in ("it", "en")]
    return cases


def outcome(parse: Dict, expected: str, topics, thresholds: Thresholds) -> str:
    intent = parse["intent"]["name"]
    if intent != FALLBACK_INTENT:
        if intent not in topics:
            return "offer"
        return "answered right" if intent == expected else "answered wrong"
    decision = decide(parse.get("intent_ranking") or [], topics, thresholds)
    if isinstance(decision, Answer):
        return "answered right" if decision.topic == expected else "answered wrong"
    if isinstance(decision, Clarify):
        return "clarified, right topic offered" if expected in decision.topics else "clarified, right topic missing"
    return "offer"


async def parse_all(texts: List[str]) -> List[Dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    return [await agent.parse_message(text) for text in texts]


def main(argv: List[str]) -> int:
    cases = load_cases([Path(arg) for arg in argv] or DEFAULT_SET)
    thresholds, topics = Thresholds.from_env(), load_topics()
    parses = asyncio.run(parse_all([case["text"] for case in cases]))
    counts = {"in scope": Counter(), "out of scope": Counter()}
    for case, parse in zip(cases, parses):
        scope = "out of scope" if case["expect"] == "escalate" else "in scope"
        counts[scope][outcome(parse, case["expect"], topics, thresholds)] += 1
    print(f"thresholds: {thresholds}\n")
    kinds = ("answered right", "answered wrong", "clarified, right topic offered", "clarified, right topic missing", "offer")
    print("| cases | n | " + " | ".join(kinds) + " |")
    print("|---" * (len(kinds) + 2) + "|")
    for scope, counter in counts.items():
        total = sum(counter.values())
        shares = " | ".join(f"{counter[kind]} ({counter[kind] / total:.1%})" if total else "0" for kind in kinds)
        print(f"| {scope} | {total} | {shares} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
