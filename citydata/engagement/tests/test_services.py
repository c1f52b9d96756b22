"""Feedback services: who may post and answer, states, deadlines in working days, notifications, the signal
to the quality app, complaints with take-down and restore, posting limits, and the deadline clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from citydata.accounts.models import Notification
from citydata.catalog.models import Dataset
from citydata.engagement import services, signals
from citydata.engagement.models import (
    Comment,
    Complaint,
    DataRequest,
    ErrorReport,
    Rating,
)
from citydata.engagement.services import common
from citydata.errors import Conflict, DomainError, Forbidden, TooManyRequests
from citydata.security.models import AuditEvent
from citydata.workdays import calendar

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def subjects(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("subject", flat=True))


# --- comments and ratings -------------------------------------------------------------------------------


def test_comments_are_post_moderated_by_default_and_pre_moderated_when_operators_choose(
    dataset, make_user, user_with_role
):
    citizen = make_user()
    first = services.comment_submit(by=citizen, dataset=dataset, body="  很有用，希望按月更新  ")
    assert (first.status, first.body) == ("published", "很有用，希望按月更新")
    operator = user_with_role("operator")
    services.moderation_mode_set(by=operator, mode="pre")
    second = services.comment_submit(by=citizen, dataset=dataset, body="第二条")
    assert second.status == "pending"
    with pytest.raises(Forbidden):
        services.comment_approve(by=user_with_role("provider", "WJW"), comment=second)
    services.comment_approve(by=user_with_role("provider", "JTJ"), comment=second)
    assert Comment.objects.get(pk=second.pk).status == "published"
    with pytest.raises(Forbidden):
        services.moderation_mode_set(by=user_with_role("provider", "JTJ"), mode="post")
    assert AuditEvent.objects.filter(action="feedback.moderation_mode").count() == 1


def test_hiding_a_comment_needs_a_reason_and_tells_the_author(dataset, make_user, user_with_role):
    citizen = make_user()
    comment = services.comment_submit(by=citizen, dataset=dataset, body="广告：低价代办")
    staff = user_with_role("provider", "JTJ")
    with pytest.raises(DomainError) as refused:
        services.content_hide(by=staff, obj=comment, reason="  ")
    assert refused.value.details == {"field": "reason"}
    with pytest.raises(Forbidden):
        services.content_hide(by=make_user(), obj=comment, reason="广告")
    services.content_hide(by=staff, obj=comment, reason="含有广告")
    comment.refresh_from_db()
    assert (comment.status, comment.hidden_reason, comment.moderated_by) == ("hidden", "含有广告", staff)
    assert subjects(citizen) == ["您发表的内容已被屏蔽"]
    assert AuditEvent.objects.get(action="comment.hide").note == "含有广告"


def test_comments_need_a_login_a_published_dataset_and_sane_text(dataset, make_user):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Forbidden):
        services.comment_submit(by=AnonymousUser(), dataset=dataset, body="匿名")
    citizen = make_user()
    with pytest.raises(DomainError, match="不超过 1000 个字"):
        services.comment_submit(by=citizen, dataset=dataset, body="长" * 1001)
    with pytest.raises(DomainError, match="无效字符"):
        services.comment_submit(by=citizen, dataset=dataset, body="a\x00b")
    Dataset.objects.filter(pk=dataset.pk).update(status="withdrawn", withdrawn_reason="测试")
    dataset.refresh_from_db()
    with pytest.raises(Conflict):
        services.comment_submit(by=citizen, dataset=dataset, body="好")
    assert not Comment.objects.exists()


def test_one_rating_per_user_editable_and_the_average(dataset, make_user):
    from citydata.engagement import queries

    alice, bob = make_user(), make_user()
    services.rating_set(by=alice, dataset=dataset, score=5, reason="完整")
    services.rating_set(by=bob, dataset=dataset, score=2, reason="缺字段说明")
    services.rating_set(by=bob, dataset=dataset, score=4, reason="已补充")
    assert Rating.objects.filter(dataset=dataset).count() == 2
    summary = queries.rating_summary(dataset)
    assert (summary.count, summary.average) == (2, 4.5)
    assert summary.distribution[0] == (5, 1, 50) and summary.distribution[1] == (4, 1, 50)
    for bad in (0, 6, "5", 4.5, True):
        with pytest.raises(DomainError) as refused:
            services.rating_set(by=alice, dataset=dataset, score=bad)
        assert refused.value.code == "invalid_score"
    changed = AuditEvent.objects.filter(action="rating.set").order_by("seq").last()
    assert changed.changes["score"] == {"before": 2, "after": 4}


# --- error reports --------------------------------------------------------------------------------------


def test_an_error_report_reaches_the_department_with_a_working_day_deadline(dataset, make_user, feedback_staff):
    citizen = make_user()
    report = services.error_report_submit(
        by=citizen, dataset=dataset, field_name="stops", row_ref="第 3 行", problem="站点数为负数", correction="18"
    )
    assert report.department == dataset.department
    assert (report.field_name, report.field_title) == ("stops", "站点数")
    expected = calendar.deadline(report.created_at, common.ERROR_REPORT_WORKDAYS)
    assert report.due_at == expected
    assert subjects(feedback_staff) == [f"数据集《{dataset.title}》收到纠错"]
    with pytest.raises(DomainError) as refused:
        services.error_report_submit(by=citizen, dataset=dataset, field_name="nope", problem="?")
    assert refused.value.details == {"field": "field_name"}


def test_the_deadline_skips_the_national_day_holiday(dataset, make_user, monkeypatch):
    # Submitted on Wednesday 30 September 2026: 1–7 October are holidays; the 10th (Saturday) is a make-up day.
    monday = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: monday)
    report = services.error_report_submit(by=make_user(), dataset=dataset, problem="错误")
    assert timezone.localtime(report.due_at).date() == dt.date(2026, 10, 13)


def test_a_year_without_a_calendar_counts_a_plain_week_instead_of_refusing(dataset, make_user, monkeypatch):
    late = dt.datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)  # five working days later is in 2027
    monkeypatch.setattr(timezone, "now", lambda: late)
    report = services.error_report_submit(by=make_user(), dataset=dataset, problem="错误")
    assert timezone.localtime(report.due_at).date() == dt.date(2027, 1, 4)


def test_confirming_a_report_answers_publicly_notifies_and_signals_the_quality_app(
    dataset, make_user, feedback_staff, user_with_role
):
    citizen = make_user()
    report = services.error_report_submit(by=citizen, dataset=dataset, problem="第 3 行站点数为负数")
    received = []

    def listener(sender, report, by, **kwargs):
        received.append((report.pk, report.status, by))

    signals.error_report_confirmed.connect(listener)
    try:
        with pytest.raises(Forbidden):
            services.error_report_answer(
                by=user_with_role("provider", "WJW"), report=report, confirmed=True, answer="x"
            )
        services.error_report_answer(by=feedback_staff, report=report, confirmed=True, answer="属实，将于本周修正")
    finally:
        signals.error_report_confirmed.disconnect(listener)
    report.refresh_from_db()
    assert (report.status, report.answer, report.answered_by) == ("confirmed", "属实，将于本周修正", feedback_staff)
    assert received == [(report.pk, "confirmed", feedback_staff)]
    assert subjects(citizen) == [f"您对《{dataset.title}》的纠错已答复：已确认，整改中"]
    with pytest.raises(Conflict):
        services.error_report_answer(by=feedback_staff, report=report, confirmed=False, answer="再答一次")
    services.error_report_resolve(by=None, report=report, note="已更正为 18")
    report.refresh_from_db()
    assert report.status == "resolved" and "已更正为 18" in report.answer
    assert [e.action for e in AuditEvent.objects.filter(object_type="engagement.errorreport").order_by("seq")] == [
        "error_report.submit",
        "error_report.answer",
        "error_report.resolve",
    ]


def test_rejecting_a_report_sends_no_signal(dataset, make_user, feedback_staff):
    report = services.error_report_submit(by=make_user(), dataset=dataset, problem="怀疑有误")
    received = []
    signals.error_report_confirmed.connect(received.append)
    try:
        services.error_report_answer(by=feedback_staff, report=report, confirmed=False, answer="经核实数据无误")
    finally:
        signals.error_report_confirmed.disconnect(received.append)
    assert received == [] and ErrorReport.objects.get().status == "rejected"
    with pytest.raises(Conflict):
        services.error_report_resolve(by=feedback_staff, report=report)


def test_posting_is_limited_per_user_and_per_address(dataset, make_user, monkeypatch):
    monkeypatch.setitem(common.LIMITS, "error_report", (2, 3))
    citizen = make_user()
    for _ in range(2):
        services.error_report_submit(by=citizen, dataset=dataset, problem="错误", ip="10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        services.error_report_submit(by=citizen, dataset=dataset, problem="错误", ip="10.0.0.2")
    assert refused.value.code == "rate_limited"
    # another user behind the same address may still post, up to the address's share
    monkeypatch.setattr(common, "IP_FACTOR", 1)
    with pytest.raises(TooManyRequests):
        services.error_report_submit(by=make_user(), dataset=dataset, problem="错误", ip="10.0.0.1")
    services.error_report_submit(by=make_user(), dataset=dataset, problem="错误", ip="10.0.0.3")
    assert ErrorReport.objects.count() == 3


# --- data requests --------------------------------------------------------------------------------------


def test_a_data_request_is_routed_accepted_and_fulfilled_and_the_requester_told_each_step(
    make_dataset, make_user, user_with_role, feedback_staff, department
):
    requester = make_user()
    operator = user_with_role("operator")
    request = services.data_request_submit(by=requester, title="公共充电桩实时状态", purpose="出行应用")
    assert request.department is None and request.status == "open"
    assert subjects(operator) == ["新的数据需求：公共充电桩实时状态"]
    with pytest.raises(Conflict):
        services.data_request_accept(by=operator, request=request)
    with pytest.raises(Forbidden):
        services.data_request_route(by=feedback_staff, request=request, department=department("JTJ"))
    services.data_request_route(by=operator, request=request, department=department("JTJ"))
    assert subjects(feedback_staff) == ["新的数据需求：公共充电桩实时状态"]
    with pytest.raises(Forbidden):
        services.data_request_accept(by=user_with_role("provider", "WJW"), request=request)
    services.data_request_accept(by=feedback_staff, request=request, answer="计划下月开放")
    request.refresh_from_db()
    assert (request.status, request.answer) == ("accepted", "计划下月开放")
    answered_at = request.answered_at
    draft = make_dataset("绵阳市公共充电桩信息", slug="chargers")
    Dataset.objects.filter(pk=draft.pk).update(status="draft")
    draft.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.data_request_fulfil(by=feedback_staff, request=request, dataset=draft)
    assert refused.value.details == {"field": "dataset"}
    elsewhere = make_dataset("绵阳市医疗机构名录", dept="WJW", slug="hospitals")
    with pytest.raises(DomainError) as refused:  # another department's data is that department's answer
        services.data_request_fulfil(by=feedback_staff, request=request, dataset=elsewhere)
    assert refused.value.code == "not_own_dataset"
    chargers = make_dataset("绵阳市公共充电桩实时状态", slug="chargers-live")
    services.data_request_fulfil(by=feedback_staff, request=request, dataset=chargers)
    request.refresh_from_db()
    assert (request.status, request.dataset, request.answered_at) == ("fulfilled", chargers, answered_at)
    assert subjects(requester) == [
        "您的数据需求“公共充电桩实时状态”已受理",
        "您需要的数据“公共充电桩实时状态”已开放",
    ]
    with pytest.raises(Conflict):
        services.data_request_decline(by=feedback_staff, request=request, answer="x", legal_basis="y")


def test_declining_needs_the_legal_basis(make_user, feedback_staff, department):
    request = services.data_request_submit(by=make_user(), title="个人社保缴费明细", department=department("JTJ"))
    with pytest.raises(DomainError) as refused:
        services.data_request_decline(by=feedback_staff, request=request, answer="涉及个人信息", legal_basis="")
    assert refused.value.details == {"field": "legal_basis"}
    services.data_request_decline(
        by=feedback_staff, request=request, answer="涉及个人信息", legal_basis="《个人信息保护法》第十三条"
    )
    request.refresh_from_db()
    assert (request.status, request.legal_basis) == ("declined", "《个人信息保护法》第十三条")


def test_zero_result_queries_become_one_backlog_entry_each(user_with_role, make_user):
    operator = user_with_role("operator")
    with pytest.raises(Forbidden):
        services.data_request_from_search(by=make_user(), query="充电桩")
    entry, created = services.data_request_from_search(by=operator, query="充电桩", searches=7)
    assert created and (entry.requester, entry.source, entry.search_count) == (None, "search", 7)
    again, created = services.data_request_from_search(by=operator, query="充电桩", searches=3)
    assert not created and again.pk == entry.pk and again.search_count == 10
    assert DataRequest.objects.count() == 1


# --- suggestions ----------------------------------------------------------------------------------------


def test_suggestions_go_to_operators_who_answer(make_user, user_with_role):
    author, operator = make_user(), user_with_role("operator")
    suggestion = services.suggestion_submit(by=author, title="增加英文界面", body="方便外籍人士使用")
    assert subjects(operator) == ["新的平台建议：增加英文界面"]
    with pytest.raises(Forbidden):
        services.suggestion_answer(by=user_with_role("provider", "JTJ"), suggestion=suggestion, answer="好")
    services.suggestion_answer(by=operator, suggestion=suggestion, answer="已支持英文")
    suggestion.refresh_from_db()
    assert suggestion.status == "answered" and subjects(author) == ["您的平台建议已答复"]


# --- complaints -----------------------------------------------------------------------------------------


def test_a_complaint_takes_the_dataset_down_and_an_upheld_one_keeps_it_down(
    dataset, make_user, user_with_role, feedback_staff
):
    operator = user_with_role("operator")
    reporter = make_user()
    complaint = services.complaint_submit(
        by=reporter, dataset=dataset, description="第 5 行有完整的身份证号", location="第 5 行 联系人"
    )
    assert complaint.department == dataset.department and complaint.due_at is not None
    assert subjects(operator) and subjects(feedback_staff)
    assert "身份证号" not in str(AuditEvent.objects.get(action="complaint.submit").changes)
    with pytest.raises(Forbidden):
        services.complaint_take_down(by=make_user(), complaint=complaint)
    services.complaint_take_down(by=feedback_staff, complaint=complaint)
    dataset.refresh_from_db()
    assert dataset.status == "withdrawn" and "投诉举报" in dataset.withdrawn_reason
    assert AuditEvent.objects.filter(action="dataset.withdraw", object_id=str(dataset.pk)).exists()
    services.complaint_resolve(by=operator, complaint=complaint, upheld=True, answer="已删除该列并重新脱敏")
    complaint.refresh_from_db()
    dataset.refresh_from_db()
    assert complaint.status == "upheld" and dataset.status == "withdrawn"
    assert subjects(reporter)[-1] == "您的投诉举报已处理：投诉成立，已处理"


def test_a_dismissed_complaint_restores_the_dataset(dataset, make_user, feedback_staff):
    complaint = services.complaint_submit(by=make_user(), dataset=dataset, description="疑似手机号")
    services.complaint_take_down(by=feedback_staff, complaint=complaint)
    services.complaint_resolve(
        by=feedback_staff, complaint=complaint, upheld=False, answer="为单位办公电话，不属个人信息"
    )
    dataset.refresh_from_db()
    complaint.refresh_from_db()
    assert dataset.status == "published" and complaint.restored_at is not None
    with pytest.raises(Conflict):
        services.complaint_take_down(by=feedback_staff, complaint=complaint)


def test_anonymous_complaints_need_a_contact_are_limited_by_address_and_mailed_the_outcome(
    dataset, feedback_staff, monkeypatch
):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    with pytest.raises(DomainError) as refused:
        services.complaint_submit(by=anonymous, dataset=dataset, description="泄露手机号", ip="10.1.1.1")
    assert refused.value.details == {"field": "contact"}
    complaint = services.complaint_submit(
        by=anonymous, dataset=dataset, description="泄露手机号", contact="Reporter@Example.cn", ip="10.1.1.1"
    )
    assert complaint.reporter is None and complaint.contact == "reporter@example.cn"
    monkeypatch.setitem(common.LIMITS, "complaint_anonymous", (1, 5))
    with pytest.raises(TooManyRequests):
        services.complaint_submit(
            by=anonymous, dataset=dataset, description="再报", contact="13800001111", ip="10.1.1.1"
        )
    with pytest.raises(Forbidden):
        services.complaint_resolve(by=anonymous, complaint=complaint, upheld=False, answer="x")
    mail.outbox.clear()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.complaint_resolve(by=feedback_staff, complaint=complaint, upheld=False, answer="核查后不属个人信息")
    assert [m.to for m in mail.outbox if "投诉举报" in m.subject] == [["reporter@example.cn"]]
    assert complaint.token in mail.outbox[-1].body


# --- the clock ------------------------------------------------------------------------------------------


def test_the_clock_reminds_a_working_day_before_and_escalates_once_overdue(
    dataset, make_user, user_with_role, feedback_staff
):
    operator = user_with_role("operator")
    report = services.error_report_submit(by=make_user(), dataset=dataset, problem="错误")
    due = report.due_at
    Notification.objects.all().delete()
    assert services.deadlines_tick(now=due - dt.timedelta(days=10)) == {"reminded": 0, "escalated": 0}
    day_before = calendar.add_workdays(timezone.localtime(due).date(), 0)
    counts = services.deadlines_tick(now=dt.datetime.combine(day_before, dt.time(9), tzinfo=SHANGHAI))
    assert counts == {"reminded": 1, "escalated": 0}
    assert subjects(feedback_staff) == [f"纠错 #{report.pk} {dataset.title} 即将到达答复期限"]
    assert services.deadlines_tick(now=due - dt.timedelta(hours=1))["reminded"] == 0  # once
    assert services.deadlines_tick(now=due + dt.timedelta(minutes=1)) == {"reminded": 0, "escalated": 1}
    assert subjects(operator) == [f"纠错 #{report.pk} {dataset.title} 已超过答复期限"]
    assert services.deadlines_tick(now=due + dt.timedelta(days=1))["escalated"] == 0
    assert AuditEvent.objects.filter(action="errorreport.escalate").count() == 1


def test_answered_items_are_not_chased(dataset, make_user, feedback_staff):
    report = services.error_report_submit(by=make_user(), dataset=dataset, problem="错误")
    services.error_report_answer(by=feedback_staff, report=report, confirmed=False, answer="无误")
    assert services.deadlines_tick(now=report.due_at + dt.timedelta(days=1)) == {"reminded": 0, "escalated": 0}


def test_complaints_stay_out_of_public_reads(dataset, make_user):
    services.complaint_submit(by=make_user(), dataset=dataset, description="泄露")
    assert Complaint.objects.count() == 1
    from citydata.engagement import queries

    feedback = queries.dataset_feedback(dataset, None)
    assert not hasattr(feedback, "complaints")
