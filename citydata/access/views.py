"""Pages of conditional opening (有条件开放): the application form, the case page with its actions, attachments,
the agreement with the key shown once, and expert panels. The grant and back-office pages are in `manage_views`
and named here too, so `urls.py` finds every page in this module. Every write goes through `access.services`."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.access import forms, queries, services
from citydata.access.manage_views import (  # noqa: F401 - urls.py names these pages through this module
    grant_act_view,
    grant_view,
    key_page,
    queue_view,
    refuse_on,
    sla_view,
    standing_view,
    templates_view,
)
from citydata.access.models import Attachment, Grant, Opinion, Panel, State
from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.errors import DomainError, Forbidden
from citydata.paging import paginate_desc
from citydata.security.middleware import client_ip

# --- applying ------------------------------------------------------------------------------------------------


def _apply_page(request, form, *, dataset=None, application=None, status=200):
    return render(
        request,
        "access/apply.html",
        {
            "form": form,
            "groups": form.groups(),
            "dataset": dataset,
            "application": application,
            "department": application.department if application else dataset.department,
            "commitment_text": services.COMMITMENT_TEXT,
        },
        status=status,
    )


def _save_application(request, form, *, application=None):
    """Save (and, with the submit button, submit) from a valid form; None with errors put on the form."""
    submitting = "submit" in request.POST
    data = form.cleaned_data
    try:
        with transaction.atomic():  # a refused submission leaves no half-saved draft behind
            saved = services.application_save(
                by=request.user,
                items=form.items(),
                purpose=data["purpose"],
                scenario=data["scenario"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                expected_volume=data["expected_volume"],
                security_measures=data["security_measures"],
                organisation=data["organisation"],
                application=application,
            )
            if submitting:
                services.application_submit(by=request.user, application=saved, commitment=data["commitment"])
    except DomainError as exc:
        refuse_on(form, exc)
        return None
    if submitting:
        messages.success(request, _("申请 %(n)s 已提交，部门将在规定的工作日内受理。") % {"n": saved.number})
    else:
        messages.success(request, _("草稿 %(n)s 已保存。") % {"n": saved.number})
    return redirect("access:application", number=saved.number)


@login_required
def apply_view(request):
    """The application form for one department's conditional datasets (`?dataset=<slug>` picks the department)."""
    authz.authorize(request.user, "application.create")
    slug = request.GET.get("dataset", "")
    if not slug:
        page = paginate_desc(queries.conditional_datasets(), key="id", cursor=request.GET.get("cursor"), limit=50)
        return render(request, "access/apply_choose.html", {"page": page})
    dataset = get_object_or_404(queries.conditional_datasets(), slug=slug[:100])
    datasets = list(queries.conditional_datasets(dataset.department))
    if request.method == "POST":
        form = forms.ApplicationForm(
            request.POST, user=request.user, datasets=datasets, submitting="submit" in request.POST
        )
        if form.is_valid():
            done = _save_application(request, form)
            if done is not None:
                return done
        return _apply_page(request, form, dataset=dataset, status=400)
    initial = forms.ApplicationForm.initial_for(dataset=dataset)
    return _apply_page(
        request, forms.ApplicationForm(initial=initial, user=request.user, datasets=datasets), dataset=dataset
    )


@login_required
def edit_view(request, number: str):
    application = queries.application_for(request.user, number)
    authz.authorize(request.user, "application.edit", application)
    if application.state not in (State.DRAFT, State.RETURNED):
        raise DomainError(_("只有草稿或退回补正的申请可以修改。"), code="invalid_transition")
    datasets = list(queries.conditional_datasets(application.department))
    if request.method == "POST":
        form = forms.ApplicationForm(
            request.POST, user=request.user, datasets=datasets, submitting="submit" in request.POST
        )
        if form.is_valid():
            done = _save_application(request, form, application=application)
            if done is not None:
                return done
        return _apply_page(request, form, application=application, status=400)
    form = forms.ApplicationForm(
        initial=forms.ApplicationForm.initial_for(application), user=request.user, datasets=datasets
    )
    return _apply_page(request, form, application=application)


@login_required
def mine_view(request):
    """The signed-in person's applications and grants, newest first."""
    applications = paginate_desc(
        queries.applications_of(request.user), key="id", cursor=request.GET.get("cursor"), limit=20
    )
    grants = paginate_desc(queries.grants_of(request.user), key="id", cursor=request.GET.get("gcursor"), limit=20)
    return render(request, "access/mine.html", {"applications": applications, "grants": grants})


# --- the case ----------------------------------------------------------------------------------------------


ACTION_FORMS = {
    "submit": forms.SubmitForm,
    "withdraw": forms.WithdrawForm,
    "return": forms.ReturnForm,
    "approve": forms.DecideForm,
    "reject": forms.DecideForm,
}


