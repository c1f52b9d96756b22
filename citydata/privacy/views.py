"""Privacy pages: a version's gate (findings, masking, quasi-identifiers, the operator's override), the operator's
dashboard and the departments' tasks. Every write goes through privacy.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.errors import DomainError
from citydata.privacy import queries, services
from citydata.privacy.forms import OverrideForm, PlanForm, ResolveForm, RiskForm
from citydata.privacy.models import PrivacyTask, TaskStatus


def _page(request, version, *, plan_form=None, risk_form=None, override_form=None, status=200):
    gate = queries.version_gate(version)
    plan_form = plan_form or PlanForm(columns=gate["columns"], initial_plan=gate["suggested"] or gate["plan"])
    risk_form = risk_form or RiskForm(
        columns=gate["columns"],
        initial={"quasi_identifiers": gate["quasi_identifiers"], "sensitive": gate["sensitive_column"]},
    )
    can_override = authz.can(request.user, "privacy.override", version)
    return render(
        request,
        "privacy/version.html",
        {
            "dataset": version.dataset,
            "version": version,
            "gate": gate,
            "plan_form": plan_form,
            "risk_form": risk_form,
            "override_form": override_form or (OverrideForm() if can_override else None),
            "can_edit": version.status == "ready" and not version.is_current,
        },
        status=status,
    )


@login_required
def version_view(request, slug: str, number: int):
    return _page(request, queries.version_for_staff(request.user, slug, number))


@login_required
@require_POST
def mask_view(request, slug: str, number: int):
    version = queries.version_for_staff(request.user, slug, number)
    if request.POST.get("suggested"):
        try:
            services.version_mask_suggested(by=request.user, version=version)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("privacy:version", slug=slug, number=number)
        messages.success(request, _("已按建议方案脱敏并重新扫描。"))
        return redirect("privacy:version", slug=slug, number=number)
    gate = queries.version_gate(version)
    form = PlanForm(request.POST, columns=gate["columns"], initial_plan=[])
    if form.is_valid():
        try:
            services.version_mask(by=request.user, version=version, plan=form.plan())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已按方案脱敏并重新扫描。"))
            return redirect("privacy:version", slug=slug, number=number)
    return _page(request, version, plan_form=form, status=400)


@login_required
@require_POST
def risk_view(request, slug: str, number: int):
    version = queries.version_for_staff(request.user, slug, number)
    form = RiskForm(request.POST, columns=version.columns)
    if form.is_valid():
        try:
            services.quasi_identifiers_set(
                by=request.user,
                version=version,
                columns=form.cleaned_data["quasi_identifiers"],
                sensitive=form.cleaned_data["sensitive"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect(f"/manage/datasets/{slug}/data/v{number}/privacy/#risk")
    return _page(request, version, risk_form=form, status=400)


@login_required
@require_POST
def proposal_view(request, slug: str, number: int):
    version = queries.version_for_staff(request.user, slug, number)
    try:
        services.version_apply_proposal(by=request.user, version=version)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已按建议泛化准标识符并重新计算。"))
    return redirect(f"/manage/datasets/{slug}/data/v{number}/privacy/#risk")


@login_required
@require_POST
def override_view(request, slug: str, number: int):
    version = queries.version_for_staff(request.user, slug, number)
    authz.authorize(request.user, "privacy.override", version)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.gate_override(by=request.user, version=version, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已放行，该版本可以发布；放行已记入审计日志。"))
            return redirect("privacy:version", slug=slug, number=number)
    return _page(request, version, override_form=form, status=400)


@login_required
def dashboard_view(request):
    authz.authorize(request.user, "privacy.dashboard")
    data = queries.dashboard()
    peak = max([d["findings"] for d in data["trend"]] + [1])
    bars = [
        {**d, "x": i * 20, "h": round(150 * d["findings"] / peak), "y": 160 - round(150 * d["findings"] / peak)}
        for i, d in enumerate(data["trend"])
    ]
    tasks = queries.tasks_for(request.user)[:200]
    return render(
        request,
        "privacy/dashboard.html",
        {"data": data, "bars": bars, "chart_width": len(bars) * 20, "peak": peak, "tasks": tasks},
    )


@login_required
def tasks_view(request):
    authz.authorize(request.user, "department.workspace")
    tasks = queries.tasks_for(request.user)[:200]
    resolved = queries.tasks_for(request.user, status=TaskStatus.RESOLVED).order_by("-resolved_at")[:50]
    return render(request, "privacy/tasks.html", {"tasks": tasks, "resolved": resolved, "form": ResolveForm()})


@login_required
@require_POST
def resolve_view(request, pk: int):
    task = get_object_or_404(PrivacyTask.objects.select_related("department"), pk=pk)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.task_resolve(by=request.user, task=task, note=form.cleaned_data["note"])
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已标记整改。"))
    else:
        messages.error(request, _("请填写整改说明。"))
    return redirect("privacy:tasks")
