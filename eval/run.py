"""Run the evaluation sets through the real stack and write eval/REPORT.md.

- the development set (eval/heldout/*.yml): tune on it freely; its misses are listed;
- the second development set (eval/dev2/*.yml): written on 2026-12-01 by a writer who saw neither
  the training data nor the other sets; its misses are listed too, so once read it is a
  development set like the first (never copy its texts into training data);
- the sealed test set (eval/sealed/*.yml): written apart from the training data and never
  tuned on. Only its figures are printed, never its texts or misses, and each run is added
  to the report's history with the model's fingerprint (report it once per model change).

The stack is the trained model, the action server and a fresh SQLite database seeded from
data/knowledge, exactly as `make run` serves it. A first message the assistant answers counts
for first-turn accuracy; a clarification counts for two-turn accuracy when pressing the
expected topic's button (sent as the second turn) answers that topic."""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from desk.config import PROJECT_ROOT
from tests.support.databases import prepare_database
from tests.support.stack import custom_of, running_assistant

HELDOUT = PROJECT_ROOT / "eval" / "heldout"
DEV2 = PROJECT_ROOT / "eval" / "dev2"
SEALED = PROJECT_ROOT / "eval" / "sealed"
REPORT = PROJECT_ROOT / "eval" / "REPORT.md"
FINGERPRINT = PROJECT_ROOT / "models" / "fingerprint.sha256"
TARGETS = {"accuracy": 0.95, "wrong_topic": 0.02, "escalation_recall": 0.95, "two_turn": 0.98}
LONG_WORDS = 40
HISTORY_HEADER = "## Sealed set: history"


def load_cases(folder: Path = HELDOUT) -> List[Dict[str, str]]:
    cases = []
    for path in sorted(folder.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            cases.append({**case, "file": path.name})
    return cases


def outcome(replies) -> Dict:
    custom = custom_of(replies)
    if custom.get("topic"):
        return {"kind": "answer", "topic": custom["topic"]}
    if custom.get("clarify"):
        return {"kind": "clarify", "topic": "", "options": list(custom["clarify"])}
    if custom.get("escalation"):
        return {"kind": "escalation", "topic": ""}
    return {"kind": "other", "topic": ""}


def is_miss(result: Dict) -> bool:
    """An out-of-scope message answered, or an in-scope one not answered with its topic."""
    if result["expect"] == "escalate":
        return result["kind"] == "answer"
    return result["kind"] != "answer" or result["topic"] != result["expect"]


def button_for(replies, topic: str) -> Optional[str]:
    """The payload of the clarification button that chooses `topic`."""
    pattern = re.compile(rf"(^|[/\"':,{{\s]){re.escape(topic)}($|[\"'}},\s])")
    for message in replies:
        for button in message.get("buttons") or []:
            if pattern.search(button.get("payload") or ""):
                return button["payload"]
    return None


def length_band(text: str) -> str:
    return "long" if len(text.split()) > LONG_WORDS else "short"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def score(results: List[Dict], by: str = "lang") -> Dict[str, Dict[str, float]]:
    """Figures per value of `by` (a case key, or "length") and for "all"."""
    groups: Dict[str, List[Dict]] = defaultdict(list)
    for result in results:
        key = length_band(result["text"]) if by == "length" else result.get(by, "")
        groups[key].append(result)
        groups["all"].append(result)
    table = {}
    for key, items in groups.items():
        in_scope = [r for r in items if r["expect"] != "escalate"]
        out_scope = [r for r in items if r["expect"] == "escalate"]
        correct = sum(r["kind"] == "answer" and r["topic"] == r["expect"] for r in in_scope)
        wrong = sum(r["kind"] == "answer" and r["topic"] != r["expect"] for r in in_scope)
        two_turn = correct + sum(r["kind"] == "clarify" and r.get("second_topic") == r["expect"] for r in in_scope)
        table[key] = {
            "in_scope": len(in_scope),
            "accuracy": _ratio(correct, len(in_scope)),
            "wrong_topic": _ratio(wrong, len(in_scope)),
            "clarified": _ratio(sum(r["kind"] == "clarify" for r in in_scope), len(in_scope)),
            "escalated_in_scope": _ratio(sum(r["kind"] == "escalation" for r in in_scope), len(in_scope)),
            "two_turn": _ratio(two_turn, len(in_scope)),
            "out_of_scope": len(out_scope),
            "escalation_recall": _ratio(sum(r["kind"] == "escalation" for r in out_scope), len(out_scope)),
        }
    return table


def run_cases(assistant, cases: List[Dict], concurrency: int) -> List[Dict]:
    def run(case):
        sender = f"eval-{uuid.uuid4().hex[:10]}"
        replies = assistant.say(sender, case["text"])
        result = {**case, **outcome(replies)}
        if result["kind"] == "clarify" and case["expect"] in result["options"]:
            payload = button_for(replies, case["expect"])
            if payload:
                result["second_topic"] = outcome(assistant.say(sender, payload)).get("topic", "")
        return result

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(run, cases))


