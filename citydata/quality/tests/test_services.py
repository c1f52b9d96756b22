"""Runs, scores, rectification tasks and their re-check, error reports, schedules, the reassessment hook."""

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.utils import timezone

from citydata.accounts import services as account_services
from citydata.accounts.models import Notification, Stage
from citydata.catalog import services as catalog_services
from citydata.catalog.models import Dataset, Domain
from citydata.errors import Conflict, Forbidden
from citydata.quality import services
from citydata.quality.models import (
    Finding,
    InspectionRun,
    QualityScore,
    RectificationTask,
    RunStatus,
    TaskStatus,
)
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(user_with_role, department):
    """A provider of JTJ on duty for publishing."""
    user = user_with_role("provider", "JTJ")
    account_services.duty_assign(by=None, department=department("JTJ"), stage=Stage.PUBLISHING, user=user)
    return user


def _stale(dataset, days=12):
    Dataset.objects.filter(pk=dataset.pk).update(
        update_frequency="daily", last_data_update=timezone.now() - dt.timedelta(days=days)
    )


def test_operator_runs_an_inspection_that_creates_tasks_for_the_responsible_staff(make_dataset, user_with_role, staff):
    operator = user_with_role("operator")
    good = make_dataset("绵阳市公交线路信息")
    bad = make_dataset("绵阳市公交站点信息", contact_name="", csv="线路,站点数,开通日期\n1路,3,2015-01-01\n")
    _stale(bad)
    run = services.run_start(by=operator, run_now=True)
    assert run.status == RunStatus.DONE and run.datasets_checked == 2
    codes = set(run.findings.values_list("check_code", flat=True))
    assert {"timeliness.stale", "content.capacity", "metadata.contact"} <= codes
    assert not run.findings.filter(dataset=good).exists()
    tasks = RectificationTask.objects.filter(run=run)
    # medium and high findings become tasks; the missing contact (low) stays a finding
    assert set(tasks.values_list("check_code", flat=True)) == {"timeliness.stale", "content.capacity"}
    task = tasks.get(check_code="timeliness.stale")
    assert list(task.assignees.all()) == [staff] and task.department.code == "JTJ"
    assert task.deadline > timezone.now() + dt.timedelta(days=10)  # ten working days
    report = run.summary["departments"][str(bad.department_id)]
    assert report["high"] == 1 and report["tasks"] == 2
    assert Notification.objects.filter(user=staff, subject__contains="2 项问题").exists()
    assert AuditEvent.objects.filter(action="quality.run_start").exists()
    assert AuditEvent.objects.filter(action="quality.run_finish").exists()
    # a second run does not duplicate the open tasks
    again = services.run_start(by=operator, run_now=True)
    assert again.tasks_created == 0 and RectificationTask.objects.count() == 2


def test_only_operators_start_runs(user_with_role):
    with pytest.raises(Forbidden):
        services.run_start(by=user_with_role("provider", "JTJ"))
    with pytest.raises(Forbidden):
        services.run_start(by=user_with_role("registered"))


def test_a_run_limited_to_a_department_or_a_domain(make_dataset, department):
    ours = make_dataset("绵阳市公交线路信息")
    theirs = make_dataset("绵阳市医院名录", dept="WJW", csv="线路,站点数,开通日期\n1路,3,2015-01-01\n")
    run = services.run_start(by=None, scope="department", department=department("WJW"), run_now=True)
    assert run.datasets_checked == 1 and set(run.findings.values_list("dataset", flat=True)) == {theirs.pk}
    health = Domain.objects.get_or_create(code="health", defaults={"name": "卫生健康"})[0]
    ours.domains.add(health)
    run = services.run_start(by=None, scope="domain", domain=health, run_now=True)
    assert run.datasets_checked == 1
    with pytest.raises(Exception, match="选择部门"):
        services.run_start(by=None, scope="department")


