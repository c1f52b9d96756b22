"""The operators' calendar page: who may open it, adding and removing overrides, confirming a year, and bad
input answered with 400 and a Chinese message."""

import datetime as dt

import pytest

from citydata.security.models import AuditEvent
from citydata.workdays.models import CalendarOverride, CalendarYear
from citydata.workdays.tests.factories import enter_2027

pytestmark = pytest.mark.django_db
URL = "/manage/workdays/"


def test_only_operators_open_the_page_and_post_to_it(client, client_for):
    assert client.get(URL).status_code == 302
    assert client.post(URL, {"date": "2027-02-08", "kind": "holiday", "name": "春节"}).status_code == 302
    provider = client_for("provider", "JTJ")
    assert provider.get(URL).status_code == 403
    assert provider.post(URL, {"date": "2027-02-08", "kind": "holiday", "name": "春节"}).status_code == 403
    assert provider.post(f"{URL}years/confirm/", {"year": "2027"}).status_code == 403
    assert not CalendarOverride.objects.exists()
    page = client_for("operator").get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "工作日历" in html and "2004–2026" in html


def test_the_page_shows_coverage_and_warns_about_next_year(client_for):
    html = client_for("operator").get(URL, {"year": "2027"}).content.decode()
    assert "日历库不包含 2027 年" in html and "未录入，期限无法计算" in html
    html = client_for("operator").get(URL, {"year": "2026"}).content.decode()
    assert "2026 年已由日历库覆盖" in html and "2026-02-14" in html  # the library's days, for comparison


def test_an_operator_enters_2027_and_confirms_it(client_for):
    operator = client_for("operator")
    response = operator.post(URL, {"date": "2027-02-08", "kind": "holiday", "name": "春节", "note": "国务院办公厅通知"})
    assert response.status_code == 302 and response["Location"] == f"{URL}?year=2027"
    override = CalendarOverride.objects.get()
    assert (override.date, override.kind, override.name, override.created_by) == (
        dt.date(2027, 2, 8),
        "holiday",
        "春节",
        operator.user,
    )
    html = operator.get(URL, {"year": "2027"}).content.decode()
    assert "2027-02-08" in html and "春节" in html and "已添加：2027-02-08 春节" in html
    # the calculator still refuses 2027 until the year is confirmed
    refused = operator.get(URL, {"year": "2027", "start": "2027-02-05", "n": "1"})
    assert refused.status_code == 400 and "2027 年的工作日历尚未录入" in refused.content.decode()
    response = operator.post(f"{URL}years/confirm/", {"year": "2027", "note": "国务院办公厅通知"})
    assert response.status_code == 302
    assert CalendarYear.objects.get().confirmed_by == operator.user
    done = operator.get(URL, {"year": "2027", "start": "2027-02-05", "n": "1"})
    assert done.status_code == 200
    assert "2027-02-05 之后第 1 个工作日是 2027-02-09" in done.content.decode()  # 8 February is the holiday
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="workdays.").order_by("seq")] == [
        "workdays.override_add",
        "workdays.year_confirm",
    ]


def test_an_operator_removes_an_override_and_reopens_a_year(client_for, user_with_role):
    operator = client_for("operator")
    enter_2027(operator.user)
    override = CalendarOverride.objects.get(date="2027-02-20")
    assert operator.get(f"{URL}overrides/{override.pk}/remove/").status_code == 405
    response = operator.post(f"{URL}overrides/{override.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == f"{URL}?year=2027"
    assert not CalendarOverride.objects.filter(pk=override.pk).exists()
    assert operator.post(f"{URL}overrides/{override.pk}/remove/").status_code == 404
    assert operator.post(f"{URL}years/2027/reopen/").status_code == 302
    assert not CalendarYear.objects.exists()
    assert operator.post(f"{URL}years/2027/reopen/").status_code == 404
    removed = AuditEvent.objects.get(action="workdays.override_remove")
    assert removed.changes["date"] == "2027-02-20" and removed.actor_id == operator.user.pk
    assert AuditEvent.objects.filter(action="workdays.year_reopen").exists()


def test_a_provider_cannot_remove_or_reopen(client_for, user_with_role):
    enter_2027(user_with_role("operator"))
    provider = client_for("provider", "JTJ")
    override = CalendarOverride.objects.first()
    assert provider.post(f"{URL}overrides/{override.pk}/remove/").status_code == 403
    assert provider.post(f"{URL}years/2027/reopen/").status_code == 403
    assert CalendarOverride.objects.filter(pk=override.pk).exists() and CalendarYear.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "", "kind": "holiday", "name": "春节"}, "请填写日期。"),
        ({"date": "2027-02-30", "kind": "holiday", "name": "春节"}, "日期格式应为 YYYY-MM-DD"),
        ({"date": "明天", "kind": "holiday", "name": "春节"}, "日期格式应为 YYYY-MM-DD"),
        ({"date": "2027-02-08", "kind": "weekend", "name": "春节"}, "请选择“放假”或“调休上班”。"),
        ({"date": "2027-02-08", "kind": "holiday", "name": ""}, "请填写名称，例如：春节。"),
        ({"date": "2027-02-08", "kind": "holiday", "name": "节" * 41}, "名称不超过 40 个字。"),
        ({"date": "2027-02-08", "kind": "holiday", "name": "春节", "note": "x" * 201}, "依据不超过 200 个字。"),
        ({"date": "1999-02-08", "kind": "holiday", "name": "春节"}, "年份应在 2000 到 2100 之间。"),
        ({"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}, "2026-10-01 已有调整"),
    ],
)
def test_bad_overrides_answer_400_with_the_reason(client_for, data, message):
    operator = client_for("operator")
    CalendarOverride.objects.create(date="2026-10-01", kind="holiday", name="国庆节")
    response = operator.post(URL, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert CalendarOverride.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="workdays.").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year": "2027"}, "2027 年还没有录入任何放假日期"),
        ({"year": "2026"}, "日历库已包含 2026 年"),
        ({"year": "abc"}, "年份应为四位数字"),
        ({"year": "1999"}, "年份应在 2000 到 2100 之间。"),
        ({}, "请填写年份。"),
    ],
)
def test_bad_confirmations_answer_400_with_the_reason(client_for, data, message):
    response = client_for("operator").post(f"{URL}years/confirm/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"year": "abc"}, "年份应为四位数字"),
        ({"year": "3000"}, "年份应在 2000 到 2100 之间。"),
        ({"start": "2026-13-01", "n": "5"}, "日期格式应为 YYYY-MM-DD"),
        ({"start": "2026-09-30", "n": "-1"}, "工作日数应为 0 到 366 之间的整数。"),
        ({"start": "2026-09-30", "n": "五"}, "工作日数应为 0 到 366 之间的整数。"),
        ({"start": "2026-12-28", "n": "5"}, "2027 年的工作日历尚未录入"),
    ],
)
def test_bad_queries_answer_400_with_the_reason(client_for, query, message):
    response = client_for("operator").get(URL, query)
    assert response.status_code == 400 and message in response.content.decode()


def test_the_calculator_uses_the_same_rules(client_for):
    response = client_for("operator").get(URL, {"start": "2026-09-30", "n": "5"})
    assert response.status_code == 200
    assert "2026-09-30 之后第 5 个工作日是 2026-10-13（星期二）" in response.content.decode()
