"""The evaluation gate: a candidate model may replace the live one only if it is not worse on the
development set (eval/heldout). Pure functions over two score tables (eval.run.score's "all" row).

The rule, on all held-out cases together:
- accuracy (in-scope questions answered with the right topic) must not drop at all;
- the wrong-topic rate may rise by at most WRONG_TOPIC_TOLERANCE (0.005: one case in about 200);
- escalation recall (out-of-scope questions escalated) may drop by at most
  ESCALATION_RECALL_TOLERANCE (0.015: one case in about 70).
A candidate is judged on its own when there is no live model to compare with."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Mapping, Optional, Tuple

ACCURACY_TOLERANCE = 0.0
WRONG_TOPIC_TOLERANCE = 0.005
ESCALATION_RECALL_TOLERANCE = 0.015
# Figures are fractions of a few hundred cases: anything closer than this is equal.
EPSILON = 1e-9


@dataclass(frozen=True)
class Check:
    metric: str
    label: str
    candidate: float
    live: Optional[float]
    tolerance: float
    higher_is_better: bool
    passed: bool


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    checks: Tuple[Check, ...]

    @property
    def failed_checks(self) -> List[Check]:
        return [check for check in self.checks if not check.passed]

    def as_dict(self) -> Dict:
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}


# (metric, label in the desk, tolerance, higher is better)
RULES = (
    ("accuracy", "Accuratezza", ACCURACY_TOLERANCE, True),
    ("wrong_topic", "Argomento sbagliato", WRONG_TOPIC_TOLERANCE, False),
    ("escalation_recall", "Fuori ambito passati a una persona", ESCALATION_RECALL_TOLERANCE, True),
)


def _number(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _not_worse(candidate: Optional[float], live: Optional[float], tolerance: float, higher_is_better: bool) -> bool:
    if live is None:
        return True  # nothing to compare with (no live model, or no such cases)
    if candidate is None:
        return False  # the live model was measured on cases the candidate could not be
    if higher_is_better:
        return candidate >= live - tolerance - EPSILON
    return candidate <= live + tolerance + EPSILON


def judge(candidate: Mapping[str, float], live: Optional[Mapping[str, float]]) -> GateDecision:
    """Compare a candidate's figures with the live model's (each eval.run.score(...)["all"])."""
    checks = []
    for metric, label, tolerance, higher_is_better in RULES:
        candidate_value = _number(candidate.get(metric))
        live_value = _number(live.get(metric)) if live is not None else None
        checks.append(Check(metric, label, candidate_value, live_value, tolerance, higher_is_better,
                            _not_worse(candidate_value, live_value, tolerance, higher_is_better)))
    return GateDecision(all(check.passed for check in checks), tuple(checks))
