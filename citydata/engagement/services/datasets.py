"""Feedback on one dataset: comments (moderated), ratings, and error reports (纠错) answered by its department."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.accounts.notify import notify
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.engagement import signals
from citydata.engagement.models import (
    Comment,
    CommentStatus,
    ErrorReport,
    ErrorReportStatus,
    ModerationMode,
    ModerationPolicy,
    Rating,
)
from citydata.engagement.services.common import (
    ERROR_REPORT_WORKDAYS,
    check_rate,
    clean_text,
    day_label,
    due_after,
    responders,
    url_of,
)
from citydata.errors import Conflict, DomainError
from citydata.security import audit

COMMENT_MAX = 1000
PROBLEM_MAX = 1000


def _require_published(dataset: Dataset) -> None:
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(_("该数据集未发布，暂不能发表反馈。"), code="not_published")


def moderation_mode() -> str:
    policy = ModerationPolicy.objects.filter(pk=1).first()
    return policy.mode if policy else ModerationMode.POST


@transaction.atomic
def moderation_mode_set(*, by: User, mode: str) -> ModerationPolicy:
    """Operators choose whether comments appear at once (post-moderation) or after approval (pre-moderation)."""
    authz.authorize(by, "feedback.settings")
    if mode not in ModerationMode.values:
        raise DomainError(_("请选择审核方式。"), details={"field": "mode"})
    policy, _created = ModerationPolicy.objects.select_for_update().get_or_create(pk=1)
    before = policy.mode
    policy.mode, policy.updated_by, policy.updated_at = mode, by, timezone.now()
    policy.save()
    audit.record(by, "feedback.moderation_mode", policy, changes={"mode": {"before": before, "after": mode}})
    return policy


# --- comments -------------------------------------------------------------------------------------------


@transaction.atomic
def comment_submit(*, by: User, dataset: Dataset, body: str, ip: str | None = None) -> Comment:
    authz.authorize(by, "feedback.post", dataset)
    _require_published(dataset)
    body = clean_text(body, field="body", label=_("评论内容"), max_length=COMMENT_MAX)
    check_rate("comment", Comment, who_field="author", who=by, ip=ip)
    pre = moderation_mode() == ModerationMode.PRE
    comment = Comment.objects.create(
        dataset=dataset, author=by, body=body, ip=ip, status=CommentStatus.PENDING if pre else CommentStatus.PUBLISHED
    )
    audit.record(by, "comment.submit", comment, changes={"dataset": dataset.slug, "status": comment.status})
    return comment


@transaction.atomic
def comment_approve(*, by: User, comment: Comment) -> Comment:
    """Publish a comment waiting for pre-moderation, or show again one hidden by mistake."""
    authz.authorize(by, "feedback.moderate", comment.dataset)
    if comment.status == CommentStatus.PUBLISHED:
        raise Conflict(_("该评论已经发布。"), code="already_published")
    before = comment.status
    Comment.objects.filter(pk=comment.pk).update(
        status=CommentStatus.PUBLISHED, hidden_reason="", moderated_by=by, moderated_at=timezone.now()
    )
    comment.refresh_from_db()
    audit.record(by, "comment.approve", comment, changes={"status": {"before": before, "after": comment.status}})
    return comment


@transaction.atomic
def comment_reply(*, by: User, comment: Comment, reply: str) -> Comment:
    """The department's (or an operator's) public reply under a comment."""
    authz.authorize(by, "feedback.answer", comment.dataset)
    reply = clean_text(reply, field="reply", label=_("回复内容"), max_length=COMMENT_MAX)
    Comment.objects.filter(pk=comment.pk).update(reply=reply, replied_by=by, replied_at=timezone.now())
    comment.refresh_from_db()
    audit.record(by, "comment.reply", comment)
    notify(comment.author, _("您的评论收到了回复"), reply[:200], url=url_of(comment))
    return comment


# --- ratings --------------------------------------------------------------------------------------------


@transaction.atomic
def rating_set(*, by: User, dataset: Dataset, score: Any, reason: str = "") -> Rating:
    """Rate a dataset 1–5 with a short reason; a second call changes the user's one rating."""
    authz.authorize(by, "feedback.post", dataset)
    _require_published(dataset)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError(_("评分应为 1 到 5 之间的整数。"), code="invalid_score", details={"field": "score"})
    reason = clean_text(reason, field="reason", label=_("理由"), max_length=200, required=False)
    rating = Rating.objects.select_for_update().filter(dataset=dataset, user=by).first()
    now = timezone.now()
    if rating is None:
        rating = Rating.objects.create(
            dataset=dataset, user=by, score=score, reason=reason, created_at=now, updated_at=now
        )
        audit.record(by, "rating.set", rating, changes={"dataset": dataset.slug, "score": score})
        return rating
    before = {"score": rating.score, "reason": rating.reason}
    rating.score, rating.reason, rating.updated_at = score, reason, now
    if before["reason"] != reason:
        rating.hidden_reason = ""  # a new reason is judged afresh
    rating.save()
    audit.record(by, "rating.set", rating, changes=audit.diff(before, {"score": score, "reason": reason}))
    return rating


