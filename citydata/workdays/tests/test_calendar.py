"""The counting rules against the 2026 State Council schedule as the chinese-calendar library records it,
and the overrides and confirmations that extend and correct it."""

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from citydata.workdays import calendar, services
from citydata.workdays.calendar import CalendarMissing, WorkCalendar
from citydata.workdays.tests.factories import enter_2027

D = dt.date.fromisoformat
LIBRARY_ONLY = WorkCalendar()


def test_the_library_we_rely_on_covers_2026():
    assert calendar.LIBRARY_FIRST_YEAR == 2004 and calendar.LIBRARY_LAST_YEAR >= 2026
    # the facts below, checked against the library itself before being asserted through our rules
    assert not chinese_calendar.is_workday(D("2026-02-16")) and chinese_calendar.is_workday(D("2026-02-14"))


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2026-02-13", True),  # Friday before the Spring Festival
        ("2026-02-14", True),  # Saturday, make-up working day (调休上班)
        ("2026-02-15", False),  # Spring Festival holiday 15–23 February
        ("2026-02-17", False),  # 春节 (Tuesday)
        ("2026-02-23", False),  # Monday, last day of the holiday
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday, make-up working day
        ("2026-09-20", True),  # Sunday, make-up working day for National Day
        ("2026-10-01", False),  # National Day holiday 1–7 October
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),  # Saturday, make-up working day
        ("2026-10-11", False),
        ("2026-03-06", True),  # a plain Friday
        ("2026-03-07", False),  # a plain weekend
        ("2026-03-08", False),
    ],
)
def test_2026_days(day, works):
    assert LIBRARY_ONLY.is_workday(D(day)) is works
    assert chinese_calendar.is_workday(D(day)) is works


def test_adding_working_days_skips_holidays_and_counts_make_up_saturdays():
    # National Day: 8, 9, 10 (Saturday, make-up), 12, 13 October
    assert LIBRARY_ONLY.add_workdays(D("2026-09-30"), 5) == D("2026-10-13")
    # Spring Festival: 14 (Saturday, make-up), 24, 25, 26, 27 February
    assert LIBRARY_ONLY.add_workdays(D("2026-02-13"), 5) == D("2026-02-27")
    # a plain week: Friday + 1 is Monday; the start day never counts, even when it is a working day
    assert LIBRARY_ONLY.add_workdays(D("2026-03-06"), 1) == D("2026-03-09")
    assert LIBRARY_ONLY.add_workdays(D("2026-03-07"), 1) == D("2026-03-09")  # nor when it is not
    assert LIBRARY_ONLY.add_workdays(D("2026-03-07"), 0) == D("2026-03-07")
    with pytest.raises(ValueError):
        LIBRARY_ONLY.add_workdays(D("2026-03-07"), -1)


def test_between_counts_after_a_up_to_and_including_b_across_a_year_end():
    # 1 January 2026 is a holiday; 2 and 3 too; Sunday 4 January is a make-up working day; Monday 5
    assert LIBRARY_ONLY.workdays_between(D("2025-12-31"), D("2026-01-05")) == 2
    assert LIBRARY_ONLY.workdays_between(D("2025-12-30"), D("2026-01-05")) == 3  # 31 December counts
    assert LIBRARY_ONLY.workdays_between(D("2026-01-05"), D("2025-12-31")) == -2
    assert LIBRARY_ONLY.workdays_between(D("2026-03-06"), D("2026-03-06")) == 0
    assert LIBRARY_ONLY.workdays_between(D("2026-01-01"), D("2026-12-31")) == 248
    assert len(chinese_calendar.get_workdays(D("2026-01-01"), D("2026-12-31"))) == 248
    for start in (D("2026-09-30"), D("2026-02-13"), D("2026-12-10")):
        for n in range(0, 12):
            assert LIBRARY_ONLY.workdays_between(start, LIBRARY_ONLY.add_workdays(start, n)) == n


