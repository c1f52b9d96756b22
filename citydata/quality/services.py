"""Every write of the quality app: assess a dataset (findings and score), inspection runs and their schedules,
rectification tasks from findings and from confirmed error reports, and the re-check that closes them.

Assessments are derived data, like the search index: they run as the system, often (after every change of a
dataset, nightly) and are not audited one by one; runs, schedules and every step of a task are."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import Department, Role, Stage, User
from citydata.accounts.notify import notify
from citydata.catalog.models import Dataset, DatasetStatus, Domain
from citydata.errors import Conflict, DomainError
from citydata.quality import checks, probes, scoring
from citydata.quality.models import (
    OPEN_TASK_STATUSES,
    Finding,
    FindingStatus,
    InspectionRun,
    InspectionSchedule,
    QualityScore,
    RectificationTask,
    RunCadence,
    RunStatus,
    Scope,
    ScoreKind,
    Severity,
    TaskSource,
    TaskStatus,
)
from citydata.security import audit
from citydata.workdays import calendar

logger = logging.getLogger("citydata.quality")

RECTIFY_WORKDAYS = 10  # working days a department has to fix an inspection finding
ERROR_REPORT_WORKDAYS = 5  # working days to correct data a user reported and the department confirmed
TASK_SEVERITIES = (Severity.HIGH, Severity.MEDIUM)  # low findings stay findings; they do not become tasks


# --- assessment -------------------------------------------------------------------------------------------------


@dataclass
class Assessment:
    dataset: Dataset
    score: int
    breakdown: dict[str, Any]
    open_findings: list[Finding]


def dataset_assess(*, dataset: Dataset, now: dt.datetime | None = None) -> Assessment:
    """Run every check on one dataset, bring its findings up to date and store today's score."""
    now = now or timezone.now()
    subject = checks.Subject.of(dataset, now=now)
    results = checks.run(subject)  # reads files and the probe history outside the transaction
    with transaction.atomic():
        existing = {f.check_code: f for f in Finding.objects.select_for_update().filter(dataset=dataset, status="open")}
        open_findings = []
        for result in results:
            finding = existing.pop(result.check.code, None)
            if result.passed:
                if finding is not None:
                    finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
                    finding.save(update_fields=["status", "resolved_at"])
                continue
            values = {
                "severity": result.severity,
                "message": result.message[:4000],
                "details": result.details,
                "last_seen_at": now,
                "family": result.check.family,
                "department_id": dataset.department_id,
            }
            if finding is None:
                finding = Finding.objects.create(
                    dataset=dataset, check_code=result.check.code, first_seen_at=now, **values
                )
            else:
                for key, value in values.items():
                    setattr(finding, key, value)
                finding.save(update_fields=list(values))
            open_findings.append(finding)
        # Findings of checks that no longer exist (a plug-in was removed) are resolved too.
        for finding in existing.values():
            finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
            finding.save(update_fields=["status", "resolved_at"])
        score, breakdown = scoring.dataset_score([scoring.Scored(f.family, f.severity) for f in open_findings])
        QualityScore.objects.update_or_create(
            kind=ScoreKind.DATASET,
            dataset=dataset,
            day=timezone.localdate(now),
            defaults={"score": score, "breakdown": breakdown, "computed_at": now},
        )
    return Assessment(dataset, score, breakdown, open_findings)


def _latest(field: str):
    return Subquery(
        QualityScore.objects.filter(kind=ScoreKind.DATASET, dataset=OuterRef("pk")).order_by("-day").values(field)[:1]
    )


