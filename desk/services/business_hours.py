"""The desk's business hours: when a reply is due, and how much office time a wait took.

Times come and go as naive UTC like everywhere in the project (see desk.models.base.utcnow);
the calendar itself is in local time, so weekends, holidays, the lunch break and the
daylight-saving changes all fall where an operator in Milan expects them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import FrozenSet, Iterator, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

import holidays

UTC = timezone.utc
Period = Tuple[time, time]

DEFAULT_PERIODS: Tuple[Period, ...] = ((time(9), time(13)), (time(14), time(17)))
DEFAULT_SLA_HOURS = 16.0
# A calendar with no working day left would search forever; ten years is far beyond any SLA.
MAX_DAYS_AHEAD = 3660


@lru_cache(maxsize=64)
def public_holidays(year: int, subdivision: Optional[str]) -> FrozenSet[date]:
    """Italy's national holidays plus the province's patron saint: for Milan ("MI") the
    holidays library includes Sant'Ambrogio, 7 December."""
    return frozenset(holidays.Italy(subdiv=subdivision, years=year))


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Europe/Rome"
    working_weekdays: FrozenSet[int] = frozenset(range(5))  # Monday = 0
    periods: Tuple[Period, ...] = DEFAULT_PERIODS  # the same working periods on every working day
    extra_holidays: FrozenSet[date] = frozenset()
    holiday_subdivision: Optional[str] = "MI"
    sla_hours: float = DEFAULT_SLA_HOURS  # business hours within which a reply is due

    def __post_init__(self) -> None:
        if not self.working_weekdays or not set(self.working_weekdays) <= set(range(7)):
            raise ValueError(f"working weekdays must be a non-empty set of 0-6, not {sorted(self.working_weekdays)}")
        if not self.periods:
            raise ValueError("a business calendar needs at least one working period")
        previous_end = time.min
        for opens, closes in self.periods:
            if not previous_end <= opens < closes:
                raise ValueError(f"working periods must be ordered and must not overlap: {self.periods}")
            previous_end = closes
        if self.sla_hours < 0:
            raise ValueError(f"the SLA cannot be negative: {self.sla_hours}")
        ZoneInfo(self.timezone)  # fail now on an unknown zone, not at the first ticket

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "BusinessCalendar":
        defaults = cls()
        days = environ.get("DIALOGA_BUSINESS_DAYS")
        hours = environ.get("DIALOGA_BUSINESS_HOURS")
        extra = environ.get("DIALOGA_EXTRA_HOLIDAYS")
        sla = environ.get("DIALOGA_SLA_HOURS")
        return cls(
            working_weekdays=parse_weekdays(days) if days else defaults.working_weekdays,
            periods=parse_periods(hours) if hours else defaults.periods,
            extra_holidays=parse_dates(extra) if extra else defaults.extra_holidays,
            sla_hours=float(sla) if sla else defaults.sla_hours,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_local(self, moment_utc: datetime) -> datetime:
        return _as_utc(moment_utc).astimezone(self.zone)

    def describe(self, language: str) -> str:
        """Office hours in words, e.g. "lun-ven 09:00-13:00, 14:00-17:00"."""
        names = ("lun", "mar", "mer", "gio", "ven", "sab", "dom") if language == "it" else ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        days = sorted(self.working_weekdays)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            day_text = f"{names[days[0]]}-{names[days[-1]]}"
        else:
            day_text = ", ".join(names[day] for day in days)
        hours = ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in self.periods)
        return f"{day_text} {hours}"

    def is_holiday(self, day: date) -> bool:
        return day in self.extra_holidays or day in public_holidays(day.year, self.holiday_subdivision)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.working_weekdays and not self.is_holiday(day)

    def sla_due(self, start_utc: datetime) -> datetime:
        return self.add_business_hours(start_utc, self.sla_hours)

    def add_business_hours(self, start_utc: datetime, hours: float) -> datetime:
        """The moment `hours` of office time after `start_utc` (naive UTC in, naive UTC out).
        A start outside office hours counts from the next opening; zero hours gives that opening."""
        if hours < 0:
            raise ValueError(f"cannot add negative business hours: {hours}")
        cursor = _as_utc(start_utc)
        remaining = timedelta(hours=hours)
        for opens, closes in self._periods_from(self._local_date(cursor)):
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            available = closes - begin
            if remaining <= available:
                return _naive_utc(begin + remaining)
            remaining -= available
        raise ValueError(f"no business hours within {MAX_DAYS_AHEAD} days of {start_utc}")

    def business_hours_between(self, start_utc: datetime, end_utc: datetime) -> float:
        """Office hours from start to end; negative when end comes first."""
        start, end = _as_utc(start_utc), _as_utc(end_utc)
        if end < start:
            return -self.business_hours_between(end_utc, start_utc)
        total = timedelta()
        for opens, closes in self._periods_from(self._local_date(start), last_day=self._local_date(end)):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds() / 3600

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _periods_from(self, first_day: date, last_day: Optional[date] = None) -> Iterator[Tuple[datetime, datetime]]:
        """Working periods as aware UTC intervals, day by day; converting each local
        boundary separately is what makes a DST change cost or add no office time."""
        zone = self.zone
        days = MAX_DAYS_AHEAD if last_day is None else (last_day - first_day).days + 1
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            if not self.is_business_day(day):
                continue
            for opens, closes in self.periods:
                yield (
                    datetime.combine(day, opens, tzinfo=zone).astimezone(UTC),
                    datetime.combine(day, closes, tzinfo=zone).astimezone(UTC),
                )


def parse_weekdays(text: str) -> FrozenSet[int]:
    """"0-4" or "0,1,2,3,4" or "0-2,4"; Monday = 0."""
    weekdays = set()
    for part in _items(text):
        first, _, last = part.partition("-")
        try:
            weekdays.update(range(int(first), int(last or first) + 1))
        except ValueError:
            raise ValueError(f"business days must look like 0-4 or 0,1,2: {text!r}") from None
    return frozenset(weekdays)


def parse_periods(text: str) -> Tuple[Period, ...]:
    """"09:00-13:00,14:00-17:00"."""
    periods = []
    for part in _items(text):
        opens, _, closes = part.partition("-")
        try:
            periods.append((time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())))
        except ValueError:
            raise ValueError(f"business hours must look like 09:00-13:00,14:00-17:00: {text!r}") from None
    return tuple(periods)


def parse_dates(text: str) -> FrozenSet[date]:
    """"2026-12-24,2026-12-31"."""
    try:
        return frozenset(date.fromisoformat(part) for part in _items(text))
    except ValueError:
        raise ValueError(f"extra holidays must be ISO dates separated by commas: {text!r}") from None


def _items(text: str) -> Iterator[str]:
    return (part.strip() for part in text.split(",") if part.strip())
