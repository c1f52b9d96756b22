"""Pages of conditional opening for the grant's parties and the back office: the grant page and its actions,
the department queue, the SLA dashboard, agreement templates and banks' standing grants."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.access import forms, queries, services
from citydata.access.models import AgreementTemplate, Grant, GrantStatus
from citydata.accounts import authz
from citydata.accounts.backends import find_user
from citydata.accounts.forms import apply_domain_error
from citydata.errors import DomainError
from citydata.paging import paginate_desc
from citydata.workdays import calendar


def refuse_on(form, exc: DomainError) -> None:
    """A refusal the person can fix goes on the form; a permission refusal stays a 403 page."""
    if exc.status == 403:
        raise exc
    apply_domain_error(form, exc)


def key_page(request, grant: Grant, secret: str):
    """The grant's key, in this response only: it is stored as a digest and cannot be shown again."""
    base = f"{request.scheme}://{request.get_host()}"
    examples = [
        {"dataset": item.dataset, "url": f"{base}/api/v1/datasets/{item.dataset.slug}/records"}
        for item in grant.items.select_related("dataset")
    ]
    return render(request, "access/key.html", {"grant": grant, "secret": secret, "examples": examples}, status=201)


# --- grants --------------------------------------------------------------------------------------------------------


GRANT_FORMS = {
    "revoke": forms.ReasonForm,
    "suspend": forms.ReasonForm,
    "resume": forms.ResumeForm,
    "renew": forms.RenewForm,
    "limits": forms.LimitsForm,
    "report": forms.UsageReportForm,
}


def _grant_page(request, grant: Grant, *, status=200, **bound):
    manage = authz.can(request.user, "grant.manage", grant)
    limits_initial = {
        "rate_per_minute": grant.rate_per_minute,
        "daily_rows": grant.daily_rows,
        "ip_allowlist": "\n".join(grant.ip_allowlist),
    }
    grant_forms = {
        name: bound.get(name) or (form(initial=limits_initial) if name == "limits" else form())
        for name, form in GRANT_FORMS.items()
    }
    reports = paginate_desc(
        grant.reports.select_related("submitted_by"), key="id", cursor=request.GET.get("cursor"), limit=20
    )
    return render(
        request,
        "access/grant.html",
        {
            "grant": grant,
            "items": list(grant.items.select_related("dataset")),
            "usage": queries.grant_usage(grant),
            "reports": reports,
            "manage": manage,
            "holder": grant.holder_id == request.user.pk,
            "forms": grant_forms,
            "statuses": GrantStatus,
        },
        status=status,
    )


@login_required
def grant_view(request, pk: int):
    grant = queries.grant_for(request.user, pk)
    return _grant_page(request, grant)


@login_required
@require_POST
def grant_act_view(request, pk: int, action: str):
    """Department staff and operators: revoke, suspend, resume, renew, limits. The holder: report."""
    if action not in GRANT_FORMS:
        raise Http404
    grant = queries.grant_for(request.user, pk)
    form = GRANT_FORMS[action](request.POST)
    if not form.is_valid():
        return _grant_page(request, grant, status=400, **{action: form})
    data, by = form.cleaned_data, request.user
    try:
        if action == "revoke":
            services.grant_revoke(by=by, grant=grant, reason=data["reason"])
            done = _("授权已撤销，密钥立即失效。")
        elif action == "suspend":
            services.grant_suspend(by=by, grant=grant, reason=data["reason"])
            done = _("授权已暂停。")
        elif action == "resume":
            services.grant_resume(by=by, grant=grant, reason=data["reason"])
            done = _("授权已恢复。")
        elif action == "renew":
            services.grant_renew(by=by, grant=grant, ends_on=data["ends_on"])
            done = _("授权已续期。")
        elif action == "limits":
            services.grant_limits(
                by=by,
                grant=grant,
                rate_per_minute=data["rate_per_minute"],
                daily_rows=data["daily_rows"],
                ip_allowlist=data["ip_allowlist"],
            )
            done = _("限额已更新，下一次调用起生效。")
        else:
            services.usage_report_submit(
                by=by, grant=grant, built=data["built"], results=data["results"], incidents=data["incidents"]
            )
            done = _("使用情况报告已提交。")
    except DomainError as exc:
        if exc.status == 403:
            raise
        apply_domain_error(form, exc)
        grant.refresh_from_db()
        return _grant_page(request, grant, status=exc.status, **{action: form})
    messages.success(request, done)
    return redirect("access:grant", pk=pk)


