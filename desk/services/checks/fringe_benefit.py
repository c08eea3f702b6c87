"""Fringe benefits (TUIR art. 51 c. 3, L. 207/2024 art. 1 c. 390-391): the yearly
tax-free ceiling for one employee, what is left after what was given, and the
cliff effect: over the ceiling, the whole amount becomes taxable."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Dict, List

from desk.services.checks.answers import as_decimal, read_amount, read_yes_no
from desk.services.checks.result import CheckResult, ParameterSet, Step, number

CHECK = "fringe_benefit"
TOPIC = "fringe_benefit_soglie"
P = "fringe_benefit."
FIELDS = {"dependent_children": "yes_no", "given": "amount", "planned": "amount"}
CHOICES: Dict[str, Dict[str, tuple]] = {}
QUESTION_VALUES: Dict[str, Dict[str, str]] = {}


def needed(answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    return list(FIELDS)


def parse(field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    if field == "dependent_children":
        return read_yes_no(text)
    return str(read_amount(text))


def compute(answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    children = bool(answers["dependent_children"])
    ceiling = params.at(P + ("ceiling_with_children" if children else "ceiling"), today)
    given = as_decimal(answers["given"])
    planned = as_decimal(answers.get("planned")) or Decimal(0)
    total = given + planned
    left = max(ceiling - given, Decimal(0))
    steps = [Step("fb_ceiling_children" if children else "fb_ceiling", {"year": today.year, "ceiling": ceiling})]
    if given > ceiling:
        steps.append(Step("fb_already_over", {"given": given, "ceiling": ceiling}))
    else:
        steps.append(Step("fb_left", {"given": given, "ceiling": ceiling, "left": left}))
        if planned > 0 and total > ceiling:
            steps.append(Step("fb_cliff", {"planned": planned, "total": total, "ceiling": ceiling, "left": left}))
        elif planned > 0:
            steps.append(Step("fb_planned_ok", {"planned": planned, "total": total, "left": ceiling - total}))
    over = total > ceiling
    figures = {
        "ceiling": number(ceiling), "given": number(given), "planned": number(planned), "total": number(total),
        "left": number(left), "over_ceiling": over, "taxable_amount": number(total if over else Decimal(0)),
        "year": today.year,
    }
    limits = [Step("fb_limit_children_declaration" if children else "fb_limit_children_hint"),
              Step("fb_limit_what_counts"), Step("fb_limit_welfare")]
    return CheckResult(CHECK, figures, steps, limits, list(params.used))