def scores_snapshot(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Store today's department and city scores from the datasets' latest scores."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    rows = (
        Dataset.objects.filter(status=DatasetStatus.PUBLISHED)
        .annotate(q_score=_latest("score"), q_breakdown=_latest("breakdown"))
        .filter(q_score__isnull=False)
        .values_list("department_id", "q_score", "q_breakdown")
    )
    by_department: dict[int, list[tuple[int, dict]]] = {}
    everyone: list[tuple[int, dict]] = []
    for department_id, score, breakdown in rows:
        if isinstance(breakdown, str):  # a JSON subquery comes back as text on some backends
            import json

            breakdown = json.loads(breakdown)
        by_department.setdefault(department_id, []).append((score, breakdown))
        everyone.append((score, breakdown))
    with transaction.atomic():
        for department_id, items in by_department.items():
            score, breakdown = scoring.mean(items)
            QualityScore.objects.update_or_create(
                kind=ScoreKind.DEPARTMENT,
                department_id=department_id,
                day=day,
                defaults={"score": score, "breakdown": breakdown, "computed_at": now},
            )
        score, breakdown = scoring.mean(everyone)
        QualityScore.objects.update_or_create(
            kind=ScoreKind.CITY, day=day, defaults={"score": score, "breakdown": breakdown, "computed_at": now}
        )
    return {"departments": len(by_department), "datasets": len(everyone)}


def assess_all(*, probe: bool = True) -> dict[str, int]:
    """The nightly pass: probe every published resource, assess every published dataset, snapshot the scores."""
    count = 0
    for dataset in Dataset.objects.filter(status=DatasetStatus.PUBLISHED).select_related("department").iterator():
        try:
            if probe:
                probes.probe_all(dataset.resources.all())
            dataset_assess(dataset=dataset)
            count += 1
        except DomainError as exc:
            logger.warning("assessing %s failed: %s", dataset.slug, exc)
    scores_snapshot()
    return {"datasets": count}


# --- inspection runs --------------------------------------------------------------------------------------------


def _scope_datasets(run: InspectionRun) -> QuerySet[Dataset]:
    datasets = Dataset.objects.filter(status=DatasetStatus.PUBLISHED).select_related("department")
    if run.scope == Scope.DEPARTMENT:
        datasets = datasets.filter(department=run.department)
    elif run.scope == Scope.DOMAIN:
        datasets = datasets.filter(domains=run.domain)
    return datasets.order_by("id").distinct()


def _check_scope(scope: str, department: Department | None, domain: Domain | None) -> None:
    if scope not in Scope.values:
        raise DomainError(_("请选择巡查范围。"), details={"field": "scope"})
    if scope == Scope.DEPARTMENT and department is None:
        raise DomainError(_("按部门巡查时请选择部门。"), details={"field": "department"})
    if scope == Scope.DOMAIN and domain is None:
        raise DomainError(_("按领域巡查时请选择领域。"), details={"field": "domain"})


def run_start(
    *,
    by: User | None,
    scope: str = Scope.ALL,
    department: Department | None = None,
    domain: Domain | None = None,
    create_tasks: bool = True,
    schedule: InspectionSchedule | None = None,
    run_now: bool = False,
) -> InspectionRun:
    """Queue an inspection run, or (`run_now`: the CLI, the demo, tests) do it in this call, after the run row
    is committed, so a long run never holds one transaction open."""
    if by is not None:
        authz.authorize(by, "quality.inspect")
    _check_scope(scope, department, domain)
    with transaction.atomic():
        run = InspectionRun.objects.create(
            scope=scope,
            department=department if scope == Scope.DEPARTMENT else None,
            domain=domain if scope == Scope.DOMAIN else None,
            create_tasks=create_tasks,
            schedule=schedule,
            started_by=by,
        )
        audit.record(by, "quality.run_start", run, changes={"scope": run.scope_label, "create_tasks": create_tasks})
        if not run_now:
            from citydata.quality.tasks import execute_run

            run_id = run.pk
            transaction.on_commit(lambda: execute_run.enqueue(run_id))
    return run_execute(run_id=run.pk) if run_now else run


