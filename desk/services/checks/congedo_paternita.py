"""Compulsory paternity leave (D.Lgs. 151/2001 art. 27-bis): days due, the window in
which they can be taken, days left, and the notice to give the employer."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Dict, List

from desk.services.checks.answers import InvalidAnswer, as_date, as_decimal, read_date, read_number, read_yes_no
from desk.services.checks.dates import add_months
from desk.services.checks.result import CheckResult, ParameterSet, Step, number

CHECK = TOPIC = "congedo_paternita"
P = "congedo_paternita."
ONE_DAY = timedelta(days=1)
FIELDS = {
    "born": "yes_no",
    "birth_date": "date",
    "expected_date": "date",
    "multiple_birth": "yes_no",
    "days_used": "number",
}
CHOICES: Dict[str, Dict[str, tuple]] = {}
QUESTION_VALUES: Dict[str, Dict[str, str]] = {}


def _reference(answers: Dict[str, Any]) -> date:
    """The birth (or, before it, the expected date): the rules in force for that birth apply."""
    return as_date(answers["birth_date"] if answers.get("born") else answers["expected_date"])


def _window(answers: Dict[str, Any], params: ParameterSet):
    reference = _reference(answers)
    before = params.at(P + "window_months_before", reference)
    after = params.at(P + "window_months_after", reference)
    start = None if answers.get("born") else add_months(reference, -int(before))
    end = add_months(reference, int(after)) - ONE_DAY
    return start, end, before, after


def needed(answers: Dict[str, Any], params: ParameterSet, today: date) -> List[str]:
    fields = ["born"]
    if answers.get("born") is None:
        return fields
    fields.append("birth_date" if answers["born"] else "expected_date")
    if answers.get(fields[-1]) is None:
        return fields
    fields.append("multiple_birth")
    start, _, _, _ = _window(answers, params)
    if start is None or today >= start:
        fields.append("days_used")
    return fields


def parse(field: str, text: str, answers: Dict[str, Any], params: ParameterSet, today: date) -> Any:
    if field in ("born", "multiple_birth"):
        return read_yes_no(text)
    if field == "birth_date":
        day = read_date(text)
        if day > today:
            raise InvalidAnswer("date_future_birth")
        return day.isoformat()
    if field == "expected_date":
        day = read_date(text)
        if day < today:
            raise InvalidAnswer("date_past_expected")
        return day.isoformat()
    days = read_number(text)
    due = params.at(P + ("days_multiple" if answers.get("multiple_birth") else "days"), _reference(answers))
    if days > due:
        raise InvalidAnswer("days_too_many", most=number(due))
    if days != days.to_integral_value():
        raise InvalidAnswer("whole_days")
    return str(days)


def compute(answers: Dict[str, Any], params: ParameterSet, today: date) -> CheckResult:
    reference = _reference(answers)
    multiple = bool(answers.get("multiple_birth"))
    due = params.at(P + ("days_multiple" if multiple else "days"), reference)
    pay = params.at(P + "pay_percent", reference)
    start, end, before, after = _window(answers, params)
    used = as_decimal(answers.get("days_used")) or Decimal(0)
    left = due - used
    notice = params.at(P + "notice_days", today)
    earliest = max(start or today, today + timedelta(days=int(notice)))
    steps = [Step("pat_due_multiple" if multiple else "pat_due", {"days": due, "pay": pay})]
    if start is None:
        steps.append(Step("pat_window_born", {"birth": reference, "after": after, "end": end, "before": before}))
    else:
        steps.append(Step("pat_window_expected", {"expected": reference, "before": before, "start": start,
                                                  "after": after, "end": end}))
    steps.append(Step("pat_left", {"due": due, "used": used, "left": left}))
    usable = left
    if today > end:
        usable = Decimal(0)
        steps.append(Step("pat_window_closed", {"end": end}))
    elif earliest > end:
        usable = Decimal(0)
        steps.append(Step("pat_notice_too_late", {"notice": notice, "end": end}))
    elif left > 0:
        steps.append(Step("pat_notice", {"notice": notice, "earliest": earliest, "end": end}))
    figures = {
        "days_due": number(due), "days_used": number(used), "days_left": number(usable),
        "pay_percent": number(pay), "window_start": start.isoformat() if start else None,
        "window_end": end.isoformat(), "notice_days": number(notice),
        "earliest_start": earliest.isoformat() if usable > 0 else None,
    }
    limits = [Step("pat_limit_employees"), Step("pat_limit_whole_days"), Step("pat_limit_other_leave")]
    return CheckResult(CHECK, figures, steps, limits, list(params.used))
