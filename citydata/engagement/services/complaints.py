"""Complaints and reports (投诉举报, R8.3): exposed personal data on a dataset goes to its department and the
operators with a deadline; either may take the dataset down in one step pending review; the reporter is told
the outcome (by in-app message, or by e-mail to the address an anonymous reporter left)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import Stage, User
from citydata.accounts.notify import notify
from citydata.accounts.services import normalize_identifier
from citydata.catalog import services as catalog_services
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.engagement.models import Complaint, ComplaintKind, ComplaintStatus
from citydata.engagement.services.common import (
    COMPLAINT_WORKDAYS,
    check_rate,
    clean_text,
    day_label,
    due_after,
    operators,
    responders,
    url_of,
)
from citydata.errors import Conflict, DomainError
from citydata.security import audit

logger = logging.getLogger("citydata.engagement")
TEXT_MAX = 2000


def handlers(complaint: Complaint) -> list[User]:
    """The department's feedback and security staff, and every operator."""
    department = complaint.dataset.department
    return [*responders(department), *responders(department, Stage.SECURITY), *operators()]


def _clean_contact(contact: str) -> str:
    contact = clean_text(contact, field="contact", label=_("联系方式"), max_length=254, required=True)
    kind, value = normalize_identifier(contact)
    if kind is None:
        raise DomainError(
            _("请填写有效的手机号或电子邮箱，以便告知处理结果。"), code="invalid_contact", details={"field": "contact"}
        )
    return value


@transaction.atomic
def complaint_submit(
    *,
    by: Any,
    dataset: Dataset,
    description: str,
    kind: str = ComplaintKind.PERSONAL_DATA,
    location: str = "",
    contact: str = "",
    ip: str | None = None,
) -> Complaint:
    """Anyone may complain. Logged-in reporters are told the outcome in the platform; anonymous ones must
    leave a mobile number or e-mail address, and are limited per IP address."""
    logged_in = by is not None and getattr(by, "is_authenticated", False)
    if logged_in:
        authz.authorize(by, "feedback.post", dataset)
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(_("该数据集当前未公开。"), code="not_published")
    if kind not in ComplaintKind.values:
        raise DomainError(_("请选择投诉类型。"), code="invalid_kind", details={"field": "kind"})
    description = clean_text(description, field="description", label=_("情况说明"), max_length=TEXT_MAX)
    location = clean_text(location, field="location", label=_("位置"), max_length=200, required=False)
    contact = _clean_contact(contact) if (contact or not logged_in) else ""
    check_rate(
        "complaint" if logged_in else "complaint_anonymous",
        Complaint,
        who_field="reporter",
        who=by if logged_in else None,
        ip=ip,
    )
    now = timezone.now()
    complaint = Complaint.objects.create(
        dataset=dataset,
        department=dataset.department,
        reporter=by if logged_in else None,
        contact=contact,
        kind=kind,
        location=location,
        description=description,
        created_at=now,
        due_at=due_after(now, COMPLAINT_WORKDAYS),
        ip=ip,
    )
    # The description may itself quote the personal data: it stays out of the audit record and messages.
    audit.record(by, "complaint.submit", complaint, changes={"dataset": dataset.slug, "kind": kind})
    notify(
        handlers(complaint),
        _("数据集《%(title)s》收到投诉举报：%(kind)s") % {"title": dataset.title, "kind": complaint.get_kind_display()},
        _("请在 %(due)s 前核查处理；如情况紧急，可先将数据集下线。") % {"due": day_label(complaint.due_at)},
        url=url_of(complaint),
    )
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related("dataset__department").get(pk=complaint.pk)


@transaction.atomic
def complaint_take_down(*, by: User, complaint: Complaint) -> Complaint:
    """One step: withdraw the dataset (the catalog's own withdrawal, with the public reason) pending review."""
    complaint = _locked(complaint)
    authz.authorize(by, "complaint.handle", complaint)
    if complaint.status != ComplaintStatus.OPEN:
        raise Conflict(_("该投诉已在处理或已办结。"), code="invalid_transition")
    if complaint.dataset.status == DatasetStatus.PUBLISHED:
        catalog_services.dataset_withdraw(
            by=by, dataset=complaint.dataset, reason=_("因收到投诉举报，数据集暂时下线核查。")
        )
    complaint.status, complaint.taken_down_at, complaint.taken_down_by = ComplaintStatus.TAKEN_DOWN, timezone.now(), by
    complaint.save(update_fields=["status", "taken_down_at", "taken_down_by"])
    audit.record(by, "complaint.take_down", complaint, changes={"dataset": complaint.dataset.slug})
    notify(
        handlers(complaint),
        _("数据集《%(title)s》已因投诉举报下线") % {"title": complaint.dataset.title},
        _("请核查并在 %(due)s 前给出处理结果。") % {"due": day_label(complaint.due_at)},
        url=url_of(complaint),
    )
    return complaint


@transaction.atomic
def complaint_resolve(*, by: User, complaint: Complaint, upheld: bool, answer: str) -> Complaint:
    """The outcome. Upheld: the dataset stays down until its department fixes the data and publishes it
    again. Dismissed: a dataset this complaint took down is published again (if the catalog allows it now)."""
    complaint = _locked(complaint)
    authz.authorize(by, "complaint.handle", complaint)
    if complaint.status not in (ComplaintStatus.OPEN, ComplaintStatus.TAKEN_DOWN):
        raise Conflict(_("该投诉已经办结。"), code="invalid_transition")
    answer = clean_text(answer, field="answer", label=_("处理结果"), max_length=TEXT_MAX)
    now = timezone.now()
    dataset = complaint.dataset
    if not upheld and complaint.taken_down_at and dataset.status == DatasetStatus.WITHDRAWN:
        try:
            catalog_services.dataset_publish(by=by, dataset=dataset)
        except DomainError as exc:
            # The catalog refuses (e.g. the standard changed meanwhile): the department republishes later.
            answer += "\n" + _("数据集暂未恢复上线：%(reason)s") % {"reason": exc.message}
        else:
            complaint.restored_at = now
    complaint.status = ComplaintStatus.UPHELD if upheld else ComplaintStatus.DISMISSED
    complaint.answer, complaint.answered_by, complaint.answered_at = answer, by, now
    complaint.save()
    audit.record(by, "complaint.resolve", complaint, changes={"status": complaint.status}, note=answer)
    subject = _("您的投诉举报已处理：%(status)s") % {"status": complaint.get_status_display()}
    if complaint.reporter:
        notify(complaint.reporter, subject, answer[:300], url=url_of(complaint))
    elif complaint.contact and "@" in complaint.contact:
        _mail_reporter(complaint.contact, subject, f"{answer}\n\n{settings.PUBLIC_URL}{url_of(complaint)}")
    # A mobile number gets nothing pushed: the reporter follows the secret link shown after submitting.
    return complaint


def _mail_reporter(address: str, subject: str, text: str) -> None:
    def send() -> None:
        try:
            send_mail(
                subject=f"[{settings.PLATFORM_NAME}] {subject}",
                message=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
            )
        except Exception:  # a mail outage must not undo the outcome; the reporter's link still shows it
            logger.exception("complaint outcome e-mail failed")

    transaction.on_commit(send)