def test_fixing_a_task_rechecks_and_closes_only_when_the_check_passes(make_dataset, staff, user_with_role):
    dataset = make_dataset("绵阳市公交站点信息")
    _stale(dataset)
    services.run_start(by=None, run_now=True)
    task = RectificationTask.objects.get(check_code="timeliness.stale")
    # Not fixed yet: the re-check fails and the task stays with the department.
    task = services.task_report_fixed(by=staff, task=task, note="已更新")
    assert task.status == TaskStatus.REJECTED and "复核未通过" in task.recheck_message and task.rechecks == 1
    # Fixed: a new version is published, the re-check passes, the task closes.
    from citydata.datastore import services as data_services

    version = data_services.version_upload(
        by=staff,
        dataset=dataset,
        stream=io.BytesIO(
            "线路,站点数,开通日期\n".encode() + b"".join(f"{n}r,{n},2015-01-01\n".encode() for n in range(20))
        ),
        filename="new.csv",
        run_now=True,
    )
    data_services.version_publish(by=staff, version=version)
    task = services.task_report_fixed(by=staff, task=task, note="已上传最新数据")
    assert task.status == TaskStatus.CLOSED and task.closed_at and task.rechecks == 2
    assert Finding.objects.get(pk=task.finding_id).status == "resolved"
    assert AuditEvent.objects.filter(action="quality.task_recheck").count() == 2
    with pytest.raises(Conflict):
        services.task_report_fixed(by=staff, task=task)


def test_other_departments_cannot_report_a_task_fixed(make_dataset, user_with_role, staff):
    dataset = make_dataset("绵阳市公交站点信息")
    _stale(dataset)
    services.run_start(by=None, run_now=True)
    task = RectificationTask.objects.get()
    with pytest.raises(Forbidden):
        services.task_report_fixed(by=user_with_role("provider", "WJW"), task=task)
    with pytest.raises(Forbidden):
        services.task_report_fixed(by=user_with_role("registered"), task=task)


def test_a_dead_link_task_closes_after_the_link_is_replaced(make_dataset, staff, http_server, closed_port):
    dataset = make_dataset(resources=[catalog_services.ResourceSpec("线路表", "CSV", url=closed_port)])
    services.run_start(by=None, run_now=True)
    task = RectificationTask.objects.get(check_code="service.links")
    catalog_services.resource_add(
        by=staff,
        dataset=dataset,
        spec=catalog_services.ResourceSpec("线路表（新）", "CSV", url=f"{http_server}/ok.csv"),
    )
    catalog_services.resource_delete(by=staff, resource=dataset.resources.get(url=closed_port))
    assert services.task_report_fixed(by=staff, task=task).status == TaskStatus.CLOSED


def test_a_confirmed_error_report_becomes_a_task_for_the_feedback_duty(make_dataset, user_with_role, department):
    from citydata.engagement.signals import error_report_confirmed

    dataset = make_dataset()
    feedback = user_with_role("provider", "JTJ")
    account_services.duty_assign(by=None, department=department("JTJ"), stage=Stage.FEEDBACK, user=feedback)
    report = SimpleNamespace(pk=42, dataset=dataset, field_title="站点数", row_ref="3", problem="3路的站点数应为 25")
    error_report_confirmed.send(sender=None, report=report, by=feedback)
    task = RectificationTask.objects.get(source="error_report")
    assert task.source_ref == "42" and "3路的站点数应为 25" in task.description and "站点数" in task.description
    assert list(task.assignees.all()) == [feedback] and task.deadline > timezone.now()
    assert Notification.objects.filter(user=feedback, url=f"/manage/quality/tasks/{task.pk}/").exists()
    error_report_confirmed.send(sender=None, report=report, by=feedback)  # sent twice: still one task
    assert RectificationTask.objects.filter(source="error_report").count() == 1
    # No check can verify it: the department's fix waits for an operator.
    task = services.task_report_fixed(by=feedback, task=task, note="已更正")
    assert task.status == TaskStatus.REVIEW
    with pytest.raises(Forbidden):
        services.task_close(by=feedback, task=task)
    task = services.task_close(by=user_with_role("operator"), task=task, note="核实无误")
    assert task.status == TaskStatus.CLOSED