def run_execute(*, run_id: int) -> InspectionRun:
    """Inspect every dataset in the run's scope: probe links, assess, turn findings into tasks, write the report."""
    with transaction.atomic():
        run = InspectionRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.QUEUED:
            return run
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    errors: list[str] = []
    checked = 0
    created_tasks: list[RectificationTask] = []
    try:
        for dataset in _scope_datasets(run):
            try:
                probes.probe_all(dataset.resources.all())
                assessment = dataset_assess(dataset=dataset)
                with transaction.atomic():
                    run.findings.add(*assessment.open_findings)
                    if run.create_tasks:
                        created_tasks += _tasks_for(assessment.open_findings, run=run)
                checked += 1
            except DomainError as exc:  # e.g. a deadline in a year whose calendar nobody has entered
                errors.append(f"{dataset.slug}: {exc.message}")
        scores_snapshot()
    except Exception as exc:
        logger.exception("inspection run %s failed", run.pk)
        InspectionRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000], datasets_checked=checked
        )
        run.refresh_from_db()
        return run
    with transaction.atomic():
        run.refresh_from_db()
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.datasets_checked, run.tasks_created = checked, len(created_tasks)
        run.summary = _summary(run, created_tasks)
        run.error = "\n".join(str(e) for e in errors[:50])
        run.save()
        audit.record(
            None,
            "quality.run_finish",
            run,
            changes={"datasets": checked, "findings": run.summary["findings"], "tasks": len(created_tasks)},
        )
        _notify_departments(created_tasks)
    return run


def _summary(run: InspectionRun, created: list[RectificationTask]) -> dict[str, Any]:
    rows = run.findings.values_list("department_id", "severity", "family")
    by_department: dict[int, Counter] = {}
    families: Counter = Counter()
    for department_id, severity, family in rows:
        by_department.setdefault(department_id, Counter())[severity] += 1
        families[family] += 1
    tasks = Counter(t.department_id for t in created)
    return {
        "findings": sum(sum(c.values()) for c in by_department.values()),
        "families": dict(families),
        "departments": {
            str(k): {**{s: c.get(s, 0) for s in Severity.values}, "tasks": tasks.get(k, 0)}
            for k, c in by_department.items()
        },
    }


def _notify_departments(tasks: list[RectificationTask]) -> None:
    by_department: dict[int, list[RectificationTask]] = {}
    for task in tasks:
        by_department.setdefault(task.department_id, []).append(task)
    for _department_id, items in by_department.items():
        people = {u for t in items for u in t.assignees.all()}
        notify(
            list(people),
            _("数据质量巡查：%(n)s 项问题需要整改") % {"n": len(items)},
            _("最早的整改期限为 %(d)s。请逐项整改后点击“已整改”，平台会自动复核。")
            % {"d": timezone.localtime(min(t.deadline for t in items)).strftime("%Y-%m-%d")},
            url=f"/manage/quality/tasks/?department={items[0].department.code}",
        )


# --- schedules --------------------------------------------------------------------------------------------------


def _next_after(moment: dt.datetime, cadence: str) -> dt.datetime:
    days = {RunCadence.DAILY: 1, RunCadence.WEEKLY: 7, RunCadence.MONTHLY: 30}[RunCadence(cadence)]
    return moment + dt.timedelta(days=days)


@transaction.atomic
def schedule_save(
    *, by: User | None, data: dict[str, Any], schedule: InspectionSchedule | None = None
) -> InspectionSchedule:
    """Create or change a recurring inspection. `data`: name, scope, department, domain, cadence, create_tasks,
    enabled, first_run_at."""
    if by is not None:
        authz.authorize(by, "quality.inspect")
    name = str(data.get("name") or "").strip()
    if not name:
        raise DomainError(_("请填写计划名称。"), details={"field": "name"})
    scope = data.get("scope") or Scope.ALL
    department, domain = data.get("department"), data.get("domain")
    _check_scope(scope, department, domain)
    cadence = data.get("cadence") or RunCadence.WEEKLY
    if cadence not in RunCadence.values:
        raise DomainError(_("请选择巡查周期。"), details={"field": "cadence"})
    values = {
        "name": name[:60],
        "scope": scope,
        "department": department if scope == Scope.DEPARTMENT else None,
        "domain": domain if scope == Scope.DOMAIN else None,
        "cadence": cadence,
        "create_tasks": bool(data.get("create_tasks", True)),
        "enabled": bool(data.get("enabled", True)),
        "next_run_at": data.get("first_run_at") or timezone.now(),
    }
    if schedule is None:
        schedule = InspectionSchedule.objects.create(created_by=by, **values)
        audit.record(by, "quality.schedule_create", schedule, changes={"name": name, "cadence": cadence})
        return schedule
    before = audit.snapshot(schedule, ["name", "scope", "cadence", "enabled"])
    for key, value in values.items():
        setattr(schedule, key, value)
    schedule.save()
    audit.record(by, "quality.schedule_update", schedule, changes=audit.diff(before, audit.snapshot(schedule, before)))
    return schedule


