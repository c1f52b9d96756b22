"""Working days on the Chinese calendar: the one set of counting rules every deadline of the platform uses.

Rules (docs/workdays.md has them with examples):

* A day's status comes from, in order: an operator's override for that date; in a year the chinese-calendar
  library covers, the library (statutory holidays and 调休 make-up working days); in a year an operator has
  confirmed complete, the plain week (Monday–Friday work). A date in any other year raises `CalendarMissing`:
  we never guess weekdays for a year whose holidays nobody has entered.
* `add_workdays(start, n)` is the n-th working day *after* `start`; `start` itself never counts, whatever it is.
  `n == 0` returns `start`.
* `workdays_between(a, b)` counts the working days d with a < d <= b, so
  `workdays_between(a, add_workdays(a, n)) == n`; it is negative when b is before a.
* `deadline(submitted_at, n)` is the end (23:59:59.999999, Asia/Shanghai) of `add_workdays(submission day, n)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as library_data
from django.conf import settings
from django.utils.translation import gettext as _

from citydata.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIBRARY_FIRST_YEAR: int = min(library_data.holidays).year
LIBRARY_LAST_YEAR: int = max(library_data.holidays).year
# A calendar year outside this range is a typo, not a plan.
MIN_YEAR, MAX_YEAR = 2000, 2100


def library_covers(year: int) -> bool:
    return LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR


class CalendarMissing(DomainError):
    """No calendar data for a year: neither the library covers it nor has an operator confirmed its entries."""

    default_code = "calendar_missing"

    def __init__(self, year: int):
        message = _(
            "%(year)s 年的工作日历尚未录入：日历库只包含 %(first)s–%(last)s 年的节假日安排。"
            "请平台运营方在“工作日历”页面（/manage/workdays/?year=%(year)s）按国务院办公厅发布的当年节假日安排"
            "录入放假和调休上班日期，并确认该年已录入完整。"
        ) % {"year": year, "first": LIBRARY_FIRST_YEAR, "last": LIBRARY_LAST_YEAR}
        super().__init__(message, details={"year": year})
        self.year = year


def _plain_date(day: dt.date) -> dt.date:
    # A datetime is a date too; taking its date part silently would ignore its time zone.
    if isinstance(day, dt.datetime):
        raise TypeError("pass a date; use deadline() to count from a moment in time")
    return day


@dataclass(frozen=True)
class WorkCalendar:
    """The overrides and confirmed years at one moment, and the counting rules applied to them."""

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)  # True: a working day
    confirmed_years: frozenset[int] = frozenset()

    def covers(self, year: int) -> bool:
        return library_covers(year) or year in self.confirmed_years

    def require(self, year: int) -> None:
        if not self.covers(year):
            raise CalendarMissing(year)

    def is_workday(self, day: dt.date) -> bool:
        day = _plain_date(day)
        self.require(day.year)
        override = self.overrides.get(day)
        if override is not None:
            return override
        if library_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        start = _plain_date(start)
        if n < 0:
            raise ValueError("n must be 0 or more")
        day, counted = start, 0
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        a, b = _plain_date(a), _plain_date(b)
        if b < a:
            return -self.workdays_between(b, a)
        count, day = 0, a
        while day < b:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def current() -> WorkCalendar:
    """The calendar as stored now (two small queries)."""
    from citydata.workdays import queries

    return queries.work_calendar()


def is_workday(day: dt.date, *, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or current()).is_workday(day)


def add_workdays(start: dt.date, n: int, *, calendar: WorkCalendar | None = None) -> dt.date:
    """The n-th working day after `start` (which never counts itself); `start` when n is 0."""
    return (calendar or current()).add_workdays(start, n)


def workdays_between(a: dt.date, b: dt.date, *, calendar: WorkCalendar | None = None) -> int:
    """Working days d with a < d <= b (negative when b is before a)."""
    return (calendar or current()).workdays_between(a, b)


def deadline(submitted_at: dt.datetime, n: int, *, calendar: WorkCalendar | None = None) -> dt.datetime:
    """The end of the n-th working day after the day (in Asia/Shanghai) of `submitted_at`, as an aware datetime."""
    if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
        raise ValueError("submitted_at must be timezone-aware")
    day = add_workdays(submitted_at.astimezone(SHANGHAI).date(), n, calendar=calendar)
    return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI)


def acceptance_deadline(submitted_at: dt.datetime, *, calendar: WorkCalendar | None = None) -> dt.datetime:
    """When an application submitted at `submitted_at` must be accepted (受理): CITYDATA_ACCEPT_WORKDAYS later."""
    return deadline(submitted_at, settings.ACCEPT_WORKDAYS, calendar=calendar)