COLUMNS = ("in_scope", "accuracy", "wrong_topic", "clarified", "escalated_in_scope", "two_turn",
           "out_of_scope", "escalation_recall")


def table_lines(table: Dict[str, Dict[str, float]], order) -> List[str]:
    lines = ["| group | in-scope | accuracy | wrong topic | clarified | escalated | two-turn | out-of-scope | "
             "escalation recall |", "|---|---|---|---|---|---|---|---|---|"]
    for key in order:
        if key not in table:
            continue
        row = table[key]
        cells = [str(row[c]) if isinstance(row[c], int) else f"{row[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def definitions(count: int, folder: str, seconds: float) -> List[str]:
    return [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `make eval` ({count} first messages from "
        f"{folder}, {seconds:.0f} s through the REST channel), model `{model_fingerprint()[:12]}`.",
        "",
    ]


def model_fingerprint() -> str:
    return FINGERPRINT.read_text().strip() if FINGERPRINT.exists() else "unknown"


DEFINITIONS = [
    "- accuracy: in-scope first messages answered with the expected topic (target >= 0.95)",
    "- wrong topic: in-scope first messages answered with another topic (target <= 0.02)",
    "- clarified: in-scope first messages answered with a question about which topic is meant",
    "- escalated: in-scope first messages for which the assistant offered a person",
    "- two-turn: answered right at once, or right after pressing the expected topic's button in the "
    "clarification (target >= 0.98)",
    "- escalation recall: out-of-scope first messages for which the assistant offered a person (target >= 0.95)",
    f"- long: more than {LONG_WORDS} words; short: the rest",
]


DEVELOPMENT_SETS = {"development": ("Development set", HELDOUT), "development2": ("Second development set", DEV2)}


def render_development(results: List[Dict], seconds: float, name: str = "development") -> List[str]:
    title, folder = DEVELOPMENT_SETS[name]
    where = f"eval/{folder.name}"
    lines = [f"## {title} ({where})", ""] + definitions(len(results), where + "/", seconds)
    lines += table_lines(score(results), ("all", "it", "en", "other"))
    lines += [""] + table_lines(score(results, "length"), ("short", "long"))
    misses = [r for r in results if is_miss(r)]
    lines += ["", f"### {title}: misses ({len(misses)})", "", "| lang | expected | got | text |", "|---|---|---|---|"]
    for r in sorted(misses, key=lambda r: (r["expect"], r["lang"])):
        got = r["topic"] or r["kind"]
        if r["kind"] == "clarify":
            got = "clarify: " + ", ".join(r["options"])
        lines.append(f"| {r['lang']} | {r['expect']} | {got} | {r['text'][:120].replace('|', '/')} |")
    return lines


def previous_sections() -> Dict[str, List[str]]:
    """The report's sections ("## " headings) as last written, so that a run of one set keeps the others'."""
    if not REPORT.exists():
        return {}
    sections: Dict[str, List[str]] = {}
    current: Optional[str] = None
    for line in REPORT.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line
            sections[current] = []
        if current is not None:
            sections[current].append(line)
    return {heading: lines + [""] if lines[-1] else lines for heading, lines in sections.items()}


def render_sealed(results: List[Dict], seconds: float) -> List[str]:
    lines = ["## Sealed test set (eval/sealed)", "",
             "Written by writers who saw neither the training data nor the development misses. Only figures "
             "are reported: its texts and misses are never read to tune the assistant.", ""]
    lines += definitions(len(results), "eval/sealed/", seconds)
    lines += table_lines(score(results), ("all", "it", "en"))
    lines += [""] + table_lines(score(results, "length"), ("short", "long"))
    lines += [""] + table_lines(score(results, "style"), ("short", "long", "real", "english"))
    return lines


def history_row(results: List[Dict]) -> str:
    figures = score(results)
    overall, by_language, by_length = figures["all"], figures, score(results, "length")
    return (f"| {datetime.now(timezone.utc):%Y-%m-%d} | `{model_fingerprint()[:12]}` | {overall['accuracy']:.3f} | "
            f"{overall['wrong_topic']:.3f} | {overall['escalation_recall']:.3f} | {overall['two_turn']:.3f} | "
            f"{by_language.get('it', {}).get('accuracy', float('nan')):.3f} / "
            f"{by_language.get('en', {}).get('accuracy', float('nan')):.3f} | "
            f"{by_length.get('short', {}).get('accuracy', float('nan')):.3f} / "
            f"{by_length.get('long', {}).get('accuracy', float('nan')):.3f} |")


def previous_history() -> List[str]:
    if not REPORT.exists():
        return []
    text = REPORT.read_text(encoding="utf-8")
    if HISTORY_HEADER not in text:
        return []
    section = text.split(HISTORY_HEADER, 1)[1].strip().splitlines()
    return [line for line in section if line.startswith("| 2")]


def targets_met(results: List[Dict]) -> bool:
    overall = score(results)["all"]
    return (overall["accuracy"] >= TARGETS["accuracy"] and overall["wrong_topic"] <= TARGETS["wrong_topic"]
            and overall["escalation_recall"] >= TARGETS["escalation_recall"]
            and overall["two_turn"] >= TARGETS["two_turn"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=("development", "development2", "sealed"), help="run one set only")
    args = parser.parse_args(argv)
    sets = [name for name in ("development", "development2", "sealed") if args.only in (None, name)]
    results: Dict[str, List[Dict]] = {}
    seconds: Dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'eval.db'}"
        prepare_database(url)
        with running_assistant(url, name="eval") as assistant:
            for name in sets:
                started = time.monotonic()
                folder = DEVELOPMENT_SETS[name][1] if name in DEVELOPMENT_SETS else SEALED
                results[name] = run_cases(assistant, load_cases(folder), args.concurrency)
                seconds[name] = time.monotonic() - started
    lines = ["# Evaluation", ""] + DEFINITIONS + [""]
    kept = previous_sections()
    for name, (title, folder) in DEVELOPMENT_SETS.items():
        if name in results:
            lines += render_development(results[name], seconds[name], name) + [""]
        else:
            lines += kept.get(f"## {title} (eval/{folder.name})", [])
    history = previous_history()
    if "sealed" not in results:
        lines += kept.get("## Sealed test set (eval/sealed)", [])
    else:
        lines += render_sealed(results["sealed"], seconds["sealed"]) + [""]
        row = history_row(results["sealed"])
        same_model = history and history[-1].split("|")[2] == row.split("|")[2]
        history = history[:-1] + [row] if same_model else history + [row]
    lines += [HISTORY_HEADER, "", "One row per model change: accuracy, wrong topic, escalation recall, two-turn, "
              "accuracy Italian / English, accuracy short / long.", "",
              "| date | model | accuracy | wrong topic | escalation recall | two-turn | it / en | short / long |",
              "|---|---|---|---|---|---|---|---|"] + history
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in sets:
        print(f"\n{name} set")
        print("\n".join(table_lines(score(results[name]), ("all", "it", "en", "other"))))
        print("\n".join(table_lines(score(results[name], "length"), ("short", "long"))))
        print("targets met" if targets_met(results[name]) else "targets NOT met")
    print(f"\nfull report: {REPORT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
