"""The period and filters a report or the learning loop looks at: whole days in the desk's
time zone (Europe/Rome), an optional channel and an optional language."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

from desk.models.base import utcnow

DESK_TIMEZONE = "Europe/Rome"
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: beyond that a report is an export job, not a page
LANGUAGES = ("it", "en")
CHANNEL_MAX_LENGTH = 40


@dataclass(frozen=True)
class Period:
    """Days first_day..last_day inclusive, in the desk's local time."""

    first_day: date
    last_day: date
    channel: Optional[str] = None
    language: Optional[str] = None
    timezone: str = DESK_TIMEZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def bounds(self) -> Tuple[datetime, datetime]:
        """[start, end) as naive UTC, the way the tables store times."""
        return self._utc_midnight(self.first_day), self._utc_midnight(self.last_day + timedelta(days=1))

    def local_day(self, moment_utc: datetime) -> date:
        return moment_utc.replace(tzinfo=timezone.utc).astimezone(self.zone).date()

    def days(self) -> Iterator[date]:
        for offset in range((self.last_day - self.first_day).days + 1):
            yield self.first_day + timedelta(days=offset)

    def query_args(self) -> dict:
        """The URL parameters that select this period again (links, CSV exports)."""
        args = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if self.channel:
            args["channel"] = self.channel
        if self.language:
            args["language"] = self.language
        return args

    def _utc_midnight(self, day: date) -> datetime:
        local = datetime.combine(day, time.min, tzinfo=self.zone)
        return local.astimezone(timezone.utc).replace(tzinfo=None)


def today_in(zone_name: str = DESK_TIMEZONE, now_utc: Optional[datetime] = None) -> date:
    now_utc = now_utc or utcnow()
    return now_utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone_name)).date()


def default_period(today: date, days: int = DEFAULT_DAYS) -> Period:
    return Period(first_day=today - timedelta(days=days - 1), last_day=today)


def period_from_args(args: Mapping[str, str], today: date) -> Tuple[Period, List[str]]:
    """The period asked for in a query string, or the default one with the reasons why not.
    Unknown languages and empty values mean "all"."""
    errors: List[str] = []
    period = default_period(today)
    first = _parse_day(args.get("from"), "dal", errors)
    last = _parse_day(args.get("to"), "al", errors)
    if first or last:
        last = last or (first + timedelta(days=DEFAULT_DAYS - 1) if first else today)
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            errors.append("La data di inizio viene dopo la data di fine: mostro gli ultimi 30 giorni.")
        elif (last - first).days + 1 > MAX_DAYS:
            errors.append(f"Il periodo può coprire al massimo {MAX_DAYS} giorni: mostro gli ultimi 30 giorni.")
        else:
            period = replace(period, first_day=first, last_day=last)
    channel = (args.get("channel") or "").strip()[:CHANNEL_MAX_LENGTH] or None
    language = (args.get("language") or "").strip()
    if language and language not in LANGUAGES:
        errors.append("Lingua sconosciuta: mostro tutte le lingue.")
    return replace(period, channel=channel, language=language if language in LANGUAGES else None), errors


def _parse_day(value: Optional[str], label: str, errors: List[str]) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"Data «{label}» non valida ({value[:20]}): usa il formato AAAA-MM-GG.")
        return None
