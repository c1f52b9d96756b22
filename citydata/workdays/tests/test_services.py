"""Operators' writes to the calendar: only operators, every change audited, slips refused with a reason."""

import datetime as dt

import pytest

from citydata.errors import DomainError, Forbidden
from citydata.security.models import AuditEvent
from citydata.workdays import queries, services
from citydata.workdays.models import CalendarOverride, CalendarYear
from citydata.workdays.tests.factories import enter_2027

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


def test_only_operators_change_the_calendar(user_with_role, make_user):
    for someone in (make_user(), user_with_role("provider", "JTJ"), user_with_role("auditor")):
        with pytest.raises(Forbidden):
            services.calendar_override_add(by=someone, day=D("2027-02-08"), kind="holiday", name="春节")
        with pytest.raises(Forbidden):
            services.calendar_year_confirm(by=someone, year=2027)
    operator = user_with_role("operator")
    override = services.calendar_override_add(by=operator, day=D("2027-02-08"), kind="holiday", name="春节")
    with pytest.raises(Forbidden):
        services.calendar_override_remove(by=user_with_role("provider", "JTJ"), override=override)
    assert CalendarOverride.objects.count() == 1 and not CalendarYear.objects.exists()


def test_add_remove_confirm_and_reopen_are_audited(user_with_role):
    operator = user_with_role("operator")
    override = services.calendar_override_add(
        by=operator, day=D("2027-10-01"), kind="holiday", name=" 国庆节 ", note="国办发明电〔2026〕X号"
    )
    assert (override.name, override.created_by) == ("国庆节", operator)
    services.calendar_override_remove(by=operator, override=override)
    assert not CalendarOverride.objects.exists()
    enter_2027(operator, confirm=False)
    confirmation = services.calendar_year_confirm(by=operator, year=2027, note="国务院通知")
    services.calendar_year_reopen(by=operator, confirmation=confirmation)
    assert not CalendarYear.objects.exists()
    events = list(AuditEvent.objects.filter(action__startswith="workdays.").order_by("seq"))
    actions = [e.action for e in events]
    assert actions[:2] == ["workdays.override_add", "workdays.override_remove"]
    assert actions[-2:] == ["workdays.year_confirm", "workdays.year_reopen"]
    assert events[0].changes == {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"}
    assert events[0].note == "国办发明电〔2026〕X号" and events[0].actor_id == operator.pk
    assert events[-2].changes == {"year": 2027} and events[-2].note == "国务院通知"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day": D("1999-12-31")}, "年份应在 2000 到 2100 之间"),
        ({"kind": "weekend"}, "请选择“放假”或“调休上班”"),
        ({"name": "  "}, "请填写名称"),
        ({"name": "节" * 41}, "名称不超过 40 个字"),
    ],
)
def test_bad_overrides_are_refused(user_with_role, kwargs, message):
    data = {"day": D("2027-02-08"), "kind": "holiday", "name": "春节", **kwargs}
    with pytest.raises(DomainError, match=message):
        services.calendar_override_add(by=user_with_role("operator"), **data)
    assert (
        not CalendarOverride.objects.exists() and not AuditEvent.objects.filter(action__startswith="workdays.").exists()
    )


def test_a_date_has_one_override(user_with_role):
    operator = user_with_role("operator")
    services.calendar_override_add(by=operator, day=D("2027-02-08"), kind="holiday", name="春节")
    with pytest.raises(DomainError, match="2027-02-08 已有调整") as caught:
        services.calendar_override_add(by=operator, day=D("2027-02-08"), kind="workday", name="春节")
    assert caught.value.code == "duplicate" and caught.value.details == {"field": "date"}


def test_confirming_a_year_needs_its_holidays_and_not_a_library_year(user_with_role):
    operator = user_with_role("operator")
    with pytest.raises(DomainError, match="2027 年还没有录入任何放假日期"):
        services.calendar_year_confirm(by=operator, year=2027)
    with pytest.raises(DomainError, match="日历库已包含 2026 年"):
        services.calendar_year_confirm(by=operator, year=2026)
    with pytest.raises(DomainError, match="年份应在"):
        services.calendar_year_confirm(by=operator, year=2101)
    enter_2027(operator)
    with pytest.raises(DomainError, match="2027 年已确认过"):
        services.calendar_year_confirm(by=operator, year=2027)
    assert CalendarYear.objects.get().confirmed_by == operator


def test_coverage_names_the_source_of_each_year(user_with_role):
    operator = user_with_role("operator")
    services.calendar_override_add(by=operator, day=D("2026-07-16"), kind="holiday", name="本市防汛停工")
    enter_2027(operator)
    services.calendar_override_add(by=operator, day=D("2028-01-28"), kind="holiday", name="春节")
    coverage = queries.coverage(D("2026-11-28"))
    rows = {y.year: (y.by_library, y.confirmation is not None, y.overrides, y.covered) for y in coverage.years}
    assert rows == {
        2026: (True, False, 1, True),
        2027: (False, True, 11, True),
        2028: (False, False, 1, False),
    }
    assert (coverage.library_first, coverage.library_last) == (2004, 2026)
    assert [y.year for y in queries.coverage(D("2030-01-05")).years][-2:] == [2030, 2031]  # now and next year
    days = queries.library_days(2026)
    assert (D("2026-02-14"), True, "春节") in [(d.date, d.is_workday, d.name) for d in days]
    assert (D("2026-10-01"), False, "国庆节") in [(d.date, d.is_workday, d.name) for d in days]
    assert queries.library_days(2027) == []
