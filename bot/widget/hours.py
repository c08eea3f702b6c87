"""Whether operators are in, and when they are back, for the widget's header and notices."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from bot.widget.texts import say
from desk.models.base import utcnow
from desk.services.business_hours import BusinessCalendar

_WEEKDAYS = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def describe_moment(moment_utc: datetime, calendar: BusinessCalendar, language: str, now_utc: datetime) -> str:
    local = calendar.to_local(moment_utc)
    today = calendar.to_local(now_utc).date()
    at = "alle" if language == "it" else "at"
    if local.date() == today:
        day = "oggi" if language == "it" else "today"
    elif local.date() == today + timedelta(days=1):
        day = "domani" if language == "it" else "tomorrow"
    elif language == "it":
        day = f"{_WEEKDAYS['it'][local.weekday()]} {local.day} {_MONTHS['it'][local.month - 1]}"
    else:
        day = f"on {_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS['en'][local.month - 1]}"
    return f"{day} {at} {local:%H:%M}"


def office_hours(calendar: BusinessCalendar, language: str, now: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or utcnow()
    opening = calendar.add_business_hours(now, 0)  # now itself while the desk is open
    hours = calendar.describe(language)
    if opening <= now:
        return {"open": True, "hours": hours, "status": say("hours_open", language, hours=hours)}
    when = describe_moment(opening, calendar, language, now)
    return {
        "open": False, "hours": hours, "next_opening": calendar.to_local(opening).isoformat(),
        "status": say("hours_closed", language, when=when),
        "intake_notice": say("hours_closed_intake", language, hours=hours, when=when),
    }
