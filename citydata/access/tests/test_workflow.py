"""The application workflow through its services: every state change allowed by the table and by role,
refused otherwise with a clear message; the working-day clock, its pause, reminders and escalation."""

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from freezegun import freeze_time

from citydata.access import services
from citydata.access.models import Application, Event, GrantStatus, Panel, State
from citydata.accounts.models import Notification
from citydata.errors import DomainError, Forbidden
from citydata.security.models import AuditEvent
from citydata.workdays import calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def states(application):
    return [e.to_state for e in Event.objects.filter(application=application).order_by("id")]


def test_full_flow_to_a_grant_with_history_audit_and_notices(granted, people, django_capture_on_commit_callbacks):
    application, grant, secret = granted
    assert application.state == State.GRANTED
    assert states(application) == ["draft", "submitted", "accepted", "evaluating", "approved", "signed", "granted"]
    assert secret.startswith("cd_") and grant.api_key.user == people["applicant"]
    assert [(i.dataset.slug, i.fields) for i in grant.items.all()] == [("power", ["户号", "街道", "用电量"])]
    agreement = application.agreement
    assert (
        agreement.accepted_ip == "127.0.0.1" and agreement.sha256 == hashlib.sha256(agreement.text.encode()).hexdigest()
    )
    assert application.number in agreement.text and "户号、街道、用电量" in agreement.text
    assert AuditEvent.objects.filter(action__startswith="application.", object_id=str(application.pk)).count() >= 6
    subjects = set(Notification.objects.filter(user=people["applicant"]).values_list("subject", flat=True))
    assert any("已受理" in s for s in subjects) and any("已通过" in s for s in subjects)
    assert Notification.objects.filter(user=people["reviewer"], subject__contains="待受理").exists()


@pytest.mark.parametrize(
    "step",
    [
        lambda a, p: services.application_accept(by=p["reviewer"], application=a),  # a draft cannot be accepted
        lambda a, p: services.application_evaluate(by=p["reviewer"], application=a),
        lambda a, p: services.application_decide(by=p["reviewer"], application=a, approve=True, reason="好"),
    ],
)
def test_illegal_transitions_are_refused_with_the_states_named(apply, people, step):
    application = apply()
    with pytest.raises(DomainError) as refused:
        step(application, people)
    assert refused.value.code == "invalid_transition" and "草稿" in str(refused.value.message)
    application.refresh_from_db()
    assert application.state == State.DRAFT


def test_roles_and_departments_are_enforced(apply, people, user_with_role):
    application = apply()
    with pytest.raises(Forbidden):
        services.application_submit(by=people["other"], application=application, commitment=True)
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    for outsider in (user_with_role("provider", "WJW"), people["applicant"], people["experts"][0]):
        with pytest.raises(Forbidden):
            services.application_accept(by=outsider, application=application)
    services.application_accept(by=people["operator"], application=application)  # operators may step in


def test_submission_needs_the_commitment_and_valid_content(apply, people, conditional):
    with pytest.raises(DomainError) as refused:
        apply(fields=["户号", "不存在的字段"])
    assert refused.value.code == "invalid_fields" and refused.value.details["unknown"] == ["不存在的字段"]
    with pytest.raises(DomainError) as refused:
        apply(purpose="  ")
    assert refused.value.details == {"field": "purpose"}
    with pytest.raises(DomainError) as refused:
        apply(period_end=dt.date(2000, 1, 1))
    assert refused.value.code == "invalid_period"
    application = apply()
    with pytest.raises(DomainError) as refused:
        services.application_submit(by=people["applicant"], application=application, commitment=False)
    assert refused.value.code == "commitment_required"


def test_open_datasets_cannot_be_applied_for(apply, conditional):
    type(conditional).objects.filter(pk=conditional.pk).update(open_type="open")
    conditional.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        apply()
    assert refused.value.code == "not_conditional"


def test_rejection_needs_a_reason_shown_to_the_applicant(apply, people):
    application = apply()
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    services.application_accept(by=people["reviewer"], application=application)
    services.application_evaluate(by=people["reviewer"], application=application)
    with pytest.raises(DomainError):
        services.application_decide(by=people["reviewer"], application=application, approve=False, reason="")
    services.application_decide(by=people["reviewer"], application=application, approve=False, reason="涉及个人隐私")
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.decision_reason == "涉及个人隐私"
    assert Notification.objects.get(user=people["applicant"], subject__contains="未通过").body == "涉及个人隐私"
    with pytest.raises(DomainError):  # rejected is final
        services.application_evaluate(by=people["reviewer"], application=application)


