"""Reads of the quality app shared by pages and the API: a dataset's quality (score, breakdown, findings, what to
fix first, trend), the operators' and departments' dashboards, runs, tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from citydata.accounts.models import Department
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.paging import Page, paginate_desc
from citydata.quality import checks, scoring
from citydata.quality.checks.formats import dataset_stars
from citydata.quality.checks.timeliness import is_late
from citydata.quality.models import (
    OPEN_TASK_STATUSES,
    SEVERITY_ORDER,
    Family,
    Finding,
    FindingStatus,
    InspectionRun,
    InspectionSchedule,
    QualityScore,
    RectificationTask,
    ScoreKind,
    Severity,
    TaskStatus,
)

TREND_POINTS = 30


def family_label(code: str) -> str:
    try:
        return str(Family(code).label)
    except ValueError:
        return code


def _breakdown(breakdown: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**item, "label": family_label(item["family"])} for item in breakdown.get("families", [])]


def _trend(rows: QuerySet[QualityScore]) -> list[dict[str, Any]]:
    points = list(rows.order_by("-day").values("day", "score")[:TREND_POINTS])
    return [{"day": p["day"].isoformat(), "score": p["score"]} for p in reversed(points)]


def grade(score: int | None) -> str:
    """A word for the badge: 优 ≥ 90, 良 ≥ 75, 中 ≥ 60, 差 below."""
    if score is None:
        return ""
    return "good" if score >= 90 else "fair" if score >= 75 else "poor" if score >= 60 else "bad"


def finding_json(finding: Finding, gain: float | None = None) -> dict[str, Any]:
    check = checks.get(finding.check_code)
    return {
        "id": finding.pk,
        "check": finding.check_code,
        "family": finding.family,
        "family_label": family_label(finding.family),
        "severity": finding.severity,
        "severity_label": str(Severity(finding.severity).label),
        "title": str(check.title) if check else finding.check_code,
        "message": finding.message,
        "explanation": str(check.explanation) if check else "",
        "fix": str(check.fix) if check else "",
        "first_seen_at": finding.first_seen_at,
        "last_seen_at": finding.last_seen_at,
        "gain": gain,
    }


def dataset_quality(dataset: Dataset) -> dict[str, Any]:
    """Everything the quality page and `/api/v1/datasets/{slug}/quality` show, from one place."""
    scores = QualityScore.objects.filter(kind=ScoreKind.DATASET, dataset=dataset)
    current = scores.order_by("-day").first()
    findings = list(Finding.objects.filter(dataset=dataset, status=FindingStatus.OPEN))
    scored = [scoring.Scored(f.family, f.severity) for f in findings]
    gains = {f.pk: scoring.gain(s, scored) for f, s in zip(findings, scored, strict=True)}
    ordered = sorted(findings, key=lambda f: (-gains[f.pk], SEVERITY_ORDER.get(f.severity, 9), f.check_code))
    return {
        "dataset": dataset.slug,
        "title": dataset.title,
        "assessed": current is not None,
        "score": current.score if current else None,
        "grade": grade(current.score if current else None),
        "computed_at": current.computed_at if current else None,
        "stars": dataset_stars(list(dataset.resources.all())),
        "breakdown": _breakdown(current.breakdown) if current else [],
        "findings": [finding_json(f, gains[f.pk]) for f in ordered],
        "trend": _trend(scores),
    }


def badge(dataset: Dataset) -> dict[str, Any]:
    """The score and grade for the public badge (one query)."""
    row = (
        QualityScore.objects.filter(kind=ScoreKind.DATASET, dataset=dataset)
        .order_by("-day")
        .values("score", "computed_at")
        .first()
    )
    return {"score": row["score"] if row else None, "grade": grade(row["score"] if row else None), "slug": dataset.slug}


# --- dashboards -------------------------------------------------------------------------------------------------


@dataclass
class DepartmentRow:
    department: Department
    score: int | None = None
    open_by_severity: dict[str, int] = field(default_factory=dict)
    open_tasks: int = 0
    overdue_tasks: int = 0
    periodic: int = 0  # datasets with a periodic update frequency
    on_time: int = 0

    @property
    def open_findings(self) -> int:
        return sum(self.open_by_severity.values())

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.periodic * 100, 1) if self.periodic else None


def _open_findings() -> QuerySet[Finding]:
    return Finding.objects.filter(status=FindingStatus.OPEN, dataset__status=DatasetStatus.PUBLISHED)


def on_time(department_id: int | None = None, now: dt.datetime | None = None) -> dict[int, tuple[int, int]]:
    """{department id: (datasets with a periodic frequency, of them updated on time)}."""
    now = now or timezone.now()
    rows = Dataset.objects.filter(status=DatasetStatus.PUBLISHED)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    result: dict[int, list[int]] = {}
    for dataset in rows.only("department_id", "update_frequency", "last_data_update", "published_at"):
        late = is_late(dataset, now)
        if late is None:
            continue
        counts = result.setdefault(dataset.department_id, [0, 0])
        counts[0] += 1
        counts[1] += 0 if late else 1
    return {k: (v[0], v[1]) for k, v in result.items()}


def department_rows(department: Department | None = None) -> list[DepartmentRow]:
    """One row per department with published datasets (or just `department`), in a fixed number of queries."""
    departments = Department.objects.filter(datasets__status=DatasetStatus.PUBLISHED).distinct().order_by("code")
    if department is not None:
        departments = departments.filter(pk=department.pk)
    rows = {d.pk: DepartmentRow(d) for d in departments}
    findings = _open_findings()
    tasks = RectificationTask.objects.filter(status__in=OPEN_TASK_STATUSES)
    if department is not None:
        findings, tasks = findings.filter(department=department), tasks.filter(department=department)
    for department_id, severity, n in findings.values_list("department_id", "severity").annotate(n=Count("id")):
        if department_id in rows:
            rows[department_id].open_by_severity[severity] = n
    now = timezone.now()
    for department_id, n, late in tasks.values_list("department_id").annotate(
        n=Count("id"), late=Count("id", filter=Q(deadline__lt=now))
    ):
        if department_id in rows:
            rows[department_id].open_tasks, rows[department_id].overdue_tasks = n, late
    for department_id, (periodic, timely) in on_time(department.pk if department else None, now).items():
        if department_id in rows:
            rows[department_id].periodic, rows[department_id].on_time = periodic, timely
    latest: dict[int, int] = {}
    for department_id, score in (
        QualityScore.objects.filter(kind=ScoreKind.DEPARTMENT, department_id__in=list(rows))
        .order_by("department_id", "-day")
        .values_list("department_id", "score")
    ):
        latest.setdefault(department_id, score)
    for department_id, score in latest.items():
        rows[department_id].score = score
    return list(rows.values())


def city_overview() -> dict[str, Any]:
    city = QualityScore.objects.filter(kind=ScoreKind.CITY)
    current = city.order_by("-day").first()
    rows = department_rows()
    by_severity = {s: sum(r.open_by_severity.get(s, 0) for r in rows) for s in Severity.values}
    periodic = sum(r.periodic for r in rows)
    by_family = dict(_open_findings().values_list("family").annotate(n=Count("id")).order_by())
    return {
        "score": current.score if current else None,
        "breakdown": _breakdown(current.breakdown) if current else [],
        "trend": _trend(city),
        "departments": sorted(rows, key=lambda r: (r.score if r.score is not None else 101, r.department.code)),
        "open_by_severity": by_severity,
        "open_by_family": [
            {"family": f, "label": family_label(f), "count": by_family.get(f, 0)} for f in Family.values
        ],
        "open_tasks": sum(r.open_tasks for r in rows),
        "overdue_tasks": sum(r.overdue_tasks for r in rows),
        "on_time_rate": round(sum(r.on_time for r in rows) / periodic * 100, 1) if periodic else None,
        "runs": list(InspectionRun.objects.select_related("department", "domain").order_by("-id")[:5]),
    }


def department_overview(department: Department) -> dict[str, Any]:
    scores = QualityScore.objects.filter(kind=ScoreKind.DEPARTMENT, department=department)
    current = scores.order_by("-day").first()
    rows = department_rows(department)
    row = rows[0] if rows else DepartmentRow(department)
    worst = (
        Dataset.objects.filter(department=department, status=DatasetStatus.PUBLISHED)
        .annotate(open_findings=Count("quality_findings", filter=Q(quality_findings__status=FindingStatus.OPEN)))
        .filter(open_findings__gt=0)
        .order_by("-open_findings", "id")[:20]
    )
    return {
        "department": department,
        "row": row,
        "score": current.score if current else None,
        "breakdown": _breakdown(current.breakdown) if current else [],
        "trend": _trend(scores),
        "worst": list(worst),
    }


# --- lists ------------------------------------------------------------------------------------------------------


@dataclass
class TaskFilter:
    """Filters of the task list (page and API)."""

    status: str = ""  # "", "open" (every open state), or a TaskStatus value
    department: str = ""
    overdue: bool = False

    @classmethod
    def from_params(cls, params) -> TaskFilter:
        status = str(params.get("status") or "")
        return cls(
            status=status if status in ("open", *TaskStatus.values) else "",
            department=str(params.get("department") or "").upper()[:32],
            overdue=str(params.get("overdue") or "") in ("1", "true", "on"),
        )

    def as_query(self) -> dict[str, str]:
        out = {"status": self.status, "department": self.department}
        if self.overdue:
            out["overdue"] = "1"
        return {k: v for k, v in out.items() if v}


def tasks_visible_to(user) -> QuerySet[RectificationTask]:
    """Operators see every task; provider staff their departments' tasks."""
    from citydata.accounts import authz

    tasks = RectificationTask.objects.select_related("dataset", "department")
    if authz.has_role(user, authz.OPERATOR):
        return tasks
    return tasks.filter(department_id__in=authz.department_ids(user, authz.PROVIDER))


