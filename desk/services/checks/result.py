"""What every guided check returns, and the parameters it reads.

A check is a pure function: (answers, parameters, today) -> CheckResult. The
parameters are the numbers that change by law (ceilings, months at 80%, ISEE
bands...), each valid for a dated period; a check reads them only through a
ParameterSet, which remembers which ones were used so that the result can cite
their sources, and refuses to compute with a number that no period covers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple


@dataclass(frozen=True)
class Parameter:
    key: str
    value: str
    unit: str
    valid_from: date
    valid_until: Optional[date]
    topic: str
    source: str
    source_url: str
    verified_on: date
    unconfirmed: bool = False

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def typed(self) -> Any:
        """The value as a check uses it: a date for unit "date", else a Decimal."""
        if self.unit == "date":
            return date.fromisoformat(self.value)
        return Decimal(self.value)


class ParameterOutdated(LookupError):
    """No period of the parameter covers the date: the rule is being updated."""

    def __init__(self, key: str, day: date):
        super().__init__(f"no value of {key} covers {day.isoformat()}")
        self.key, self.day = key, day


class ParameterSet:
    """The parameters of the checks, looked up by key at a date."""

    def __init__(self, parameters: Iterable[Parameter]):
        self._by_key: Dict[str, List[Parameter]] = {}
        for parameter in parameters:
            self._by_key.setdefault(parameter.key, []).append(parameter)
        self.used: List[Parameter] = []

    def at(self, key: str, day: date) -> Any:
        for parameter in self._by_key.get(key, []):
            if parameter.covers(day):
                if parameter not in self.used:
                    self.used.append(parameter)
                return parameter.typed()
        raise ParameterOutdated(key, day)

    def fresh(self) -> "ParameterSet":
        """The same parameters with an empty record of use (one per computation)."""
        return ParameterSet(parameter for parameters in self._by_key.values() for parameter in parameters)


@dataclass(frozen=True)
class Step:
    """One line of the working: a text key (desk/services/checks/texts.py) and its values."""

    key: str
    values: Dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    check: str
    figures: Dict[str, Any]
    steps: List[Step]
    limits: List[Step]
    used: List[Parameter]
    outdated: Optional[str] = None  # the key of the parameter no period covers

    @property
    def to_confirm(self) -> bool:
        return any(parameter.unconfirmed for parameter in self.used)

    def sources(self) -> List[Dict[str, str]]:
        """One entry per distinct (topic, source, verified_on), in the order the rules were used."""
        seen: List[Tuple[str, str, str]] = []
        for parameter in self.used:
            item = (parameter.topic, parameter.source, parameter.verified_on.isoformat())
            if item not in seen:
                seen.append(item)
        return [{"topic": topic, "source": source, "verified_on": verified} for topic, source, verified in seen]


def outdated_result(check: str, error: ParameterOutdated, used: List[Parameter]) -> CheckResult:
    return CheckResult(check=check, figures={}, steps=[], limits=[], used=list(used), outdated=error.key)


def number(value: Decimal) -> Any:
    """A Decimal as a JSON number: an int when whole."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value.quantize(Decimal("0.01")))
