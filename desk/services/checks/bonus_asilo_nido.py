"""The INPS nursery bonus (L. 232/2016 art. 1 c. 355, L. 207/2024, INPS circolari 60/2025
and 123/2025): the yearly amount for the family's ISEE band and the child's year of
birth, the monthly maximum, until when it can be asked, and what to prepare."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List

from desk.services.checks.answers import InvalidAnswer, as_date, plain, read_amount, read_date
from desk.services.checks.result import CheckResult, ParameterSet, Step, number

CHECK = TOPIC = "bonus_asilo_nido"
P = "bonus_asilo_nido."
FIELDS = {"child_birth_date": "date", "isee": "amount"}
CHOICES: Dict[str, Dict[str, tuple]] = {}
QUESTION_VALUES: Dict[str, Dict[str, str]] = {}
NO_ISEE = ("senza", "non ho", "nessun isee", "no isee", "niente isee", "non l'ho", "none", "without", "don't have",
           "dont have")


def _last_day(birth: date, params: ParameterSet, today: date) -> date:
    """The application covers the child until the end of August of the year they turn 3."""
    year = birth.year + int(params.at(P + "max_age_years", today))
    month = int(params.at(P + "last_month", today))
    next_month = date(year + (month // 12), month % 12 + 1, 1)
    return date.fromordinal(next_month.toordinal() - 1)


def needed(answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    birth = answers.get("child_birth_date")
    if birth is not None and today > _last_day(as_date(birth), params, today):
        return ["child_birth_date"]
    return list(FIELDS)


def parse(field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    if field == "child_birth_date":
        day = read_date(text)
        if day > today:
            raise InvalidAnswer("date_future_birth")
        return day.isoformat()
    value = plain(text)
    if value in ("no", "nessuno", "niente") or any(word in value for word in NO_ISEE):
        return "none"
    amount = read_amount(text)
    return str(amount)


def compute(answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    birth = as_date(answers["child_birth_date"])
    last_day = _last_day(birth, params, today)
    limits = [Step("nido_limit_tax_credit"), Step("nido_limit_funds"), Step("nido_limit_regional")]
    if today > last_day:
        steps = [Step("nido_too_old", {"last_day": last_day})]
        return CheckResult(CHECK, {"yearly_amount": 0, "monthly_max": 0, "eligible_until": last_day.isoformat()},
                           steps, limits, list(params.used))
    isee_text = answers.get("isee")
    isee = None if isee_text in (None, "none") else Decimal(isee_text)
    band_1 = params.at(P + "isee_band_1_max", today)
    band_2 = params.at(P + "isee_band_2_max", today)
    young_from = params.at(P + "young_child_born_from", today)
    young_isee_max = params.at(P + "young_child_isee_max", today)
    if isee is None:
        band, amount_key = 3, "amount_band_3"
    elif isee <= band_1:
        band, amount_key = 1, "amount_band_1"
    elif isee <= band_2:
        band, amount_key = 2, "amount_band_2"
    else:
        band, amount_key = 3, "amount_band_3"
    young = birth >= young_from and isee is not None and isee <= young_isee_max
    amount = params.at(P + ("amount_young_child" if young else amount_key), today)
    instalments = params.at(P + "instalments", today)
    monthly = (amount / instalments).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    steps = [Step("nido_no_isee" if isee is None else f"nido_band_{band}",
                  {"isee": isee, "band_1": band_1, "band_2": band_2, "amount": params.at(P + amount_key, today)})]
    if young:
        steps.append(Step("nido_young", {"born_from": young_from, "isee_max": young_isee_max, "amount": amount}))
    elif birth >= young_from:
        steps.append(Step("nido_young_not_isee", {"born_from": young_from, "isee_max": young_isee_max}))
    steps += [Step("nido_monthly", {"amount": amount, "instalments": instalments, "monthly": monthly}),
              Step("nido_until", {"last_day": last_day}),
              Step("nido_prepare")]
    figures = {"yearly_amount": number(amount), "monthly_max": number(monthly), "instalments": number(instalments),
               "isee_band": band, "isee": number(isee) if isee is not None else None,
               "eligible_until": last_day.isoformat()}
    return CheckResult(CHECK, figures, steps, limits, list(params.used))