def task_page(user, flt: TaskFilter, *, cursor: str | None, limit: Any) -> Page:
    tasks = tasks_visible_to(user)
    if flt.status == "open":
        tasks = tasks.filter(status__in=OPEN_TASK_STATUSES)
    elif flt.status:
        tasks = tasks.filter(status=flt.status)
    if flt.department:
        tasks = tasks.filter(department__code=flt.department)
    if flt.overdue:
        tasks = tasks.filter(status__in=OPEN_TASK_STATUSES, deadline__lt=timezone.now())
    return paginate_desc(tasks, key="id", cursor=cursor, limit=limit)


def task_json(task: RectificationTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "dataset": task.dataset.slug,
        "department": task.department.code,
        "title": task.title,
        "description": task.description,
        "check": task.check_code,
        "source": task.source,
        "severity": task.severity,
        "status": task.status,
        "status_label": str(task.get_status_display()),
        "deadline": task.deadline,
        "overdue": task.overdue,
        "created_at": task.created_at,
        "fixed_at": task.fixed_at,
        "closed_at": task.closed_at,
        "recheck_message": task.recheck_message,
    }


def run_page(*, cursor: str | None, limit: Any) -> Page:
    return paginate_desc(
        InspectionRun.objects.select_related("department", "domain", "started_by"), key="id", cursor=cursor, limit=limit
    )


