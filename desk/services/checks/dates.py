"""Calendar arithmetic the rules need: anniversaries and months added to a date."""
from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), on the month's last day when it has no such day."""
    index = day.year * 12 + (day.month - 1) + int(months)
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anniversary(day: date, years: int) -> date:
    """The day someone born on `day` turns `years`: 29 February counts as 1 March in other years."""
    try:
        return day.replace(year=day.year + int(years))
    except ValueError:
        return date(day.year + int(years), 3, 1)
