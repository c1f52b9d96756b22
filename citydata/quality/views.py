"""Quality pages: a dataset's quality (public), the operators' and departments' dashboards, inspection runs and
schedules, rectification tasks. Every page works without script."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.accounts.models import Department
from citydata.catalog import queries as catalog_queries
from citydata.catalog.models import Dataset
from citydata.errors import DomainError
from citydata.quality import checks, forms, queries, services
from citydata.quality.models import InspectionRun, InspectionSchedule, TaskStatus

TREND_WIDTH, TREND_HEIGHT = 300, 60


def trend_svg(trend: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Points of a small inline-SVG line of scores (0–100) over time; no script, no inline style."""
    if len(trend) < 2:
        return None
    step = TREND_WIDTH / (len(trend) - 1)
    points = " ".join(
        f"{round(i * step, 1)},{round(TREND_HEIGHT - p['score'] * TREND_HEIGHT / 100, 1)}" for i, p in enumerate(trend)
    )
    return {"points": points, "width": TREND_WIDTH, "height": TREND_HEIGHT, "first": trend[0], "last": trend[-1]}


def dataset_quality_view(request, slug: str):
    """Public: a dataset's score, breakdown, findings with what to fix first, and trend (same data as the API)."""
    try:
        dataset = catalog_queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None
    quality = queries.dataset_quality(dataset)
    staff = authz.can(request.user, "quality.department", dataset.department)
    tasks = (
        list(dataset.rectification_tasks.filter(status__in=queries.OPEN_TASK_STATUSES).order_by("deadline"))
        if staff
        else []
    )
    return render(
        request,
        "quality/dataset.html",
        {"dataset": dataset, "q": quality, "trend": trend_svg(quality["trend"]), "staff": staff, "tasks": tasks},
    )


@login_required
def dashboard_view(request):
    """Operators: the city's quality. Department staff go to their department's dashboard."""
    if not authz.can(request.user, "quality.inspect"):
        own = sorted(authz.department_ids(request.user, authz.PROVIDER))
        if not own:
            authz.authorize(request.user, "quality.inspect")  # refuses with the usual 403
        department = Department.objects.get(pk=own[0])
        return redirect("quality:department", code=department.code)
    overview = queries.city_overview()
    return render(
        request,
        "quality/dashboard.html",
        {"o": overview, "trend": trend_svg(overview["trend"]), "checks": checks.all_checks()},
    )


@login_required
def department_view(request, code: str):
    department = Department.objects.filter(code=code.upper()[:32]).first()
    if department is None:
        raise Http404
    authz.authorize(request.user, "quality.department", department)
    overview = queries.department_overview(department)
    tasks = queries.task_page(
        request.user, queries.TaskFilter(status="open", department=department.code), cursor=None, limit=20
    )
    return render(
        request,
        "quality/department.html",
        {"o": overview, "trend": trend_svg(overview["trend"]), "tasks": tasks},
    )


@login_required
def runs_view(request):
    authz.authorize(request.user, "quality.inspect")
    form = forms.RunForm(request.POST or None, initial={"create_tasks": True})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = services.run_start(
                    by=request.user,
                    scope=data["scope"],
                    department=data["department"],
                    domain=data["domain"],
                    create_tasks=data["create_tasks"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("巡查已开始，完成后在此查看报告。"))
                return redirect("quality:run", pk=run.pk)
        status = 400
    page = queries.run_page(cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 20)
    return render(request, "quality/runs.html", {"form": form, "page": page}, status=status)


@login_required
def run_view(request, pk: int):
    authz.authorize(request.user, "quality.inspect")
    run = get_object_or_404(InspectionRun.objects.select_related("department", "domain", "started_by"), pk=pk)
    department = (request.GET.get("department") or "").upper()[:32]
    findings = queries.run_findings(
        run, department=department, cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 50
    )
    return render(
        request,
        "quality/run.html",
        {"run": run, "report": queries.run_report(run), "findings": findings, "department": department},
    )


@login_required
def schedules_view(request):
    authz.authorize(request.user, "quality.inspect")
    form = forms.ScheduleForm(request.POST or None, initial={"create_tasks": True})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.schedule_save(by=request.user, data=form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("巡查计划已保存。"))
                return redirect("quality:schedules")
        status = 400
    page = queries.schedule_page(cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 20)
    return render(request, "quality/schedules.html", {"form": form, "page": page}, status=status)


@login_required
@require_POST
def schedule_delete_view(request, pk: int):
    authz.authorize(request.user, "quality.inspect")
    schedule = get_object_or_404(InspectionSchedule, pk=pk)
    services.schedule_delete(by=request.user, schedule=schedule)
    messages.success(request, _("已删除巡查计划：%(n)s。") % {"n": schedule.name})
    return redirect("quality:schedules")


@login_required
def tasks_view(request):
    authz.authorize(request.user, "quality.department", None)
    filter_form = forms.TaskFilterForm(request.GET or None)
    flt = queries.TaskFilter.from_params(request.GET)
    page = queries.task_page(request.user, flt, cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 20)
    next_query = {**flt.as_query(), "cursor": page.next_cursor} if page.next_cursor else None
    return render(
        request,
        "quality/tasks.html",
        {"filter_form": filter_form, "page": page, "next_query": next_query},
    )


@login_required
def task_view(request, pk: int):
    task = queries.tasks_visible_to(request.user).filter(pk=pk).first()
    if task is None:
        raise Http404
    authz.authorize(request.user, "quality.department", task)
    fixed_form = forms.FixedForm(request.POST if request.POST.get("action") == "fixed" else None)
    if not task.check_code:  # from an error report: no check can verify it, an operator confirms the fix
        fixed_form.fields["note"].help_text = _(
            "说明做了哪些修改。提交后由平台运营方确认，确认后任务关闭并告知纠错人。"
        )
    review_form = forms.ReviewForm(request.POST if request.POST.get("action") == "review" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "fixed" and fixed_form.is_valid():
                task = services.task_report_fixed(by=request.user, task=task, note=fixed_form.cleaned_data["note"])
                if task.status == TaskStatus.CLOSED:
                    messages.success(request, _("复核通过，任务已关闭。"))
                elif task.status == TaskStatus.REVIEW:
                    messages.success(request, _("已提交，等待运营方确认。"))
                else:
                    messages.error(request, _("复核未通过，请继续整改。"))
                return redirect("quality:task", pk=task.pk)
            if request.POST.get("action") == "review" and review_form.is_valid():
                data = review_form.cleaned_data
                if data["decision"] == "close":
                    services.task_close(by=request.user, task=task, note=data["note"])
                    messages.success(request, _("任务已关闭。"))
                else:
                    services.task_return(by=request.user, task=task, note=data["note"])
                    messages.success(request, _("已退回部门。"))
                return redirect("quality:task", pk=task.pk)
        except DomainError as exc:
            apply_domain_error(review_form if request.POST.get("action") == "review" else fixed_form, exc)
        if request.POST.get("action") not in ("fixed", "review"):
            messages.error(request, _("请求无效，请刷新页面后重试。"))
        status = 400
    check = checks.get(task.check_code) if task.check_code else None
    return render(
        request,
        "quality/task.html",
        {
            "task": task,
            "check": check,
            "fixed_form": fixed_form,
            "review_form": review_form,
            "can_fix": authz.can(request.user, "quality.fix_task", task) and task.status in ("open", "rejected"),
            "can_review": authz.can(request.user, "quality.close_task", task) and task.status == "review",
        },
        status=status,
    )
