"""BENCHMARKS.md is made of sections; each benchmark rewrites only its own."""
from __future__ import annotations

import re
import statistics
from typing import Sequence

from desk.config import PROJECT_ROOT

BENCHMARKS = PROJECT_ROOT / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nFigures measured on this project's 2-core machine. Each section says the command that reproduces it.\n"


def write_section(name: str, body: str) -> None:
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEADER
    block = f"<!-- section:{name} -->\n{body.strip()}\n<!-- /section:{name} -->"
    pattern = re.compile(rf"<!-- section:{re.escape(name)} -->.*?<!-- /section:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]