# --- the department's side: queue and SLA -----------------------------------------------------------------------


@login_required
def queue_view(request):
    """Applications to handle: department staff see their departments', operators everyone's."""
    authz.authorize(request.user, "access.sla")
    departments = list(queries.queue_departments(request.user))
    form = forms.QueueFilterForm(request.GET or None, departments=departments)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["department"]
        filters = {
            "state": form.cleaned_data["state"],
            "overdue": form.cleaned_data["overdue"],
            "department": next((d for d in departments if d.code == code), None),
        }
    rows = queries.queue(request.user, **filters) if not form.errors else queries.queue(request.user).none()
    page = paginate_desc(rows, key="id", cursor=request.GET.get("cursor"), limit=20)
    work_calendar = calendar.current() if page.items else None
    for application in page.items:
        application.clock = queries.clock(application, work_calendar=work_calendar)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "access/queue.html",
        {"form": form, "page": page, "query": query.urlencode(), "many": len(departments) > 1},
        status=400 if form.errors else 200,
    )


@login_required
def sla_view(request):
    """Acceptance within the working-day limit, per department (operators: city-wide)."""
    authz.authorize(request.user, "access.sla")
    form = forms.PeriodForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    rows, total = queries.sla(request.user, since=since, until=until)
    return render(
        request,
        "access/sla.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "decisions": queries.decided_with_reasons(request.user),
            "operator": authz.has_role(request.user, authz.OPERATOR),
        },
        status=400 if form.errors else 200,
    )


# --- operators: agreement templates and standing grants ---------------------------------------------------------


@login_required
def templates_view(request):
    authz.authorize(request.user, "agreement.template")
    latest = AgreementTemplate.objects.order_by("-version").first()
    initial = {"title": latest.title, "body": latest.body} if latest else {}
    form = forms.TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_publish(
                by=request.user, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
            )
        except DomainError as exc:
            refuse_on(form, exc)
        else:
            messages.success(
                request, _("开放利用协议 v%(v)s 已发布，此后签署的协议使用新版本。") % {"v": template.version}
            )
            return redirect("access:templates")
    page = paginate_desc(AgreementTemplate.objects.all(), key="version", cursor=request.GET.get("cursor"), limit=20)
    return render(
        request,
        "access/templates.html",
        {"form": form, "page": page, "placeholders": services.PLACEHOLDERS},
        status=400 if form.errors else 200,
    )


@login_required
def standing_view(request):
    """Operators open a bank's routine feed (常态化供数): one department's datasets and fields, its own key."""
    authz.authorize(request.user, "grant.standing")
    departments = list(queries.departments_with_conditional_data())
    code = request.GET.get("department", "")
    department = None
    if code:
        department = next((d for d in departments if d.code == code[:50]), None)
        if department is None:
            raise Http404
    datasets = list(queries.conditional_datasets(department)) if department else []
    form = forms.StandingForm(request.POST or None, datasets=datasets)
    if request.method == "POST":
        if department is None:
            raise Http404
        if form.is_valid():
            holder = find_user(form.cleaned_data["holder"])
            if holder is None:
                form.add_error("holder", _("没有找到该手机号或邮箱对应的用户。"))
            else:
                try:
                    grant, secret = services.standing_grant_create(
                        by=request.user,
                        organisation=form.cleaned_data["organisation"],
                        holder=holder,
                        items=form.items(),
                        ends_on=form.cleaned_data["ends_on"],
                    )
                except DomainError as exc:
                    refuse_on(form, exc)
                else:
                    return key_page(request, grant, secret)
    standing = paginate_desc(
        Grant.objects.filter(standing=True).select_related("organisation", "holder", "department"),
        key="id",
        cursor=request.GET.get("cursor"),
        limit=20,
    )
    return render(
        request,
        "access/standing.html",
        {
            "form": form,
            "groups": form.groups(),
            "departments": departments,
            "department": department,
            "standing": standing,
        },
        status=400 if form.errors else 200,
    )