def test_acceptance_deadline_counts_working_days_and_pauses_while_returned(apply, people):
    application = apply()
    with freeze_time(dt.datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)):
        services.application_submit(by=people["applicant"], application=application, commitment=True)
    application.refresh_from_db()
    # National Day is skipped and the make-up Saturday 10/10 counts: five working days end on 10/13.
    assert application.accept_due.astimezone(SHANGHAI).date() == dt.date(2026, 10, 13)
    with freeze_time(dt.datetime(2026, 10, 9, 9, tzinfo=SHANGHAI)):
        services.application_return(by=people["reviewer"], application=application, missing="请补充课题立项证明")
    application.refresh_from_db()
    left = calendar.workdays_between(dt.date(2026, 10, 9), dt.date(2026, 10, 13))
    assert application.state == State.RETURNED and application.paused_workdays == left == 3  # 10/10, 10/12, 10/13
    # The applicant takes a week to complete the file: that week does not count against the department.
    with freeze_time(dt.datetime(2026, 10, 16, 15, tzinfo=SHANGHAI)):
        services.application_save(
            by=people["applicant"],
            application=application,
            items=[(i.dataset, i.fields) for i in application.items.all()],
            purpose=application.purpose,
            scenario=application.scenario,
            period_start=application.period_start,
            period_end=application.period_end,
            expected_volume=application.expected_volume,
            security_measures=application.security_measures + "；附立项证明",
        )
        services.application_submit(by=people["applicant"], application=application, commitment=True)
    application.refresh_from_db()
    assert application.accept_due.astimezone(SHANGHAI).date() == calendar.add_workdays(dt.date(2026, 10, 16), 3)
    assert (
        application.paused_total == calendar.workdays_between(dt.date(2026, 10, 9), dt.date(2026, 10, 16)) == 6
    )  # 10/10 (make-up), 10/12–16
    assert Notification.objects.filter(user=people["applicant"], body="请补充课题立项证明").exists()


def test_reminder_before_the_deadline_and_escalation_once_missed(apply, people):
    application = apply()
    with freeze_time(dt.datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)):  # a Monday
        services.application_submit(by=people["applicant"], application=application, commitment=True)
    application.refresh_from_db()
    assert application.accept_due.astimezone(SHANGHAI).date() == dt.date(2026, 11, 9)
    assert services.deadlines_tick(dt.datetime(2026, 11, 4, 9, tzinfo=SHANGHAI)) == {"reminded": 0, "escalated": 0}
    assert services.deadlines_tick(dt.datetime(2026, 11, 6, 9, tzinfo=SHANGHAI)) == {"reminded": 1, "escalated": 0}
    assert services.deadlines_tick(dt.datetime(2026, 11, 6, 10, tzinfo=SHANGHAI)) == {"reminded": 0, "escalated": 0}
    late = dt.datetime(2026, 11, 10, 9, tzinfo=SHANGHAI)
    assert services.deadlines_tick(late) == {"reminded": 0, "escalated": 1}
    assert services.deadlines_tick(late) == {"reminded": 0, "escalated": 0}  # once
    assert Notification.objects.filter(user=people["operator"], subject__contains="超过受理时限").count() == 1
    with freeze_time(late):
        services.application_accept(by=people["reviewer"], application=application)
    application.refresh_from_db()
    assert application.accepted_on_time() is False and states(application)[-1] == "accepted"


