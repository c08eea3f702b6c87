"""Parental leave for employees (D.Lgs. 151/2001 artt. 32-34, L. 207/2024, L. 199/2025).

Months left for each parent and for the couple, and how the couple's remaining
months are paid: first the months at the higher rate (only before the child's
6th birthday; how many depends on the year the maternity leave ended), then the
rest of the paid months at the lower rate, then the last months, paid only
under the income limit."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Dict, List

from desk.services.checks.answers import InvalidAnswer, as_date, as_decimal, read_choice, read_date, read_number, read_yes_no
from desk.services.checks.dates import anniversary
from desk.services.checks.result import CheckResult, ParameterSet, Step, number

CHECK = TOPIC = "congedo_parentale"
P = "congedo_parentale."
ONE_DAY = timedelta(days=1)
FIELDS = {
    "child_date": "date",
    "maternity_end": "date",
    "single_parent": "yes_no",
    "months_used_mother": "number",
    "months_used_father": "number",
    "months_used_self": "number",
    "months_used_high": "number",
    "income_below_limit": "choice",
}
# Values a question shows, from the parameters in force today.
QUESTION_VALUES = {"income_below_limit": {"multiple": P + "income_limit_multiple"}}
CHOICES = {
    "income_below_limit": {
        "unknown": ("non so", "non lo so", "boh", "don't know", "dont know", "not sure", "no idea", "unknown"),
        "yes": ("si", "yes", "sotto", "below", "under", "inferiore", "less"),
        "no": ("no", "sopra", "above", "over", "superiore", "more"),
    },
}


def _child_limit(params: ParameterSet, answers: Dict[str, Any], today: date) -> date:
    return anniversary(as_date(answers["child_date"]), params.at(P + "child_age_limit_years", today))


def _high_rate_until(params: ParameterSet, answers: Dict[str, Any], today: date) -> date:
    return anniversary(as_date(answers["child_date"]), params.at(P + "rate_high_age_limit_years", today))


def needed(answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    fields = ["child_date"]
    if answers.get("child_date") is None or today >= _child_limit(params, answers, today):
        return fields
    under_six = today < _high_rate_until(params, answers, today)
    if under_six:
        fields.append("maternity_end")
    fields.append("single_parent")
    if answers.get("single_parent") is True:
        fields.append("months_used_self")
        used_fields = ["months_used_self"]
    else:
        fields += ["months_used_mother", "months_used_father"]
        used_fields = ["months_used_mother", "months_used_father"]
    used = sum((as_decimal(answers.get(name)) or Decimal(0)) for name in used_fields)
    if under_six and used > 0 and answers.get("maternity_end") is not None \
            and params.at(P + "months_rate_high", as_date(answers["maternity_end"])) > 0:
        fields.append("months_used_high")
    fields.append("income_below_limit")
    return fields


def parse(field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    if field in ("child_date", "maternity_end"):
        day = read_date(text)
        if day > today:
            raise InvalidAnswer("date_future")
        if field == "maternity_end" and answers.get("child_date") and day < as_date(answers["child_date"]):
            raise InvalidAnswer("date_before_child")
        return day.isoformat()
    if field == "single_parent":
        return read_yes_no(text)
    if field == "income_below_limit":
        return read_choice(text, CHOICES[field])
    months = read_number(text)
    if field == "months_used_self":
        _at_most(months, params.at(P + "months_single_parent", today))
    elif field in ("months_used_mother", "months_used_father"):
        _at_most(months, params.at(P + "months_per_parent", today))
        if field == "months_used_father":
            mother = as_decimal(answers.get("months_used_mother")) or Decimal(0)
            cap = params.at(P + "months_couple_father" if months >= params.at(P + "father_months_for_extra", today)
                            else P + "months_couple", today)
            if mother + months > cap:
                raise InvalidAnswer("months_couple_too_many", most=number(cap))
    elif field == "months_used_high":
        used = sum((as_decimal(answers.get(name)) or Decimal(0))
                   for name in ("months_used_self", "months_used_mother", "months_used_father"))
        _at_most(months, min(used, params.at(P + "months_rate_high", as_date(answers["maternity_end"]))))
    return str(months)


def _at_most(months: Decimal, most: Decimal) -> None:
    if months > most:
        raise InvalidAnswer("months_too_many", most=number(most))


def compute(answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    age_limit = params.at(P + "child_age_limit_years", today)
    leave_until = _child_limit(params, answers, today)
    last_day = leave_until - ONE_DAY
    steps = [Step("cp_age_limit", {"years": age_limit, "date": last_day})]
    limits = [Step("cp_limit_ccnl"), Step("cp_limit_other_schemes"), Step("cp_limit_adoption"), Step("cp_limit_days")]
    if today >= leave_until:
        steps.append(Step("cp_child_over_limit", {"years": age_limit}))
        figures = {"months_left_couple": 0, "months_at_high_rate": 0, "months_at_low_rate": 0,
                   "months_income_tested": 0, "months_unpaid": 0, "leave_until": last_day.isoformat()}
        return CheckResult(CHECK, figures, steps, limits, list(params.used))

    per_parent = params.at(P + "months_per_parent", today)
    figures: Dict[str, Any] = {"leave_until": last_day.isoformat()}
    if answers["single_parent"] is True:
        used = as_decimal(answers["months_used_self"])
        cap = params.at(P + "months_single_parent", today)
        pool = cap - used
        steps.append(Step("cp_single", {"cap": cap, "used": used, "left": pool}))
        figures["months_left_you"] = number(pool)
    else:
        mother, father = as_decimal(answers["months_used_mother"]), as_decimal(answers["months_used_father"])
        used = mother + father
        base_cap = params.at(P + "months_couple", today)
        extra_cap = params.at(P + "months_couple_father", today)
        father_min = params.at(P + "father_months_for_extra", today)
        father_left = min(per_parent - father, extra_cap - used)
        if father + father_left < father_min:
            father_left = min(per_parent - father, base_cap - used)
        father_reaches_min = father >= father_min
        father_can_reach_min = father + father_left >= father_min
        cap_now = extra_cap if father_reaches_min else base_cap
        mother_left = min(per_parent - mother, cap_now - used)
        pool = (extra_cap if father_can_reach_min else base_cap) - used
        steps.append(Step("cp_couple", {"per_parent": per_parent, "mother": mother, "father": father,
                                        "used": used, "base_cap": base_cap}))
        if father_reaches_min:
            steps.append(Step("cp_father_extra_reached", {"father_min": father_min, "extra_cap": extra_cap}))
        elif father_can_reach_min:
            steps.append(Step("cp_father_extra_possible", {"father_min": father_min, "extra_cap": extra_cap,
                                                           "more": father_min - father}))
        else:
            steps.append(Step("cp_father_extra_impossible", {"father_min": father_min, "extra_cap": extra_cap}))
        steps.append(Step("cp_each_left", {"mother_left": max(mother_left, 0), "father_left": max(father_left, 0),
                                           "pool": pool}))
        figures.update(months_left_mother=number(max(mother_left, 0)), months_left_father=number(max(father_left, 0)))
    pool = max(pool, Decimal(0))
    figures["months_left_couple"] = number(pool)

    paid_total = params.at(P + "months_paid", today)
    high_rate = params.at(P + "rate_high_percent", today)
    low_rate = params.at(P + "rate_low_percent", today)
    paid_left = min(max(paid_total - used, Decimal(0)), pool)
    high_left = Decimal(0)
    high_until = _high_rate_until(params, answers, today)
    if today < high_until:
        maternity_end = as_date(answers["maternity_end"])
        high_months = params.at(P + "months_rate_high", maternity_end)
        high_used = as_decimal(answers.get("months_used_high")) or Decimal(0)
        high_left = min(max(high_months - high_used, Decimal(0)), paid_left)
        steps.append(Step("cp_high_rule", {"year": maternity_end.year, "months": high_months, "rate": high_rate,
                                           "used": high_used, "until": high_until - ONE_DAY}))
        figures["high_rate_until"] = (high_until - ONE_DAY).isoformat()
    else:
        steps.append(Step("cp_high_over_six", {"years": params.at(P + "rate_high_age_limit_years", today),
                                               "rate": high_rate}))
    low_left = paid_left - high_left
    tested = pool - paid_left
    income = answers.get("income_below_limit", "unknown")
    steps.append(Step("cp_paid", {"paid_total": paid_total, "used": used, "paid_left": paid_left,
                                  "high": high_left, "high_rate": high_rate, "low": low_left, "low_rate": low_rate}))
    multiple = params.at(P + "income_limit_multiple", today)
    if tested > 0:
        steps.append(Step(f"cp_tested_{income}", {"months": tested, "rate": low_rate, "multiple": multiple}))
    figures.update(
        months_at_high_rate=number(high_left), high_rate_percent=number(high_rate),
        months_at_low_rate=number(low_left), low_rate_percent=number(low_rate),
        months_income_tested=number(tested),
        income_below_limit={"yes": True, "no": False}.get(income),
        months_unpaid=number(tested if income == "no" else Decimal(0)),
    )
    return CheckResult(CHECK, figures, steps, limits, list(params.used))