@transaction.atomic
def schedule_delete(*, by: User | None, schedule: InspectionSchedule) -> None:
    if by is not None:
        authz.authorize(by, "quality.inspect")
    audit.record(by, "quality.schedule_delete", schedule, changes={"name": schedule.name})
    schedule.delete()


def schedules_due(*, now: dt.datetime | None = None) -> list[InspectionRun]:
    """Start a run for every enabled schedule whose time has come, and move it to its next time."""
    now = now or timezone.now()
    started = []
    for schedule_id in InspectionSchedule.objects.filter(enabled=True, next_run_at__lte=now).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            schedule = (
                InspectionSchedule.objects.select_for_update().filter(pk=schedule_id, next_run_at__lte=now).first()
            )
            if schedule is None:  # another worker took it
                continue
            next_at = schedule.next_run_at
            while next_at <= now:
                next_at = _next_after(next_at, schedule.cadence)
            schedule.next_run_at = next_at
            schedule.save(update_fields=["next_run_at"])
            started.append(
                run_start(
                    by=None,
                    scope=schedule.scope,
                    department=schedule.department,
                    domain=schedule.domain,
                    create_tasks=schedule.create_tasks,
                    schedule=schedule,
                )
            )
    return started


# --- rectification tasks ----------------------------------------------------------------------------------------


def responsible_staff(department: Department, stage: str) -> list[User]:
    """Who gets a task: the department's staff on duty for `stage` (专人专岗), else on publishing, else all its
    provider staff."""
    for wanted in (stage, Stage.PUBLISHING):
        people = list(
            User.objects.filter(duties__department=department, duties__stage=wanted, is_active=True).distinct()
        )
        if people:
            return people
    return list(
        User.objects.filter(
            role_assignments__role=Role.PROVIDER, role_assignments__department=department, is_active=True
        ).distinct()
    )


def _tasks_for(findings: list[Finding], *, run: InspectionRun | None) -> list[RectificationTask]:
    """A task for each finding serious enough that has none open yet."""
    wanted = [f for f in findings if f.severity in TASK_SEVERITIES]
    if not wanted:
        return []
    taken = set(
        RectificationTask.objects.filter(finding__in=wanted, status__in=OPEN_TASK_STATUSES).values_list(
            "finding_id", flat=True
        )
    )
    now = timezone.now()
    deadline = calendar.deadline(now, RECTIFY_WORKDAYS)
    created = []
    staff: dict[int, list[User]] = {}
    for finding in wanted:
        if finding.pk in taken:
            continue
        check = checks.get(finding.check_code)
        title = str(check.title) if check else finding.check_code
        task = RectificationTask.objects.create(
            dataset=finding.dataset,
            department_id=finding.department_id,
            finding=finding,
            check_code=finding.check_code,
            run=run,
            title=f"{finding.dataset.title}：{title}"[:200],
            description=finding.message,
            severity=finding.severity,
            deadline=deadline,
            created_at=now,
        )
        if finding.department_id not in staff:
            staff[finding.department_id] = responsible_staff(finding.dataset.department, Stage.PUBLISHING)
        task.assignees.set(staff[finding.department_id])
        audit.record(
            None, "quality.task_create", task, changes={"check": finding.check_code, "deadline": deadline.isoformat()}
        )
        created.append(task)
    return created