def test_expert_panel_records_each_opinion_and_the_majority(apply, people, user_with_role):
    application = apply()
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    services.application_accept(by=people["reviewer"], application=application)
    services.application_evaluate(by=people["reviewer"], application=application)
    a, b = people["experts"]
    with pytest.raises(DomainError) as refused:
        services.panel_create(
            by=people["operator"], subject="议", question="可否开放？", members=[a], application=application
        )
    assert refused.value.code == "too_few_experts"
    with pytest.raises(DomainError) as refused:
        services.panel_create(
            by=people["operator"],
            subject="议",
            question="可否开放？",
            members=[a, people["other"]],
            application=application,
        )
    assert refused.value.code == "not_expert"
    with pytest.raises(Forbidden):
        services.panel_create(
            by=people["reviewer"], subject="议", question="?", members=[a, b], application=application
        )
    panel = services.panel_create(
        by=people["operator"],
        subject="用电数据开放评估",
        question="户号是否可识别个人？",
        members=[a, b],
        application=application,
    )
    application.refresh_from_db()
    assert application.state == State.DELIBERATING
    assert Notification.objects.filter(user=a, subject__contains="专家议事").exists()
    with pytest.raises(DomainError):
        services.panel_close(by=people["operator"], panel=panel, summary="无意见")
    with pytest.raises(Forbidden):
        services.opinion_submit(by=user_with_role("expert"), panel=panel, vote="approve", text="同意")
    services.opinion_submit(by=a, panel=panel, vote="approve", text="户号已脱敏，可以开放")
    services.opinion_submit(by=b, panel=panel, vote="approve", text="同意，建议限定字段")
    services.panel_close(by=people["operator"], panel=panel, summary="同意有条件开放")
    panel = Panel.objects.get(pk=panel.pk)
    assert panel.result == "approve" and [o.vote for o in panel.opinions.order_by("id")] == ["approve", "approve"]
    application.refresh_from_db()
    assert application.state == State.EVALUATING and "同意" in Event.objects.filter(application=application).last().note
    with pytest.raises(DomainError):
        services.opinion_submit(by=a, panel=panel, vote="reject", text="改主意")


def test_agreement_must_be_the_text_the_applicant_read(apply, people):
    application = apply()
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    services.application_accept(by=people["reviewer"], application=application)
    services.application_evaluate(by=people["reviewer"], application=application)
    services.application_decide(by=people["reviewer"], application=application, approve=True, reason="同意")
    with pytest.raises(DomainError) as refused:
        services.agreement_accept(by=people["applicant"], application=application, sha256="0" * 64, ip=None)
    assert refused.value.code == "agreement_changed"
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_grants_expire_and_overdue_reports_warn_then_suspend(granted, people, settings):
    application, grant, _secret = granted
    due = grant.next_report_due
    assert services.grants_tick(due) == {"expired": 0, "warned": 0, "suspended": 0}
    assert services.grants_tick(due + dt.timedelta(days=1))["warned"] == 1
    after_grace = due + dt.timedelta(days=settings.GRANT_REPORT_GRACE_DAYS + 1)
    assert services.grants_tick(after_grace)["suspended"] == 1
    grant.refresh_from_db()
    assert grant.status == GrantStatus.SUSPENDED
    services.usage_report_submit(by=people["applicant"], grant=grant, built="用电模型", results="论文一篇")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE and grant.next_report_due > due
    assert services.grants_tick(grant.ends_on + dt.timedelta(days=1))["expired"] == 1
    grant.refresh_from_db()
    application.refresh_from_db()
    assert grant.status == GrantStatus.EXPIRED and application.state == State.EXPIRED
    with pytest.raises(DomainError) as refused:
        services.grant_renew(by=people["reviewer"], grant=grant, ends_on=dt.date(9999, 12, 31))
    assert refused.value.code == "invalid_period"
    services.grant_renew(by=people["reviewer"], grant=grant, ends_on=grant.ends_on + dt.timedelta(days=400))
    application.refresh_from_db()
    assert application.state == State.GRANTED


def test_attachments_are_checked_by_type_signature_and_size(apply, people):
    application = apply()
    ok = services.attachment_add(
        by=people["applicant"], application=application, name="立项.pdf", content=b"%PDF-1.7 ..."
    )
    assert ok.size == 12 and ok.content_type == "application/pdf"
    for name, content in (("x.exe", b"MZ"), ("fake.pdf", b"<html>"), ("big.png", b"\x89PNG" + b"0" * 6 * 1024 * 1024)):
        with pytest.raises(DomainError) as refused:
            services.attachment_add(by=people["applicant"], application=application, name=name, content=content)
        assert refused.value.code == "invalid_attachment"


def test_submission_mails_the_reviewers_after_commit(apply, people, django_capture_on_commit_callbacks):
    application = apply()
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(by=people["applicant"], application=application, commitment=True)
    assert any(people["reviewer"].email in m.to for m in mail.outbox)
