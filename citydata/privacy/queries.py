"""Reads of personal-data protection shared by the pages and the API: a version's gate, the dashboard, tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from citydata.accounts import authz
from citydata.catalog.models import Dataset
from citydata.datastore.models import DataVersion
from citydata.privacy import masking, services
from citydata.privacy.models import PrivacyTask, ScanRun, TaskStatus

TREND_DAYS = 30


def version_for_staff(user, slug: str, number: int) -> DataVersion:
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug[:100])
    authz.authorize(user, "catalog.view_drafts", dataset.department)
    return get_object_or_404(DataVersion.objects.select_related("dataset__department"), dataset=dataset, number=number)


def _step_out(step: dict) -> dict:
    strategy = masking.STRATEGIES.get(step["strategy"])
    return {
        "column": step["column"],
        "strategy": step["strategy"],
        "label": str(strategy.label) if strategy else step["strategy"],
        "params": step.get("params", {}),
        "source": step.get("source", ""),
    }


def version_gate(version: DataVersion) -> dict[str, Any]:
    """Everything the gate page and `GET …/privacy` show: findings (masked), the plan applied, the suggested plan,
    k and l with the smallest classes and the proposed generalisation, the override, and whether it may go out."""
    privacy = services.version_privacy(version)
    gate = services.gate_for(version, privacy)
    return {
        "version": version.number,
        "gated": gate.gated,
        "blocked": gate.blocked,
        "overridden": privacy.overridden,
        "override_reason": privacy.override_reason,
        "override_by": str(privacy.override_by) if privacy.override_by else "",
        "override_at": privacy.override_at,
        "scanned_at": privacy.scanned_at,
        "rows": privacy.report.get("rows", version.row_count),
        "blocking": privacy.blocking,
        "warnings": privacy.warnings,
        "plan": [_step_out(s) for s in privacy.plan],
        "suggested": [_step_out(s) for s in privacy.suggested],
        "quasi_identifiers": privacy.quasi_identifiers,
        "sensitive_column": privacy.sensitive_column,
        "k": privacy.k,
        "l": privacy.l_diversity,
        "min_k": settings.PRIVACY_MIN_K,
        "min_l": settings.PRIVACY_MIN_L,
        "risk_blocked": gate.risk_blocked,
        "smallest_classes": privacy.smallest_classes,
        "proposal": {**privacy.proposal, "steps": [_step_out(s) for s in privacy.proposal.get("steps", [])]}
        if privacy.proposal
        else {},
        "columns": [{"name": c["name"], "type": c.get("type", "string")} for c in version.columns],
    }


def tasks_for(user, *, status: str = TaskStatus.OPEN):
    """Tasks the user deals with: every department's for operators and auditors, else their departments'."""
    tasks = PrivacyTask.objects.select_related("dataset", "department", "version").filter(status=status)
    if authz.can(user, "privacy.dashboard"):
        return tasks.order_by("deadline")
    return tasks.filter(department_id__in=authz.department_ids(user)).order_by("deadline")


def dashboard(now: dt.datetime | None = None) -> dict[str, Any]:
    """The operator's privacy dashboard: open and overdue tasks by department, the latest scans, and per day over
    the last 30 days the findings of the scans and the tasks opened and resolved (the trend)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=TREND_DAYS)
    open_tasks = PrivacyTask.objects.filter(status=TaskStatus.OPEN)
    by_department = list(
        open_tasks.values("department__code", "department__name")
        .annotate(open_count=Count("id"), overdue_count=Count("id", filter=Q(deadline__lt=now)))
        .order_by("-open_count", "department__code")
    )
    runs = list(ScanRun.objects.filter(started_at__gte=since).order_by("started_at"))
    days: dict[dt.date, dict[str, int]] = {}
    for i in range(TREND_DAYS + 1):
        day = timezone.localtime(since).date() + dt.timedelta(days=i)
        days[day] = {"findings": 0, "with_findings": 0, "opened": 0, "resolved": 0}
    for run in runs:
        day = timezone.localtime(run.started_at).date()
        if day in days:
            days[day]["findings"] += run.findings
            days[day]["with_findings"] += run.with_findings
    for created, resolved in PrivacyTask.objects.filter(
        Q(created_at__gte=since) | Q(resolved_at__gte=since)
    ).values_list("created_at", "resolved_at"):
        for moment, key in ((created, "opened"), (resolved, "resolved")):
            if moment and moment >= since:
                day = timezone.localtime(moment).date()
                if day in days:
                    days[day][key] += 1
    trend = [{"day": day.isoformat(), **values} for day, values in days.items()]
    return {
        "open": open_tasks.count(),
        "overdue": open_tasks.filter(deadline__lt=now).count(),
        "by_department": [
            {
                "code": d["department__code"],
                "name": d["department__name"],
                "open": d["open_count"],
                "overdue": d["overdue_count"],
            }
            for d in by_department
        ],
        "runs": [
            {
                "started_at": r.started_at,
                "versions": r.versions,
                "with_findings": r.with_findings,
                "findings": r.findings,
                "tasks_opened": r.tasks_opened,
                "errors": r.errors,
            }
            for r in reversed(runs[-10:])
        ],
        "trend": trend,
    }