def schedule_page(*, cursor: str | None, limit: Any) -> Page:
    return paginate_desc(
        InspectionSchedule.objects.select_related("department", "domain"), key="id", cursor=cursor, limit=limit
    )


def run_report(run: InspectionRun) -> list[dict[str, Any]]:
    """The run's findings by department: counts by severity and tasks created, worst first."""
    summary = run.summary.get("departments", {})
    names = {str(d.pk): d for d in Department.objects.filter(pk__in=[int(k) for k in summary])}
    rows = [
        {"department": names.get(k), **v, "total": sum(v.get(s, 0) for s in Severity.values)}
        for k, v in summary.items()
        if names.get(k)
    ]
    return sorted(rows, key=lambda r: (-r.get("high", 0), -r["total"], r["department"].code))


def run_findings(run: InspectionRun, *, department: str, cursor: str | None, limit: Any) -> Page:
    findings = run.findings.select_related("dataset", "department")
    if department:
        findings = findings.filter(department__code=department.upper()[:32])
    return paginate_desc(findings, key="id", cursor=cursor, limit=limit)


def run_json(run: InspectionRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "scope": run.scope,
        "scope_label": run.scope_label,
        "status": run.status,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "datasets_checked": run.datasets_checked,
        "findings": int(run.summary.get("findings", 0)),
        "tasks_created": run.tasks_created,
        "by_department": [
            {
                "department": r["department"].code,
                "name": r["department"].name,
                **{s: r.get(s, 0) for s in Severity.values},
                "tasks": r.get("tasks", 0),
            }
            for r in run_report(run)
        ],
    }
