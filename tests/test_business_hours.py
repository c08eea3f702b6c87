"""Business hours in Milan: weekends, holidays, the lunch break, DST, starts outside office hours."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from desk.services.business_hours import BusinessCalendar

ROME = ZoneInfo("Europe/Rome")
CALENDAR = BusinessCalendar()


def rome(year, month, day, hour, minute=0):
    """A Rome wall-clock time as the project stores it: naive UTC."""
    local = datetime(year, month, day, hour, minute, tzinfo=ROME)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize(
    "start, hours, due",
    [
        pytest.param(rome(2026, 11, 20, 16), 2, rome(2026, 11, 23, 10), id="friday 16:00 + 2h is monday 10:00"),
        pytest.param(rome(2026, 11, 20, 15), 2, rome(2026, 11, 20, 17), id="ending exactly at closing time"),
        pytest.param(rome(2026, 11, 23, 7), 2, rome(2026, 11, 23, 11), id="a start at 07:00 counts from 09:00"),
        pytest.param(rome(2026, 11, 23, 18), 1, rome(2026, 11, 24, 10), id="a start after closing counts from tomorrow"),
        pytest.param(rome(2026, 11, 23, 12), 2, rome(2026, 11, 23, 15), id="the lunch break does not count"),
        pytest.param(rome(2026, 11, 23, 13, 30), 1, rome(2026, 11, 23, 15), id="a start during lunch"),
        pytest.param(rome(2026, 11, 21, 11), 0, rome(2026, 11, 23, 9), id="zero hours on saturday is monday's opening"),
        pytest.param(rome(2026, 11, 23, 10), 16, rome(2026, 11, 25, 12), id="the default 16-hour SLA"),
        pytest.param(rome(2026, 12, 24, 16), 2, rome(2026, 12, 28, 10), id="christmas and the weekend"),
        pytest.param(rome(2025, 4, 24, 16), 2, rome(2025, 4, 28, 10), id="25 april, liberation day"),
        pytest.param(rome(2026, 12, 4, 16), 2, rome(2026, 12, 9, 10), id="sant'ambrogio and the immacolata"),
        pytest.param(rome(2026, 3, 27, 16), 2, rome(2026, 3, 30, 10), id="the spring DST weekend"),
        pytest.param(rome(2026, 10, 23, 16), 2, rome(2026, 10, 26, 10), id="the autumn DST weekend"),
    ],
)
def test_add_business_hours(start, hours, due):
    assert CALENDAR.add_business_hours(start, hours) == due


def test_the_dst_weekends_shift_the_utc_time_of_opening():
    # 16:00 CET is 15:00 UTC; after the change 10:00 CEST is 08:00 UTC, and back in October.
    assert CALENDAR.add_business_hours(datetime(2026, 3, 27, 15), 2) == datetime(2026, 3, 30, 8)
    assert CALENDAR.add_business_hours(datetime(2026, 10, 23, 14), 2) == datetime(2026, 10, 26, 9)


def test_milan_keeps_sant_ambrogio_as_a_holiday():
    assert CALENDAR.is_holiday(date(2026, 12, 7))
    assert not BusinessCalendar(holiday_subdivision=None).is_holiday(date(2026, 12, 7))
    for national in (date(2026, 12, 25), date(2026, 4, 25), date(2026, 1, 6), date(2026, 6, 2)):
        assert CALENDAR.is_holiday(national)
    assert not CALENDAR.is_business_day(date(2026, 11, 21))  # a saturday
    assert CALENDAR.is_business_day(date(2026, 11, 23))


@pytest.mark.parametrize(
    "start, end, hours",
    [
        pytest.param(rome(2026, 11, 20, 16), rome(2026, 11, 23, 10), 2.0, id="across a weekend"),
        pytest.param(rome(2026, 11, 21, 9), rome(2026, 11, 22, 18), 0.0, id="only a weekend"),
        pytest.param(rome(2026, 11, 23, 8), rome(2026, 11, 23, 20), 7.0, id="a whole working day"),
        pytest.param(rome(2026, 11, 23, 12, 30), rome(2026, 11, 23, 14, 30), 1.0, id="around lunch"),
        pytest.param(rome(2026, 3, 27, 9), rome(2026, 3, 30, 17), 14.0, id="the spring DST weekend"),
        pytest.param(rome(2026, 10, 23, 9), rome(2026, 10, 26, 17), 14.0, id="the autumn DST weekend"),
        pytest.param(rome(2026, 12, 4, 9), rome(2026, 12, 9, 9), 7.0, id="two holidays"),
    ],
)
def test_business_hours_between(start, end, hours):
    assert CALENDAR.business_hours_between(start, end) == pytest.approx(hours)


def test_business_hours_between_is_negative_when_the_end_comes_first():
    assert CALENDAR.business_hours_between(rome(2026, 11, 23, 10), rome(2026, 11, 20, 16)) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    "start",
    [rome(2026, 11, 20, 16), rome(2026, 11, 23, 7), rome(2026, 11, 23, 12, 45), rome(2026, 12, 24, 16, 20),
     rome(2026, 3, 27, 11), rome(2026, 10, 24, 10)],
)
@pytest.mark.parametrize("hours", [0.25, 1, 2.5, 7, 16, 40])
def test_business_hours_between_is_the_inverse_of_add(start, hours):
    due = CALENDAR.add_business_hours(start, hours)
    assert CALENDAR.business_hours_between(start, due) == pytest.approx(hours)


def test_aware_datetimes_are_accepted_and_the_result_is_naive_utc():
    aware = datetime(2026, 11, 20, 16, tzinfo=ROME)
    due = CALENDAR.add_business_hours(aware, 2)
    assert due.tzinfo is None and due == rome(2026, 11, 23, 10)


def test_negative_hours_are_refused():
    with pytest.raises(ValueError):
        CALENDAR.add_business_hours(rome(2026, 11, 23, 10), -1)


def test_from_env_reads_days_hours_extra_holidays_and_sla():
    calendar = BusinessCalendar.from_env({
        "DIALOGA_BUSINESS_DAYS": "0-3",
        "DIALOGA_BUSINESS_HOURS": "08:30-12:30, 13:30-16:30",
        "DIALOGA_EXTRA_HOLIDAYS": "2026-12-24,2026-12-31",
        "DIALOGA_SLA_HOURS": "8",
    })
    assert calendar.working_weekdays == frozenset({0, 1, 2, 3})
    assert calendar.periods == ((time(8, 30), time(12, 30)), (time(13, 30), time(16, 30)))
    assert calendar.sla_hours == 8
    assert calendar.is_holiday(date(2026, 12, 24)) and calendar.is_holiday(date(2026, 12, 31))
    # Wednesday 23 Dec 15:30 + 2h: 1h that day, then Thursday 24 is an extra holiday,
    # Friday 25 Christmas and not a working day anyway: Monday 28 at 09:30.
    assert calendar.add_business_hours(rome(2026, 12, 23, 15, 30), 2) == rome(2026, 12, 28, 9, 30)


def test_from_env_without_variables_gives_the_defaults():
    assert BusinessCalendar.from_env({}) == BusinessCalendar()
    assert BusinessCalendar().sla_hours == 16


@pytest.mark.parametrize(
    "environ",
    [
        {"DIALOGA_BUSINESS_DAYS": "mon-fri"},
        {"DIALOGA_BUSINESS_DAYS": "0-7"},
        {"DIALOGA_BUSINESS_HOURS": "9-13"},
        {"DIALOGA_BUSINESS_HOURS": "14:00-17:00,09:00-13:00"},
        {"DIALOGA_BUSINESS_HOURS": "09:00-13:00,12:00-17:00"},
        {"DIALOGA_EXTRA_HOLIDAYS": "24/12/2026"},
        {"DIALOGA_SLA_HOURS": "-1"},
    ],
)
def test_from_env_refuses_a_malformed_calendar(environ):
    with pytest.raises(ValueError):
        BusinessCalendar.from_env(environ)
