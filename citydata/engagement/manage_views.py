"""Back-office feedback pages: the reply-time dashboard, the inboxes, comment moderation, the moderation
setting, and the backlog made from searches that found nothing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.models import Department
from citydata.engagement import forms, queries, services
from citydata.engagement.models import Comment, DataRequest, ErrorReport, Rating, Suggestion
from citydata.engagement.services.common import url_of
from citydata.errors import DomainError


def _scope(request) -> tuple[set | None, Department | None]:
    """Operators see every department (or one, with ?department=); provider staff their own."""
    code = (request.GET.get("department") or "").strip().upper()[:32]
    department = Department.objects.filter(code=code).first() if code else None
    if code and department is None:
        raise Http404
    authz.authorize(request.user, "feedback.dashboard", department)
    scope = queries.staff_department_ids(request.user)
    if department is not None:
        scope = {department.pk}
    return scope, department


@login_required
def dashboard_view(request):
    scope, department = _scope(request)
    try:
        days = min(max(int(request.GET.get("days") or 90), 1), 3650)
    except ValueError:
        raise DomainError(_("统计天数必须是整数。"), code="invalid_days") from None
    rows = queries.dashboard(scope, days=days)
    waiting = {
        kind: {"label": queries.INBOXES[kind]["label"], "n": n}
        for kind, n in queries.waiting_counts(request.user).items()
    }
    return render(
        request,
        "engagement/manage/dashboard.html",
        {
            "rows": rows,
            "total": queries.totals(rows),
            "days": days,
            "department": department,
            "overdue": queries.overdue_items(scope),
            "waiting": waiting,
            "ratings": queries.rating_overview(scope),
            "is_operator": authz.has_role(request.user, authz.OPERATOR),
            "mode": services.moderation_mode(),
            "mode_form": forms.ModerationModeForm(initial={"mode": services.moderation_mode()}),
        },
    )


@login_required
def inbox_view(request, kind: str):
    if kind not in queries.INBOXES:
        raise Http404
    authz.authorize(request.user, "feedback.dashboard", None)
    if kind == "suggestions":
        authz.authorize(request.user, "suggestion.answer")
    status = (request.GET.get("status") or "waiting")[:20]
    department = (request.GET.get("department") or "")[:32]
    page = queries.inbox_page(
        kind, request.user, status=status, department=department, cursor=request.GET.get("cursor")
    )
    spec = queries.INBOXES[kind]
    rows = []
    for item in page.items:
        rows.append({"item": item, "url": url_of(item) if kind != "comments" else None})
    return render(
        request,
        "engagement/manage/inbox.html",
        {
            "kind": kind,
            "label": spec["label"],
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": spec["statuses"].choices,
            "department": department,
            "kinds": {k: v["label"] for k, v in queries.INBOXES.items()},
            "hide_form": forms.HideForm(),
            "reply_form": forms.ReplyForm(),
        },
    )


HIDEABLE = {
    "comments": Comment,
    "ratings": Rating,
    "reports": ErrorReport,
    "requests": DataRequest,
    "suggestions": Suggestion,
}


@login_required
@require_POST
def hide_view(request, kind: str, pk: int):
    """Hide a user's text with a public reason (comments, rating reasons, error reports, requests, suggestions)."""
    model = HIDEABLE.get(kind)
    if model is None:
        raise Http404
    obj = get_object_or_404(model, pk=pk)
    form = forms.HideForm(request.POST)
    if not form.is_valid():
        raise DomainError(form.errors["reason"][0], details={"field": "reason"})
    services.content_hide(by=request.user, obj=obj, reason=form.cleaned_data["reason"])
    messages.success(request, _("已屏蔽。"))
    return redirect(request.POST.get("next") if _safe_next(request) else url_of(obj))


def _safe_next(request) -> bool:
    target = request.POST.get("next") or ""
    return target.startswith("/") and not target.startswith("//")


@login_required
@require_POST
def comment_approve_view(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("dataset"), pk=pk)
    services.comment_approve(by=request.user, comment=comment)
    messages.success(request, _("评论已发布。"))
    return redirect(request.POST.get("next") if _safe_next(request) else url_of(comment))


@login_required
@require_POST
def comment_reply_view(request, pk: int):
    comment = get_object_or_404(Comment.objects.select_related("dataset"), pk=pk)
    form = forms.ReplyForm(request.POST)
    if not form.is_valid():
        raise DomainError(form.errors["reply"][0], details={"field": "reply"})
    services.comment_reply(by=request.user, comment=comment, reply=form.cleaned_data["reply"])
    messages.success(request, _("已回复。"))
    return redirect(request.POST.get("next") if _safe_next(request) else url_of(comment))


@login_required
@require_POST
def moderation_mode_view(request):
    form = forms.ModerationModeForm(request.POST)
    authz.authorize(request.user, "feedback.settings")
    if not form.is_valid():
        raise DomainError(form.errors["mode"][0], details={"field": "mode"})
    services.moderation_mode_set(by=request.user, mode=form.cleaned_data["mode"])
    messages.success(request, _("评论审核方式已更新。"))
    return redirect("engagement:dashboard")


@login_required
def backlog_view(request):
    """Operators: searches that found nothing lately; each can become a data-request backlog entry."""
    authz.authorize(request.user, "feedback.backlog")
    if request.method == "POST":
        form = forms.BacklogForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("缺少搜索词。"), details={"field": "query"})
        entry, created = services.data_request_from_search(
            by=request.user, query=form.cleaned_data["query"], searches=form.cleaned_data["searches"] or 1
        )
        if created:
            messages.success(request, _("已加入数据需求池：%(q)s") % {"q": entry.query})
        else:
            messages.success(request, _("该搜索词已在需求池中，已累加搜索次数。"))
        return redirect(reverse("engagement:backlog"))
    try:
        days = min(max(int(request.GET.get("days") or 30), 1), 365)
    except ValueError:
        raise DomainError(_("统计天数必须是整数。"), code="invalid_days") from None
    return render(
        request, "engagement/manage/backlog.html", {"rows": queries.zero_result_backlog(days=days), "days": days}
    )
