"""Reads of the working-day calendar: the snapshot the counting rules use, and what the operators' page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chinese_calendar import constants as library_data
from django.db.models import Count
from django.db.models.functions import ExtractYear

from citydata.workdays.calendar import (
    LIBRARY_FIRST_YEAR,
    LIBRARY_LAST_YEAR,
    WorkCalendar,
    library_covers,
)
from citydata.workdays.models import CalendarOverride, CalendarYear, DayKind


def work_calendar() -> WorkCalendar:
    """Every override and confirmed year (a few dozen rows a year), ready for counting."""
    overrides = {day: kind == DayKind.WORKDAY for day, kind in CalendarOverride.objects.values_list("date", "kind")}
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return WorkCalendar(overrides=overrides, confirmed_years=years)


@dataclass(frozen=True)
class YearCoverage:
    year: int
    by_library: bool
    confirmation: CalendarYear | None
    overrides: int

    @property
    def covered(self) -> bool:
        return self.by_library or self.confirmation is not None


@dataclass(frozen=True)
class Coverage:
    library_first: int
    library_last: int
    years: list[YearCoverage]


def coverage(today: dt.date) -> Coverage:
    """Where each year's calendar comes from: every year with operator data, plus this year and the next."""
    counts: dict[int, int] = {
        row["year"]: row["n"]
        for row in CalendarOverride.objects.annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(n=Count("id"))
        .order_by()
    }
    confirmations = {c.year: c for c in CalendarYear.objects.select_related("confirmed_by")}
    years = sorted(set(counts) | set(confirmations) | {today.year, today.year + 1})
    return Coverage(
        library_first=LIBRARY_FIRST_YEAR,
        library_last=LIBRARY_LAST_YEAR,
        years=[
            YearCoverage(
                year=year,
                by_library=library_covers(year),
                confirmation=confirmations.get(year),
                overrides=counts.get(year, 0),
            )
            for year in years
        ],
    )


def overrides_for_year(year: int) -> list[CalendarOverride]:
    return list(CalendarOverride.objects.filter(date__year=year).select_related("created_by").order_by("date"))


def year_confirmation(year: int) -> CalendarYear | None:
    return CalendarYear.objects.filter(year=year).select_related("confirmed_by").first()


@dataclass(frozen=True)
class LibraryDay:
    date: dt.date
    is_workday: bool
    name: str


def _chinese_name(english: str) -> str:
    try:
        return str(library_data.Holiday(english).chinese)
    except ValueError:
        return english


def library_days(year: int) -> list[LibraryDay]:
    """The library's holidays and make-up working days of one year, for operators to compare with the notice."""
    days = [LibraryDay(d, False, _chinese_name(n)) for d, n in library_data.holidays.items() if d.year == year]
    days += [LibraryDay(d, True, _chinese_name(n)) for d, n in library_data.workdays.items() if d.year == year]
    return sorted(days, key=lambda d: d.date)