def _case_page(request, application, *, status=200, **bound):
    allowed = queries.allowed_actions(request.user, application)
    action_forms = {name: bound.get(name) or form() for name, form in ACTION_FORMS.items()}
    panels = list(application.panels.prefetch_related("opinions__expert").order_by("id"))
    events = list(application.events.select_related("actor"))
    for event in events:
        event.label = State(event.to_state).label if event.to_state in State.values else event.to_state
    for panel in panels:
        panel.visible_opinions = panel.closed_at is not None or authz.can(request.user, "panel.create")
    return render(
        request,
        "access/application.html",
        {
            "application": application,
            "items": list(application.items.select_related("dataset")),
            "attachments": list(application.attachments.defer("content").order_by("id")),
            "events": events,
            "panels": panels,
            "clock": queries.clock(application),
            "allowed": allowed,
            "forms": action_forms,
            "attachment_form": bound.get("attachment") or forms.AttachmentForm(),
            "grant": Grant.objects.filter(application=application).first(),
            "commitment_text": services.COMMITMENT_TEXT,
            "is_applicant": application.applicant_id == request.user.pk,
        },
        status=status,
    )


@login_required
def application_view(request, number: str):
    application = queries.application_for(request.user, number)
    return _case_page(request, application)


@login_required
@require_POST
def act_view(request, number: str, action: str):
    """One step of the workflow from the case page: submit, withdraw, accept, return, evaluate, approve, reject."""
    if action not in {"submit", "withdraw", "accept", "return", "evaluate", "approve", "reject"}:
        raise Http404
    application = queries.application_for(request.user, number)
    form = ACTION_FORMS[action](request.POST) if action in ACTION_FORMS else None
    if form is not None and not form.is_valid():
        return _case_page(request, application, status=400, **{action: form})
    data = form.cleaned_data if form is not None else {}
    by = request.user
    try:
        if action == "submit":
            services.application_submit(by=by, application=application, commitment=data["commitment"])
            done = _("申请已提交。")
        elif action == "withdraw":
            services.application_withdraw(by=by, application=application, reason=data["reason"])
            done = _("申请已撤回。")
        elif action == "accept":
            services.application_accept(by=by, application=application)
            done = _("已受理。")
        elif action == "return":
            services.application_return(by=by, application=application, missing=data["missing"])
            done = _("已退回补正，受理时限暂停计算。")
        elif action == "evaluate":
            services.application_evaluate(by=by, application=application)
            done = _("已开始评估。")
        else:
            approve = action == "approve"
            services.application_decide(by=by, application=application, approve=approve, reason=data["reason"])
            done = _("已批准，申请人可签署开放利用协议。") if approve else _("已决定不予通过，理由已告知申请人。")
    except DomainError as exc:
        if exc.status == 403:
            raise
        if form is None:
            messages.error(request, str(exc.message))
            application.refresh_from_db()
            return _case_page(request, application, status=exc.status)
        apply_domain_error(form, exc)
        application.refresh_from_db()
        return _case_page(request, application, status=exc.status, **{action: form})
    messages.success(request, done)
    return redirect("access:application", number=number)


@login_required
@require_POST
def attachment_upload_view(request, number: str):
    application = queries.application_for(request.user, number)
    authz.authorize(request.user, "application.edit", application)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["attachment"]
        content = upload.read(services.MAX_ATTACHMENT_BYTES + 1)
        try:
            services.attachment_add(by=request.user, application=application, name=upload.name, content=content)
        except DomainError as exc:
            refuse_on(form, exc)
        else:
            messages.success(request, _("附件 %(name)s 已上传。") % {"name": upload.name})
            return redirect("access:application", number=number)
    return _case_page(request, application, status=400, attachment=form)


@login_required
def attachment_view(request, number: str, pk: int):
    application = queries.application_for(request.user, number)
    attachment = get_object_or_404(Attachment, pk=pk, application=application)
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the agreement and the key -------------------------------------------------------------------------------


@login_required
def agreement_view(request, number: str):
    """The agreement filled with this case's terms; signing it issues the grant and shows its key once."""
    application = queries.application_for(request.user, number)
    signed = getattr(application, "agreement", None) if application.state != State.APPROVED else None
    if signed is not None:
        grant = Grant.objects.filter(application=application).first()
        return render(request, "access/agreement.html", {"application": application, "signed": signed, "grant": grant})
    authz.authorize(request.user, "application.edit", application)
    if application.state != State.APPROVED:
        raise DomainError(_("申请获批后才能签署开放利用协议。"), code="invalid_transition")
    form = forms.AgreementForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                grant, secret = services.agreement_accept(
                    by=request.user,
                    application=application,
                    sha256=form.cleaned_data["sha256"],
                    ip=client_ip(request),
                )
            except DomainError as exc:
                refuse_on(form, exc)
            else:
                return key_page(request, grant, secret)
        status = 400
    template = services.current_template()
    text = services.agreement_text(application, template)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return render(
        request,
        "access/agreement.html",
        {"application": application, "template": template, "text": text, "sha256": digest, "form": form},
        status=status,
    )


