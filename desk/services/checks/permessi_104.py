"""L. 104/1992 art. 33 permits: the monthly entitlement in days and in hours for the
user's working week, what is left this month when relatives share the permits, and
the alternative for a worker with a severe disability (art. 33 c. 6).

It never asks about anyone's health: it shows both entitlements."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List

from desk.services.checks.answers import InvalidAnswer, as_decimal, read_number
from desk.services.checks.result import CheckResult, ParameterSet, Step, number

CHECK = TOPIC = "permessi_104"
P = "permessi_104."
FIELDS = {"weekly_hours": "number", "working_days": "number", "days_used": "number"}
CHOICES: Dict[str, Dict[str, tuple]] = {}
QUESTION_VALUES: Dict[str, Dict[str, str]] = {}
MAX_WEEKLY_HOURS = Decimal(60)  # a plausibility bound on the answer, not a rule of law
DAYS_IN_WEEK = Decimal(7)


def needed(answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    return list(FIELDS)


def parse(field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    value = read_number(text)
    if field == "weekly_hours" and not (0 < value <= MAX_WEEKLY_HOURS):
        raise InvalidAnswer("weekly_hours_invalid")
    if field == "working_days" and (value != value.to_integral_value() or not 1 <= value <= DAYS_IN_WEEK):
        raise InvalidAnswer("working_days_invalid")
    if field == "days_used":
        most = params.at(P + "days_per_month", today)
        if value > most:
            raise InvalidAnswer("days_too_many", most=number(most))
    return str(value)


def _hours(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def compute(answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    weekly = as_decimal(answers["weekly_hours"])
    working_days = as_decimal(answers["working_days"])
    used = as_decimal(answers["days_used"])
    days = params.at(P + "days_per_month", today)
    daily = weekly / working_days
    monthly_hours = _hours(daily * days)
    left_days = days - used
    left_hours = _hours(daily * left_days)
    threshold = params.at(P + "own_short_day_below_hours", today)
    own_per_day = params.at(P + ("own_hours_per_day_short" if daily < threshold else "own_hours_per_day"), today)
    steps = [
        Step("p104_days", {"days": days}),
        Step("p104_hours", {"weekly": weekly, "working_days": working_days, "daily": _hours(daily), "days": days,
                            "monthly": monthly_hours}),
        Step("p104_left", {"used": used, "left_days": left_days, "left_hours": left_hours}),
        Step("p104_sharing", {"days": days}),
        Step("p104_own_short" if daily < threshold else "p104_own", {"per_day": own_per_day, "threshold": threshold,
                                                                        "days": days}),
    ]
    figures = {
        "days_per_month": number(days), "hours_per_day": number(_hours(daily)), "hours_per_month": number(monthly_hours),
        "days_left_this_month": number(left_days), "hours_left_this_month": number(left_hours),
        "own_permit_hours_per_day": number(own_per_day),
    }
    limits = [Step("p104_limit_ccnl"), Step("p104_limit_requirements"), Step("p104_limit_no_health")]
    return CheckResult(CHECK, figures, steps, limits, list(params.used))
