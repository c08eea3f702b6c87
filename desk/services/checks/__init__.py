"""Guided checks: the assistant works out the user's own case, step by step.

One module per check (pure rules: which answers are needed, how to read each
answer, how to compute the result), `parameters` for the numbers that change by
law (database, seed file), `result` for the shared result type, `texts` for what
the user reads. Nothing here talks to Rasa; only `parameters` touches the database."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import ModuleType
from typing import Any, Dict, List, Optional

from desk.services.checks import bonus_asilo_nido, congedo_parentale, congedo_paternita, fringe_benefit, permessi_104
from desk.services.checks.answers import InvalidAnswer
from desk.services.checks.result import CheckResult, ParameterOutdated, ParameterSet, outdated_result

CHECKS: Dict[str, ModuleType] = {
    module.CHECK: module
    for module in (congedo_parentale, congedo_paternita, permessi_104, fringe_benefit, bonus_asilo_nido)
}
# The knowledge-base topic whose answer offers each check.
CHECK_OF_TOPIC = {module.TOPIC: check for check, module in CHECKS.items()}

__all__ = ["CHECKS", "CHECK_OF_TOPIC", "InvalidAnswer", "CheckResult", "ParameterOutdated", "ParameterSet",
           "next_field", "question_values", "read_answer", "run_check", "fields_of"]


def fields_of(check: str) -> Dict[str, str]:
    return CHECKS[check].FIELDS


def next_field(check: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Optional[str]:
    """The next field to ask, or None when the check can compute (or a rule is being updated)."""
    try:
        needed = CHECKS[check].needed(answers, params.fresh(), today)
    except ParameterOutdated:
        return None
    return next((field for field in needed if answers.get(field) is None), None)


def needed_fields(check: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    try:
        return CHECKS[check].needed(answers, params.fresh(), today)
    except ParameterOutdated:
        return []


def question_values(check: str, field: str, params: ParameterSet, today: date) -> Dict[str, Any]:
    """The parameters a question shows (e.g. the income limit); ParameterOutdated if one is not in force."""
    return {name: params.at(key, today) for name, key in CHECKS[check].QUESTION_VALUES.get(field, {}).items()}


def read_answer(check: str, field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    """The normalised answer, or InvalidAnswer. A bound that depends on a rule being
    updated is not checked here: the result will say the rule is being updated."""
    try:
        return CHECKS[check].parse(field, text, answers, params.fresh(), today)
    except ParameterOutdated:
        return CHECKS[check].parse(field, text, answers, _Unbounded(), today)


class _Unbounded(ParameterSet):
    """Stands in for the parameters when one is outdated: every bound is infinite."""

    def __init__(self):
        super().__init__([])

    def at(self, key, day):
        return Decimal("Infinity")


def run_check(check: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    used = params.fresh()
    try:
        return CHECKS[check].compute(answers, used, today)
    except ParameterOutdated as error:
        return outdated_result(check, error, used.used)