# --- expert panels ---------------------------------------------------------------------------------------------


@login_required
def panel_new_view(request, number: str):
    """Operators form a panel of at least two experts from the pool for a case under evaluation."""
    application = queries.application_for(request.user, number)
    authz.authorize(request.user, "panel.create")
    if application.state != State.EVALUATING:
        raise DomainError(_("只有评估中的申请可以提交专家议事。"), code="invalid_transition")
    initial = {"subject": _("关于申请 %(n)s 的专家议事") % {"n": application.number}}
    form = forms.PanelForm(request.POST or None, initial=initial)
    if request.method == "POST" and (created := _panel_from(request, form, application=application)):
        return created
    return render(
        request,
        "access/panel_new.html",
        {"application": application, "form": form, "items": list(application.items.select_related("dataset"))},
        status=400 if form.errors else 200,
    )


def _panel_from(request, form, **subject):
    """Form the panel a valid form describes, on an application or a dataset; None (errors on the form) if refused."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        panel = services.panel_create(
            by=request.user,
            subject=data["subject"],
            question=data["question"],
            members=list(data["experts"]),
            workdays=data["workdays"],
            **subject,
        )
    except DomainError as exc:
        refuse_on(form, exc)
        return None
    messages.success(request, _("专家议事已发起，已通知所选专家。"))
    return redirect("access:panel", pk=panel.pk)


@login_required
def panel_view(request, pk: int):
    """Experts give their vote and opinion before the deadline; the operator reads them all and closes."""
    panel = queries.panel_for(request.user, pk)
    mine = Opinion.objects.filter(panel=panel, expert=request.user).first()
    operator = authz.can(request.user, "panel.create")
    opinion_form = forms.OpinionForm(
        request.POST if request.method == "POST" and request.POST.get("form") == "opinion" else None,
        initial={"vote": mine.vote, "text": mine.text} if mine and mine.submitted_at else None,
    )
    close_form = forms.PanelCloseForm(
        request.POST if request.method == "POST" and request.POST.get("form") == "close" else None
    )
    if request.method == "POST":
        posted = request.POST.get("form")
        if posted == "opinion":
            if mine is None:
                raise Forbidden(_("您不是该专家组成员。"))
            if opinion_form.is_valid():
                try:
                    services.opinion_submit(
                        by=request.user,
                        panel=panel,
                        vote=opinion_form.cleaned_data["vote"],
                        text=opinion_form.cleaned_data["text"],
                    )
                except DomainError as exc:
                    refuse_on(opinion_form, exc)
                else:
                    messages.success(request, _("您的意见已提交，截止前可以修改。"))
                    return redirect("access:panel", pk=pk)
        elif posted == "close":
            authz.authorize(request.user, "panel.create")
            if close_form.is_valid():
                try:
                    services.panel_close(by=request.user, panel=panel, summary=close_form.cleaned_data["summary"])
                except DomainError as exc:
                    refuse_on(close_form, exc)
                else:
                    messages.success(request, _("议事已结束，结论已记录。"))
                    return redirect("access:panel", pk=pk)
        else:
            raise DomainError(_("未知的操作。"), code="unknown_action")
    opinions = list(panel.opinions.select_related("expert").order_by("id"))
    application = panel.application
    return render(
        request,
        "access/panel.html",
        {
            "panel": panel,
            "application": application,
            "items": list(application.items.select_related("dataset")) if application else [],
            "mine": mine,
            "operator": operator,
            "opinions": opinions,
            "show_opinions": operator or panel.closed_at is not None,
            "submitted": sum(1 for o in opinions if o.submitted_at),
            "can_give": mine is not None and panel.closed_at is None and not panel_deadline_passed(panel),
            "opinion_form": opinion_form,
            "close_form": close_form,
        },
        status=400 if (opinion_form.errors or close_form.errors) else 200,
    )


def panel_deadline_passed(panel: Panel) -> bool:
    return timezone.now() > panel.deadline


@login_required
def dispute_panel_view(request):
    """Operators form a panel on a classification dispute about a dataset (no application involved)."""
    authz.authorize(request.user, "panel.create")
    initial = {"dataset": request.GET.get("dataset", "")[:100], "subject": _("分级分类争议")}
    form = forms.DisputePanelForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and (created := _panel_from(request, form, dataset=form.cleaned_data["dataset"]))
    ):
        return created
    return render(request, "access/panel_dispute.html", {"form": form}, status=400 if form.errors else 200)