def test_a_year_without_calendar_data_raises_with_the_year_and_what_to_do():
    with pytest.raises(CalendarMissing) as caught:
        LIBRARY_ONLY.is_workday(D("2027-03-01"))
    assert caught.value.year == 2027 and caught.value.code == "calendar_missing"
    assert "2027 年的工作日历尚未录入" in str(caught.value.message) and "/manage/workdays/?year=2027" in str(
        caught.value.message
    )
    # counting into the new year fails rather than assuming weekdays
    with pytest.raises(CalendarMissing, match="2027"):
        LIBRARY_ONLY.add_workdays(D("2026-12-28"), 5)
    with pytest.raises(CalendarMissing, match="2027"):
        LIBRARY_ONLY.workdays_between(D("2026-12-28"), D("2027-01-04"))
    # overrides alone do not cover a year: only a confirmation does
    partial = WorkCalendar(overrides={D("2027-02-08"): False})
    with pytest.raises(CalendarMissing):
        partial.is_workday(D("2027-02-08"))
    with pytest.raises(CalendarMissing, match="2003"):
        LIBRARY_ONLY.is_workday(D("2003-06-02"))


def test_a_confirmed_year_uses_its_overrides_and_the_plain_week():
    entered = WorkCalendar(overrides={D("2027-02-08"): False, D("2027-02-20"): True}, confirmed_years=frozenset({2027}))
    assert entered.is_workday(D("2027-02-08")) is False  # Monday, holiday
    assert entered.is_workday(D("2027-02-20")) is True  # Saturday, make-up
    assert entered.is_workday(D("2027-02-21")) is False  # Sunday
    assert entered.is_workday(D("2027-03-01")) is True  # Monday
    assert entered.add_workdays(D("2026-12-31"), 1) == D("2027-01-01")  # an unlisted Friday works


def test_a_datetime_is_not_a_date_here():
    with pytest.raises(TypeError):
        LIBRARY_ONLY.is_workday(dt.datetime(2026, 3, 6, 12, 0))


def test_deadline_is_the_end_of_the_day_in_shanghai():
    shanghai = ZoneInfo("Asia/Shanghai")
    end = calendar.deadline(dt.datetime(2026, 9, 30, 15, 0, tzinfo=shanghai), 5, calendar=LIBRARY_ONLY)
    assert end == dt.datetime(2026, 10, 13, 23, 59, 59, 999999, tzinfo=shanghai)
    assert end.utcoffset() == dt.timedelta(hours=8)
    # 17:00 UTC on 12 February is 01:00 on Friday 13 February in Shanghai: the submission day is the 13th
    late = calendar.deadline(dt.datetime(2026, 2, 12, 17, 0, tzinfo=dt.UTC), 5, calendar=LIBRARY_ONLY)
    assert late.date() == D("2026-02-27")
    with pytest.raises(ValueError):
        calendar.deadline(dt.datetime(2026, 9, 30, 15, 0), 5, calendar=LIBRARY_ONLY)


@pytest.mark.django_db
def test_the_stored_calendar_extends_to_2027_once_an_operator_enters_and_confirms_it(user_with_role, settings):
    operator = user_with_role("operator")
    with pytest.raises(CalendarMissing):
        calendar.add_workdays(D("2027-02-05"), 1)
    enter_2027(operator, confirm=False)
    with pytest.raises(CalendarMissing):  # entered but not yet confirmed complete
        calendar.is_workday(D("2027-03-01"))
    services.calendar_year_confirm(by=operator, year=2027)
    # Friday 5 February + 1: the holiday 6–14 February is skipped, Saturday 20 is a make-up day
    assert calendar.add_workdays(D("2027-02-05"), 1) == D("2027-02-15")
    assert calendar.add_workdays(D("2027-02-18"), 2) == D("2027-02-20")
    assert calendar.workdays_between(D("2026-12-31"), D("2027-01-04")) == 1  # 1 January holiday, then Monday
    settings.ACCEPT_WORKDAYS = 5
    shanghai = ZoneInfo("Asia/Shanghai")
    assert calendar.acceptance_deadline(dt.datetime(2027, 2, 5, 9, 0, tzinfo=shanghai)) == dt.datetime(
        2027, 2, 19, 23, 59, 59, 999999, tzinfo=shanghai
    )


@pytest.mark.django_db
def test_overrides_win_over_the_library_in_a_covered_year(user_with_role):
    operator = user_with_role("operator")
    assert calendar.is_workday(D("2026-07-16"))
    services.calendar_override_add(by=operator, day=D("2026-07-16"), kind="holiday", name="本市防汛停工")
    services.calendar_override_add(by=operator, day=D("2026-02-16"), kind="workday", name="本市值班")
    assert not calendar.is_workday(D("2026-07-16"))
    assert calendar.is_workday(D("2026-02-16"))
    assert calendar.add_workdays(D("2026-07-15"), 1) == D("2026-07-17")
    assert calendar.workdays_between(D("2026-07-14"), D("2026-07-17")) == 2