@transaction.atomic
def rating_delete(*, by: User, rating: Rating) -> None:
    if rating.user_id != by.pk:
        authz.authorize(by, "feedback.moderate", rating.dataset)
    audit.record(by, "rating.delete", rating, changes={"score": rating.score})
    rating.delete()


# --- error reports (纠错) --------------------------------------------------------------------------------


@transaction.atomic
def error_report_submit(
    *,
    by: User,
    dataset: Dataset,
    problem: str,
    field_name: str = "",
    row_ref: str = "",
    correction: str = "",
    ip: str | None = None,
) -> ErrorReport:
    """File an error report on a published dataset; it goes to the dataset's department with a deadline."""
    authz.authorize(by, "feedback.post", dataset)
    _require_published(dataset)
    problem = clean_text(problem, field="problem", label=_("问题描述"), max_length=PROBLEM_MAX)
    row_ref = clean_text(row_ref, field="row_ref", label=_("行或记录"), max_length=100, required=False)
    correction = clean_text(correction, field="correction", label=_("正确内容"), max_length=200, required=False)
    field_title = ""
    field_name = (field_name or "").strip()
    if field_name:
        field = dataset.fields.filter(name=field_name).first()
        if field is None:
            raise DomainError(_("该数据集没有这个字段。"), code="unknown_field", details={"field": "field_name"})
        field_title = field.title
    check_rate("error_report", ErrorReport, who_field="reporter", who=by, ip=ip)
    now = timezone.now()
    report = ErrorReport.objects.create(
        dataset=dataset,
        department=dataset.department,
        reporter=by,
        field_name=field_name,
        field_title=field_title,
        row_ref=row_ref,
        problem=problem,
        correction=correction,
        created_at=now,
        due_at=due_after(now, ERROR_REPORT_WORKDAYS),
        ip=ip,
    )
    audit.record(by, "error_report.submit", report, changes={"dataset": dataset.slug, "field": field_name})
    notify(
        responders(dataset.department),
        _("数据集《%(title)s》收到纠错") % {"title": dataset.title},
        _("请在 %(due)s 前核实并公开答复。问题：%(problem)s")
        % {"due": day_label(report.due_at), "problem": problem[:200]},
        url=url_of(report),
    )
    return report


def _locked_report(report: ErrorReport) -> ErrorReport:
    return ErrorReport.objects.select_for_update(of=("self",)).select_related("dataset", "department").get(pk=report.pk)


@transaction.atomic
def error_report_answer(*, by: User, report: ErrorReport, confirmed: bool, answer: str) -> ErrorReport:
    """The department's public answer: the report is right (a rectification follows) or the data is correct."""
    report = _locked_report(report)
    authz.authorize(by, "feedback.answer", report)
    if report.status != ErrorReportStatus.OPEN:
        raise Conflict(_("该纠错已经答复过。"), code="already_answered")
    answer = clean_text(answer, field="answer", label=_("答复内容"), max_length=PROBLEM_MAX)
    report.status = ErrorReportStatus.CONFIRMED if confirmed else ErrorReportStatus.REJECTED
    report.answer, report.answered_by, report.answered_at = answer, by, timezone.now()
    report.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    audit.record(by, "error_report.answer", report, changes={"status": report.status}, note=answer)
    if report.reporter:
        notify(
            report.reporter,
            _("您对《%(title)s》的纠错已答复：%(status)s")
            % {"title": report.dataset.title, "status": report.get_status_display()},
            answer[:300],
            url=url_of(report),
        )
    if confirmed:
        # The quality app turns a confirmed report into a rectification task (整改) with its own deadline.
        signals.error_report_confirmed.send(sender=ErrorReport, report=report, by=by)
    return report


@transaction.atomic
def error_report_resolve(*, by: User | None, report: ErrorReport, note: str = "") -> ErrorReport:
    """Mark a confirmed report fixed (the department, an operator, or the quality app when its rectification
    task closes, with `by=None`)."""
    report = _locked_report(report)
    if by is not None:
        authz.authorize(by, "feedback.answer", report)
    if report.status != ErrorReportStatus.CONFIRMED:
        raise Conflict(_("只有已确认的纠错可以标记为已修正。"), code="not_confirmed")
    note = clean_text(note, field="note", label=_("修正说明"), max_length=PROBLEM_MAX, required=False)
    report.status, report.resolved_at = ErrorReportStatus.RESOLVED, timezone.now()
    if note:
        report.answer = f"{report.answer}\n\n{_('修正说明')}：{note}".strip()
    report.save(update_fields=["status", "resolved_at", "answer"])
    audit.record(by, "error_report.resolve", report, note=note)
    if by is not None:  # the quality app's own closing calls this with by=None
        from citydata.engagement.signals import error_report_resolved

        error_report_resolved.send(sender=ErrorReport, report=report, by=by)
    if report.reporter:
        notify(
            report.reporter,
            _("您对《%(title)s》的纠错已修正") % {"title": report.dataset.title},
            note[:300],
            url=url_of(report),
        )
    return report
