"""The quality part of /api/v1: a dataset's score and findings (the same data as its quality page), the check
catalogue, inspection runs (operators) and rectification tasks (departments)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status

from citydata.accounts.models import Department
from citydata.api_auth import AUTH
from citydata.catalog import queries as catalog_queries
from citydata.catalog.models import Dataset, Domain
from citydata.errors import DomainError, NotFound
from citydata.quality import checks, queries, services
from citydata.quality.models import InspectionRun
from citydata.quality.schemas import CheckOut, DatasetQualityOut, FixedIn, RunIn, RunOut, TaskOut, TaskPageOut

router = Router(tags=["quality"])


@router.get(
    "/datasets/{slug}/quality",
    response=DatasetQualityOut,
    summary="A dataset's quality score, breakdown by family, open findings (what to fix first first) and trend",
)
def dataset_quality(request, slug: str):
    try:
        dataset = catalog_queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None
    return queries.dataset_quality(dataset)


@router.get("/quality/checks", response=list[CheckOut], summary="Every registered inspection check")
def list_checks(request):
    return [c.as_json() for c in checks.all_checks()]


def _department(code: str) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code.upper()[:32]).first()
    if department is None:
        raise DomainError(_("部门编码不存在。"), code="unknown_department", details={"field": "department"})
    return department


def _domain(code: str) -> Domain | None:
    if not code:
        return None
    domain = Domain.objects.filter(code=code[:40]).first()
    if domain is None:
        raise DomainError(
            _("领域编码无效，请查看 /api/v1/domains。"), code="unknown_domain", details={"field": "domain"}
        )
    return domain


@router.post("/quality/runs", response={202: RunOut}, auth=AUTH, summary="Start an inspection run (operators)")
def start_run(request, body: RunIn):
    run = services.run_start(
        by=request.user,
        scope=body.scope,
        department=_department(body.department),
        domain=_domain(body.domain),
        create_tasks=body.create_tasks,
    )
    return Status(202, queries.run_json(run))


@router.get(
    "/quality/runs/{run_id}", response=RunOut, auth=AUTH, summary="An inspection run and its report by department"
)
def get_run(request, run_id: int):
    from citydata.accounts import authz

    authz.authorize(request.user, "quality.inspect")
    run = InspectionRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("没有这次巡查。"))
    return queries.run_json(run)


class TaskFilterIn(Schema):
    status: str = ""
    department: str = ""
    overdue: bool = False
    cursor: str | None = None
    limit: int = 20


@router.get("/quality/tasks", response=TaskPageOut, auth=AUTH, summary="Rectification tasks the caller may see")
def list_tasks(request, filters: Query[TaskFilterIn]):
    params = filters.dict()
    page = queries.task_page(
        request.user, queries.TaskFilter.from_params(params), cursor=params["cursor"], limit=params["limit"]
    )
    return {"items": [queries.task_json(t) for t in page.items], "next_cursor": page.next_cursor}


def _task(request, task_id: int):
    task = queries.tasks_visible_to(request.user).filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("没有这项整改任务。"))
    return task


@router.post(
    "/quality/tasks/{task_id}/fixed",
    response=TaskOut,
    auth=AUTH,
    summary="Report a task fixed: a task from a check is re-checked at once and closed only if it passes",
)
def task_fixed(request, task_id: int, body: FixedIn):
    task = services.task_report_fixed(by=request.user, task=_task(request, task_id), note=body.note)
    return queries.task_json(task)
