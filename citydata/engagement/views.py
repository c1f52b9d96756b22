"""Public feedback pages: a dataset's comments, rating, error reports and complaint form; data requests and
suggestions. Each page works without script; a refused post shows its form again with the reason (400)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.catalog import queries as catalog_queries
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.engagement import forms, queries, services
from citydata.engagement.models import Complaint, DataRequest, ErrorReport, Suggestion, SuggestionStatus
from citydata.engagement.services.common import day_label, url_of
from citydata.errors import DomainError
from citydata.paging import paginate_desc
from citydata.security.middleware import client_ip


def _dataset(request, slug: str) -> Dataset:
    try:
        return catalog_queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None


def _render(request, template: str, context: dict, form=None):
    status = 400 if form is not None and form.errors else 200
    if form is not None and any(e.code == "rate_limited" for e in getattr(form, "_domain_errors", [])):
        status = 429
    return render(request, template, context, status=status)


def _apply(form, exc: DomainError) -> None:
    apply_domain_error(form, exc)
    form._domain_errors = [*getattr(form, "_domain_errors", []), exc]


def _back(dataset: Dataset) -> str:
    return reverse("catalog:dataset_detail", args=[dataset.slug])


# --- comments and ratings -------------------------------------------------------------------------------


def comments_view(request, slug: str):
    """All comments of a dataset (paged), and the form to add one."""
    dataset = _dataset(request, slug)
    form = forms.CommentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                comment = services.comment_submit(
                    by=request.user, dataset=dataset, body=form.cleaned_data["body"], ip=client_ip(request)
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                if comment.status == "pending":
                    messages.success(request, _("评论已提交，审核通过后公开显示。"))
                else:
                    messages.success(request, _("评论已发表。"))
                return redirect(_back(dataset) + "#feedback")
    page = queries.comments_page(dataset, request.user, cursor=request.GET.get("cursor"), limit=20)
    return _render(
        request,
        "engagement/comments.html",
        {
            "dataset": dataset,
            "page": page,
            "form": form,
            "can_moderate": authz.can(request.user, "feedback.moderate", dataset),
        },
        form,
    )


def rating_view(request, slug: str):
    """Rate a dataset (or change one's rating) and read everyone's ratings."""
    dataset = _dataset(request, slug)
    mine = None
    if request.user.is_authenticated:
        mine = dataset.ratings.filter(user=request.user).first()
    initial = {"score": mine.score, "reason": mine.reason} if mine else None
    form = forms.RatingForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                services.rating_set(
                    by=request.user,
                    dataset=dataset,
                    score=form.cleaned_data["score"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("感谢评分，您可以随时修改。"))
                return redirect(_back(dataset) + "#feedback")
    page = queries.ratings_page(dataset, cursor=request.GET.get("cursor"), limit=20)
    return _render(
        request,
        "engagement/rating.html",
        {
            "dataset": dataset,
            "form": form,
            "mine": mine,
            "summary": queries.rating_summary(dataset),
            "page": page,
            "can_moderate": authz.can(request.user, "feedback.moderate", dataset),
        },
        form,
    )


# --- error reports --------------------------------------------------------------------------------------


def report_new_view(request, slug: str):
    dataset = _dataset(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    initial = {"field_name": request.GET.get("field", "")[:64], "row_ref": request.GET.get("row", "")[:100]}
    form = forms.ErrorReportForm(request.POST or None, dataset=dataset, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.error_report_submit(
                by=request.user, ip=client_ip(request), dataset=dataset, **form.cleaned_data
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(
                request,
                _("纠错已提交，%(dept)s 将在 %(due)s 前答复。")
                % {"dept": dataset.department.name, "due": day_label(report.due_at)},
            )
            return redirect(url_of(report))
    return _render(request, "engagement/report_new.html", {"dataset": dataset, "form": form}, form)


def reports_view(request, slug: str):
    dataset = _dataset(request, slug)
    status = request.GET.get("status", "")
    page = queries.error_reports_page(dataset, status=status, cursor=request.GET.get("cursor"), limit=20)
    return render(request, "engagement/reports.html", {"dataset": dataset, "page": page, "status": status})


def _report(request, slug: str, pk: int) -> ErrorReport:
    dataset = _dataset(request, slug)
    return get_object_or_404(
        ErrorReport.objects.select_related("dataset", "department", "reporter"), pk=pk, dataset=dataset
    )


def report_detail_view(request, slug: str, pk: int, answer_form=None, resolve_form=None, status: int = 200):
    report = _report(request, slug, pk)
    can_answer = authz.can(request.user, "feedback.answer", report)
    context = {
        "report": report,
        "dataset": report.dataset,
        "can_answer": can_answer,
        "can_moderate": authz.can(request.user, "feedback.moderate", report.dataset),
        "answer_form": answer_form or forms.ReportAnswerForm(),
        "resolve_form": resolve_form or forms.ResolveForm(),
    }
    return render(request, "engagement/report_detail.html", context, status=status)


@login_required
@require_POST
def report_answer_view(request, slug: str, pk: int):
    report = _report(request, slug, pk)
    form = forms.ReportAnswerForm(request.POST)
    if form.is_valid():
        try:
            services.error_report_answer(
                by=request.user,
                report=report,
                confirmed=form.cleaned_data["decision"] == "confirm",
                answer=form.cleaned_data["answer"],
            )
        except DomainError as exc:
            if exc.status == 403:
                raise
            _apply(form, exc)
        else:
            messages.success(request, _("已答复，纠错人会收到通知。"))
            return redirect(url_of(report))
    authz.authorize(request.user, "feedback.answer", report)
    return report_detail_view(request, slug, pk, answer_form=form, status=400)


@login_required
@require_POST
def report_resolve_view(request, slug: str, pk: int):
    report = _report(request, slug, pk)
    form = forms.ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.error_report_resolve(by=request.user, report=report, note=form.cleaned_data["note"])
        except DomainError as exc:
            if exc.status == 403:
                raise
            _apply(form, exc)
        else:
            messages.success(request, _("已标记为已修正。"))
            return redirect(url_of(report))
    authz.authorize(request.user, "feedback.answer", report)
    return report_detail_view(request, slug, pk, resolve_form=form, status=400)


# --- complaints -----------------------------------------------------------------------------------------


def complaint_new_view(request, slug: str):
    """Anyone may report exposed personal data; anonymous reporters leave a contact for the outcome."""
    dataset = _dataset(request, slug)
    anonymous = not request.user.is_authenticated
    form = forms.ComplaintForm(request.POST or None, anonymous=anonymous)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_submit(
                by=request.user, dataset=dataset, ip=client_ip(request), **form.cleaned_data
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("投诉举报已提交。请保存本页网址，以便查看处理结果。"))
            return redirect(url_of(complaint))
    return _render(request, "engagement/complaint_new.html", {"dataset": dataset, "form": form}, form)


def _complaint_for(request, token: str) -> tuple[Complaint, bool]:
    """The complaint behind a secret link; whoever holds the link sees it. Staff also get the handling forms."""
    complaint = get_object_or_404(
        Complaint.objects.select_related("dataset__department", "reporter", "taken_down_by"), token=token[:32]
    )
    return complaint, authz.can(request.user, "complaint.handle", complaint)


def complaint_detail_view(request, token: str, resolve_form=None, status: int = 200):
    complaint, can_handle = _complaint_for(request, token)
    return render(
        request,
        "engagement/complaint_detail.html",
        {
            "complaint": complaint,
            "can_handle": can_handle,
            "resolve_form": resolve_form or forms.ComplaintResolveForm(),
        },
        status=status,
    )


@login_required
@require_POST
def complaint_take_down_view(request, token: str):
    complaint, _can = _complaint_for(request, token)
    services.complaint_take_down(by=request.user, complaint=complaint)
    messages.success(request, _("数据集已下线，待核查后决定是否恢复。"))
    return redirect(url_of(complaint))


@login_required
@require_POST
def complaint_resolve_view(request, token: str):
    complaint, can_handle = _complaint_for(request, token)
    authz.authorize(request.user, "complaint.handle", complaint)
    form = forms.ComplaintResolveForm(request.POST)
    if form.is_valid():
        try:
            services.complaint_resolve(
                by=request.user,
                complaint=complaint,
                upheld=form.cleaned_data["decision"] == "upheld",
                answer=form.cleaned_data["answer"],
            )
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("已办结，投诉人会收到处理结果。"))
            return redirect(url_of(complaint))
    return complaint_detail_view(request, token, resolve_form=form, status=400)


# --- data requests --------------------------------------------------------------------------------------


def requests_view(request):
    """Every data request with its status and answer, filterable, paged."""
    flt = queries.RequestFilter.from_params(request.GET)
    page = queries.data_requests_page(flt, request.user, cursor=request.GET.get("cursor"), limit=20)
    from citydata.engagement.models import DataRequestStatus

    return render(
        request,
        "engagement/requests.html",
        {"filter": flt, "page": page, "statuses": DataRequestStatus.choices, "query": flt.as_query()},
    )


def request_new_view(request):
    """Ask for data that is not open yet; `?q=` (from a search that found nothing) fills in the title."""
    query = (request.GET.get("q") or "").strip()[:100]
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = forms.DataRequestForm(request.POST or None, initial={"title": query, "query": query})
    if request.method == "POST" and form.is_valid():
        try:
            data_request = services.data_request_submit(by=request.user, ip=client_ip(request), **form.cleaned_data)
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("数据需求已提交，答复后会通知您。"))
            return redirect(url_of(data_request))
    return _render(request, "engagement/request_new.html", {"form": form, "query": query}, form)


def request_detail_view(request, pk: int, forms_in_use: dict | None = None, status: int = 200):
    data_request = get_object_or_404(DataRequest.objects.select_related("department", "dataset", "requester"), pk=pk)
    forms_in_use = forms_in_use or {}
    context = {
        "req": data_request,
        "can_answer": authz.can(request.user, "feedback.answer", data_request),
        "can_route": authz.can(request.user, "feedback.route", data_request),
        "can_moderate": authz.can(request.user, "feedback.moderate", data_request),
        "accept_form": forms_in_use.get("accept") or forms.AcceptForm(),
        "decline_form": forms_in_use.get("decline") or forms.DeclineForm(),
        "fulfil_form": forms_in_use.get("fulfil") or forms.FulfilForm(),
        "route_form": forms_in_use.get("route") or forms.RouteForm(),
    }
    return render(request, "engagement/request_detail.html", context, status=status)


REQUEST_ACTIONS: dict[str, type] = {
    "accept": forms.AcceptForm,
    "decline": forms.DeclineForm,
    "fulfil": forms.FulfilForm,
    "route": forms.RouteForm,
}


@login_required
@require_POST
def request_act_view(request, pk: int, action: str):
    """The department's answer (accept / decline / fulfil) or the operators' routing, from the request page."""
    data_request = get_object_or_404(DataRequest, pk=pk)
    form_class = REQUEST_ACTIONS.get(action)
    if form_class is None:
        raise Http404
    authz.authorize(request.user, "feedback.route" if action == "route" else "feedback.answer", data_request)
    form = form_class(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "accept":
                services.data_request_accept(by=request.user, request=data_request, answer=data["answer"])
            elif action == "decline":
                services.data_request_decline(
                    by=request.user, request=data_request, answer=data["answer"], legal_basis=data["legal_basis"]
                )
            elif action == "fulfil":
                dataset = Dataset.objects.filter(slug=data["dataset"].strip(), status=DatasetStatus.PUBLISHED).first()
                if dataset is None:
                    raise DomainError(_("没有这个已发布的数据集。"), details={"field": "dataset"})
                services.data_request_fulfil(
                    by=request.user, request=data_request, dataset=dataset, answer=data["answer"]
                )
            else:
                services.data_request_route(by=request.user, request=data_request, department=data["department"])
        except DomainError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("已保存，需求人会收到通知。") if action != "route" else _("已转交。"))
            return redirect(url_of(data_request))
    return request_detail_view(request, pk, forms_in_use={action: form}, status=400)


# --- suggestions ----------------------------------------------------------------------------------------


def suggestions_view(request):
    """Suggestions to the platform: answered ones are public; everyone also sees their own."""
    form = forms.SuggestionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                suggestion = services.suggestion_submit(by=request.user, ip=client_ip(request), **form.cleaned_data)
            except DomainError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("建议已提交，感谢您的反馈。"))
                return redirect(url_of(suggestion))
    shown = Suggestion.objects.filter(status=SuggestionStatus.ANSWERED)
    if request.user.is_authenticated:
        shown = shown | Suggestion.objects.filter(author=request.user)
    page = paginate_desc(shown, key="id", cursor=request.GET.get("cursor"), limit=20)
    return _render(request, "engagement/suggestions.html", {"form": form, "page": page}, form)


def suggestion_detail_view(request, pk: int):
    suggestion = get_object_or_404(Suggestion.objects.select_related("author"), pk=pk)
    can_answer = authz.can(request.user, "suggestion.answer", suggestion)
    mine = request.user.is_authenticated and suggestion.author_id == request.user.pk
    if suggestion.status != SuggestionStatus.ANSWERED and not (mine or can_answer):
        raise Http404
    form = forms.AnswerForm(request.POST or None, initial={"answer": suggestion.answer})
    if request.method == "POST":
        authz.authorize(request.user, "suggestion.answer", suggestion)
        if form.is_valid():
            try:
                services.suggestion_answer(by=request.user, suggestion=suggestion, answer=form.cleaned_data["answer"])
            except DomainError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("已答复。"))
                return redirect(url_of(suggestion))
    return _render(
        request,
        "engagement/suggestion_detail.html",
        {"suggestion": suggestion, "can_answer": can_answer, "form": form},
        form,
    )