@transaction.atomic
def task_from_error_report(*, report: Any, by: User | None = None) -> RectificationTask | None:
    """A user's error report (纠错) the department confirmed becomes a task to correct the data."""
    dataset = getattr(report, "dataset", None)
    if dataset is None:
        return None
    ref = str(getattr(report, "pk", "") or getattr(report, "id", "") or "")
    existing = RectificationTask.objects.filter(source=TaskSource.ERROR_REPORT, source_ref=ref, dataset=dataset).first()
    if ref and existing is not None:
        return existing
    field = str(getattr(report, "field_title", "") or getattr(report, "field_name", "") or "")
    row = str(getattr(report, "row_ref", "") or "")
    where = "；".join(
        part
        for part in (_("字段：%(f)s") % {"f": field} if field else "", _("位置：%(r)s") % {"r": row} if row else "")
        if part
    )
    text = str(getattr(report, "problem", "") or "")
    correction = str(getattr(report, "correction", "") or "")
    if correction:
        text += "\n" + _("正确内容：%(c)s") % {"c": correction}
    link = _report_url(report)
    if link:
        text += "\n" + _("纠错详情：%(u)s") % {"u": link}
    now = timezone.now()
    deadline = calendar.deadline(now, ERROR_REPORT_WORKDAYS)
    task = RectificationTask.objects.create(
        dataset=dataset,
        department_id=dataset.department_id,
        source=TaskSource.ERROR_REPORT,
        source_ref=ref[:60],
        title=(_("用户纠错：%(t)s") % {"t": dataset.title})[:200],
        description=(f"[{where}] " if where else "") + text,
        severity=Severity.MEDIUM,
        deadline=deadline,
        created_at=now,
    )
    people = responsible_staff(dataset.department, Stage.FEEDBACK)
    task.assignees.set(people)
    audit.record(by, "quality.task_create", task, changes={"source": "error_report", "report": ref})
    notify(
        people,
        _("用户纠错已确认，请在 %(d)s 前更正数据") % {"d": timezone.localtime(deadline).strftime("%Y-%m-%d")},
        task.description[:500],
        url=f"/manage/quality/tasks/{task.pk}/",
    )
    return task


def _report_url(report: Any) -> str:
    try:
        from citydata.engagement.services.common import url_of

        return url_of(report)
    except Exception:  # a stand-in object, or the feedback app absent: the task still says what to fix
        return ""


def _resolve_report(task: RectificationTask) -> None:
    """A closed task from an error report marks the report fixed, and its reporter is told."""
    if task.source != TaskSource.ERROR_REPORT or not task.source_ref.isdigit():
        return
    from citydata.engagement.models import ErrorReport, ErrorReportStatus
    from citydata.engagement.services import error_report_resolve

    report = ErrorReport.objects.filter(pk=int(task.source_ref), status=ErrorReportStatus.CONFIRMED).first()
    if report is not None:
        error_report_resolve(by=None, report=report, note=task.fix_note or task.recheck_message)


def task_close_for_report(*, report: Any, by: User | None) -> RectificationTask | None:
    """The department marked the error report fixed on the report itself: its open task closes with a note."""
    task = (
        RectificationTask.objects.select_for_update()
        .filter(source=TaskSource.ERROR_REPORT, source_ref=str(report.pk))
        .exclude(status=TaskStatus.CLOSED)
        .first()
    )
    if task is None:
        return None
    task.status, task.closed_at = TaskStatus.CLOSED, timezone.now()
    task.recheck_message = _("部门已在纠错处理中标记已修正。")
    task.save(update_fields=["status", "closed_at", "recheck_message"])
    audit.record(by, "quality.task_close", task, note="error report resolved")
    return task


def _operators() -> list[User]:
    return list(User.objects.filter(role_assignments__role=Role.OPERATOR, is_active=True).distinct())


