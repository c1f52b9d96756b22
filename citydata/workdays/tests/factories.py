"""Test data for the calendar: an invented 2027 schedule (not the State Council's real notice)."""

from __future__ import annotations

import datetime as dt

from citydata.workdays import services

# Spring Festival 2027 falls on Saturday 6 February; this schedule only has the shape of a real notice.
EXAMPLE_2027 = [
    *[(dt.date(2027, 2, day), "holiday", "春节") for day in range(6, 15)],
    (dt.date(2027, 2, 20), "workday", "春节"),
    (dt.date(2027, 1, 1), "holiday", "元旦"),
]


def enter_2027(operator, *, confirm: bool = True) -> None:
    for day, kind, name in EXAMPLE_2027:
        services.calendar_override_add(by=operator, day=day, kind=kind, name=name, note="测试用安排")
    if confirm:
        services.calendar_year_confirm(by=operator, year=2027, note="测试用安排")