def test_scores_for_datasets_departments_and_the_city(make_dataset):
    good = make_dataset("绵阳市公交线路信息")
    bad = make_dataset("绵阳市公交站点信息", contact_name="", csv="线路,站点数,开通日期\n1路,3,2015-01-01\n")
    services.scores_snapshot()
    assert QualityScore.objects.get(kind="dataset", dataset=good).score == 100
    score = QualityScore.objects.get(kind="dataset", dataset=bad)
    # content loses 30 (capacity, medium) of weight 25; metadata loses 10 (contact, low) of weight 20
    assert score.score == round(100 - 25 * 0.3 - 20 * 0.1)
    families = {f["family"]: f for f in score.breakdown["families"]}
    assert families["content"]["score"] == 70 and families["metadata"]["findings"] == 1
    department = QualityScore.objects.get(kind="department", department=good.department)
    assert department.score == round((100 + score.score) / 2)
    assert QualityScore.objects.get(kind="city").breakdown["datasets"] == 2


def test_schedules_start_runs_when_due(user_with_role, make_dataset):
    operator = user_with_role("operator")
    make_dataset()
    schedule = services.schedule_save(
        by=operator, data={"name": "每周全面巡查", "scope": "all", "cadence": "weekly", "first_run_at": timezone.now()}
    )
    with pytest.raises(Forbidden):
        services.schedule_save(by=user_with_role("provider", "JTJ"), data={"name": "x"})
    started = services.schedules_due()
    assert len(started) == 1 and started[0].schedule == schedule and started[0].status == RunStatus.QUEUED
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now() + dt.timedelta(days=6)
    assert services.schedules_due() == []  # not due again until next week


@pytest.mark.django_db(transaction=True)
def test_a_new_data_version_is_reassessed_after_commit(department):
    """The hook: publishing a version commits, then the dataset's findings and score are recomputed."""
    from citydata.datastore import services as data_services
    from citydata.quality.tests.conftest import GOOD, transport

    dataset = catalog_services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={"title": "绵阳市公交线路信息", **GOOD},
        domains=[transport()],
        fields=[catalog_services.FieldSpec("线路", "线路", description="线路名称")],
        resources=[catalog_services.ResourceSpec("线路表", "CSV")],
    )
    catalog_services.dataset_publish(by=None, dataset=dataset)
    assert not Finding.objects.filter(dataset=dataset, check_code="content.capacity", status="open").exists()
    version = data_services.version_upload(
        by=None, dataset=dataset, stream=io.BytesIO("线路\n1路\n".encode()), filename="a.csv", run_now=True
    )
    data_services.version_publish(by=None, version=version)
    assert Finding.objects.filter(dataset=dataset, check_code="content.capacity", status="open").exists()
    assert QualityScore.objects.filter(kind="dataset", dataset=dataset).exists()
    assert InspectionRun.objects.count() == 0


def test_error_report_and_its_task_close_together(make_dataset, make_user, user_with_role, department):
    """Through the real feedback app: the task says what the user reported and links to it; closing either
    side closes the other, and the reporter hears the report was fixed."""
    from citydata.engagement import services as feedback
    from citydata.engagement.models import ErrorReport

    dataset = make_dataset()
    staff = user_with_role("provider", "JTJ")
    account_services.duty_assign(by=None, department=department("JTJ"), stage=Stage.FEEDBACK, user=staff)
    citizen = make_user()
    first = feedback.error_report_submit(
        by=citizen, dataset=dataset, problem="站点数为负数", field_name="站点数", row_ref="第 3 行", correction="25"
    )
    feedback.error_report_answer(by=staff, report=first, confirmed=True, answer="属实")
    task = RectificationTask.objects.get(source="error_report", source_ref=str(first.pk))
    assert "站点数为负数" in task.description and "第 3 行" in task.description and "25" in task.description
    assert f"/{first.pk}/" in task.description  # the link to the report
    services.task_report_fixed(by=staff, task=task, note="已改为 25")
    services.task_close(by=user_with_role("operator"), task=task)
    assert ErrorReport.objects.get(pk=first.pk).status == "resolved"
    assert Notification.objects.filter(user=citizen, subject__contains="已修正").exists()

    second = feedback.error_report_submit(by=citizen, dataset=dataset, problem="开通日期写错")
    feedback.error_report_answer(by=staff, report=second, confirmed=True, answer="属实")
    feedback.error_report_resolve(by=staff, report=second, note="已更正")
    task = RectificationTask.objects.get(source="error_report", source_ref=str(second.pk))
    assert task.status == TaskStatus.CLOSED