def task_report_fixed(*, by: User, task: RectificationTask, note: str = "") -> RectificationTask:
    """The department says it fixed the problem. A task from a check is re-checked at once and closed only if the
    check passes; a task from an error report waits for an operator to accept the fix."""
    authz.authorize(by, "quality.fix_task", task)
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError(_("整改说明不超过 2000 字。"), details={"field": "note"})
    with transaction.atomic():
        task = RectificationTask.objects.select_for_update().select_related("dataset", "department").get(pk=task.pk)
        if task.status not in (TaskStatus.OPEN, TaskStatus.REJECTED):
            raise Conflict(
                _("这项任务当前不能报告整改（%(s)s）。") % {"s": task.get_status_display()}, code="task_state"
            )
        task.fixed_at, task.fix_note = timezone.now(), note
        task.save(update_fields=["fixed_at", "fix_note"])
        audit.record(by, "quality.task_fixed", task, note=note)
        if not task.check_code:
            task.status = TaskStatus.REVIEW
            task.save(update_fields=["status"])
            notify(
                _operators(),
                _("整改待确认：%(t)s") % {"t": task.title},
                note,
                url=f"/manage/quality/tasks/{task.pk}/",
            )
            return task
    return _recheck(task, by=by)


def _recheck(task: RectificationTask, *, by: User | None) -> RectificationTask:
    if task.check_code == "service.links":
        probes.probe_all(task.dataset.resources.all())
    assessment = dataset_assess(dataset=task.dataset)
    still = next((f for f in assessment.open_findings if f.check_code == task.check_code), None)
    with transaction.atomic():
        task = RectificationTask.objects.select_for_update().get(pk=task.pk)
        task.rechecks += 1
        if still is None:
            task.status, task.closed_at = TaskStatus.CLOSED, timezone.now()
            task.recheck_message = _("复核通过：检查项已不再发现问题。")
        else:
            task.status = TaskStatus.REJECTED
            task.recheck_message = _("复核未通过：%(m)s") % {"m": still.message}
        task.save(update_fields=["rechecks", "status", "closed_at", "recheck_message"])
        audit.record(by, "quality.task_recheck", task, changes={"passed": still is None, "status": task.status})
    return task


@transaction.atomic
def task_close(*, by: User, task: RectificationTask, note: str = "") -> RectificationTask:
    """An operator accepts the fix of a task no check can verify (from an error report)."""
    authz.authorize(by, "quality.close_task", task)
    task = RectificationTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.REVIEW:
        raise Conflict(_("只有待确认的任务可以关闭。"), code="task_state")
    task.status, task.closed_at = TaskStatus.CLOSED, timezone.now()
    task.recheck_message = note.strip()[:2000] or _("运营方确认已整改。")
    task.save(update_fields=["status", "closed_at", "recheck_message"])
    audit.record(by, "quality.task_close", task, note=note)
    _resolve_report(task)
    notify(
        list(task.assignees.all()),
        _("整改已确认关闭：%(t)s") % {"t": task.title},
        url=f"/manage/quality/tasks/{task.pk}/",
    )
    return task


@transaction.atomic
def task_return(*, by: User, task: RectificationTask, note: str) -> RectificationTask:
    """An operator sends a fix reported on an error-report task back to the department."""
    authz.authorize(by, "quality.close_task", task)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("退回时请说明原因。"), details={"field": "note"})
    task = RectificationTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.REVIEW:
        raise Conflict(_("只有待确认的任务可以退回。"), code="task_state")
    task.status, task.recheck_message = TaskStatus.REJECTED, note[:2000]
    task.save(update_fields=["status", "recheck_message"])
    audit.record(by, "quality.task_return", task, note=note)
    notify(
        list(task.assignees.all()),
        _("整改被退回：%(t)s") % {"t": task.title},
        note,
        url=f"/manage/quality/tasks/{task.pk}/",
    )
    return task
