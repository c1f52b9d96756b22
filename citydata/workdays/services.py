"""Operators' changes to the working-day calendar: overrides and year confirmations, authorised and audited."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.errors import DomainError
from citydata.security import audit
from citydata.workdays.calendar import MAX_YEAR, MIN_YEAR, library_covers
from citydata.workdays.models import CalendarOverride, CalendarYear, DayKind


def _check_year(year: int, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(_("年份应在 2000 到 2100 之间。"), details={"field": field})


@transaction.atomic
def calendar_override_add(*, by: User, day: dt.date, kind: str, name: str, note: str = "") -> CalendarOverride:
    """Make one date a holiday or a working day, whatever the library or the plain week says."""
    authz.authorize(by, "workdays.manage")
    _check_year(day.year, "date")
    if kind not in DayKind.values:
        raise DomainError(_("请选择“放假”或“调休上班”。"), details={"field": "kind"})
    name, note = name.strip(), note.strip()
    if not name:
        raise DomainError(_("请填写名称，例如：春节。"), details={"field": "name"})
    if len(name) > 40 or len(note) > 200:
        raise DomainError(_("名称不超过 40 个字，依据不超过 200 个字。"), details={"field": "name"})
    existing = CalendarOverride.objects.filter(date=day).first()
    if existing is not None:
        raise DomainError(
            _("%(date)s 已有调整（%(what)s），如需改动请先删除原记录。")
            % {"date": day.isoformat(), "what": f"{existing.get_kind_display()} {existing.name}"},
            code="duplicate",
            details={"field": "date"},
        )
    try:
        with transaction.atomic():
            override = CalendarOverride.objects.create(date=day, kind=kind, name=name, note=note, created_by=by)
    except IntegrityError:
        # Another operator entered the same date a moment ago.
        raise DomainError(
            _("%(date)s 已有调整，请刷新页面。") % {"date": day.isoformat()},
            code="duplicate",
            details={"field": "date"},
        ) from None
    audit.record(
        by,
        "workdays.override_add",
        override,
        changes={"date": day.isoformat(), "kind": kind, "name": name},
        note=note,
    )
    return override


@transaction.atomic
def calendar_override_remove(*, by: User, override: CalendarOverride) -> None:
    authz.authorize(by, "workdays.manage")
    audit.record(
        by,
        "workdays.override_remove",
        override,
        changes={"date": override.date.isoformat(), "kind": override.kind, "name": override.name},
    )
    override.delete()


@transaction.atomic
def calendar_year_confirm(*, by: User, year: int, note: str = "") -> CalendarYear:
    """Declare a year's holidays and make-up days all entered, so deadlines in that year can be counted."""
    authz.authorize(by, "workdays.manage")
    _check_year(year, "year")
    if library_covers(year):
        raise DomainError(
            _("日历库已包含 %(year)s 年的节假日安排，无需确认；本市另有调整时直接添加即可。") % {"year": year},
            details={"field": "year"},
        )
    if CalendarYear.objects.filter(year=year).exists():
        raise DomainError(_("%(year)s 年已确认过。") % {"year": year}, code="duplicate", details={"field": "year"})
    if not CalendarOverride.objects.filter(date__year=year, kind=DayKind.HOLIDAY).exists():
        # Every year has statutory holidays; confirming none is a slip, and would make every weekday count.
        raise DomainError(
            _("%(year)s 年还没有录入任何放假日期。请先按国务院办公厅的通知录入放假和调休上班日期，再确认。")
            % {"year": year},
            details={"field": "year"},
        )
    confirmation = CalendarYear.objects.create(year=year, note=note.strip()[:200], confirmed_by=by)
    audit.record(by, "workdays.year_confirm", confirmation, changes={"year": year}, note=confirmation.note)
    return confirmation


@transaction.atomic
def calendar_year_reopen(*, by: User, confirmation: CalendarYear) -> None:
    """Withdraw a confirmation: deadlines in that year raise CalendarMissing again until it is confirmed."""
    authz.authorize(by, "workdays.manage")
    audit.record(by, "workdays.year_reopen", confirmation, changes={"year": confirmation.year})
    confirmation.delete()
