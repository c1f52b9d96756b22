"""What every feedback service shares: text checks, posting limits, who answers, deadlines, links, hiding."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import Department, Role, RoleAssignment, Stage, User
from citydata.errors import DomainError, TooManyRequests
from citydata.security import audit
from citydata.workdays import calendar
from citydata.workdays.calendar import CalendarMissing, WorkCalendar

logger = logging.getLogger("citydata.engagement")

# Working days to answer, counted from the day after submission (docs/engagement.md).
ERROR_REPORT_WORKDAYS = 5
DATA_REQUEST_WORKDAYS = 10
COMPLAINT_WORKDAYS = 3
SUGGESTION_WORKDAYS = 10

# Posting limits: (per hour, per day) for one user, or for one IP address when nobody is logged in.
LIMITS: dict[str, tuple[int, int]] = {
    "comment": (10, 50),
    "error_report": (10, 30),
    "data_request": (5, 20),
    "suggestion": (5, 10),
    "complaint": (5, 10),
    "complaint_anonymous": (3, 10),
}
# Everyone behind one address together may post this many times the per-user limit (shared offices, NAT).
IP_FACTOR = 5


def clean_text(value: Any, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    """The text as stored: stripped, no control characters, within its length; refused with the field named."""
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, code="required", details={"field": field})
    if len(text) > max_length:
        raise DomainError(
            _("%(label)s不超过 %(n)s 个字。") % {"label": label, "n": max_length},
            code="too_long",
            details={"field": field},
        )
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise DomainError(_("%(label)s含有无效字符。") % {"label": label}, code="invalid", details={"field": field})
    return text


def check_rate(kind: str, model: type[models.Model], *, who_field: str, who: Any, ip: str | None) -> None:
    """Refuse a new post when its author (or, anonymously, its address) has posted too much lately."""
    hourly, daily = LIMITS[kind]
    now = timezone.now()
    recent = model._default_manager.filter(created_at__gt=now - dt.timedelta(days=1))
    checks = []
    if who is not None and getattr(who, "is_authenticated", False):
        checks.append((recent.filter(**{who_field: who}), hourly, daily))
        if ip:
            checks.append((recent.filter(ip=ip), hourly * IP_FACTOR, daily * IP_FACTOR))
    else:
        checks.append((recent.filter(ip=ip) if ip else recent.filter(ip__isnull=True), hourly, daily))
    for queryset, per_hour, per_day in checks:
        if queryset.filter(created_at__gt=now - dt.timedelta(hours=1)).count() >= per_hour:
            raise TooManyRequests(
                _("提交过于频繁：每小时最多 %(n)s 条，请稍后再试。") % {"n": per_hour},
                code="rate_limited",
                details={"retry_after": 3600},
            )
        if queryset.count() >= per_day:
            raise TooManyRequests(
                _("今天提交的数量已达上限（%(n)s 条），请明天再试。") % {"n": per_day},
                code="rate_limited",
                details={"retry_after": 86400},
            )


def operators() -> list[User]:
    return [a.user for a in RoleAssignment.objects.filter(role=Role.OPERATOR).select_related("user")]


def responders(department: Department | None, stage: str = Stage.FEEDBACK) -> list[User]:
    """Who answers feedback for a department: its named staff for the stage (专人专岗, 反馈答复), else all its
    provider staff; the operators when there is no department."""
    if department is None:
        return operators()
    named = [d.user for d in department.duties.select_related("user").filter(stage=stage)]
    if named:
        return named
    staff = RoleAssignment.objects.filter(role=Role.PROVIDER, department=department).select_related("user")
    return [a.user for a in staff]


def due_after(start: dt.datetime, workdays: int) -> dt.datetime:
    """The deadline `workdays` working days after `start`. A year whose holidays nobody has entered yet is
    counted as a plain Monday–Friday week rather than refusing the user's submission (and logged)."""
    try:
        return calendar.deadline(start, workdays)
    except CalendarMissing as exc:
        logger.warning("working-day calendar for %s is missing; counting a plain week for a deadline", exc.year)
        current = calendar.current()
        relaxed = WorkCalendar(
            overrides=current.overrides, confirmed_years=current.confirmed_years | {exc.year, exc.year + 1}
        )
        return calendar.deadline(start, workdays, calendar=relaxed)


def day_label(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


def url_of(obj: models.Model) -> str:
    """The public page of a feedback item (complaints: the page behind its secret link)."""
    from citydata.engagement.models import Comment, Complaint, DataRequest, ErrorReport, Rating, Suggestion

    if isinstance(obj, ErrorReport):
        return reverse("engagement:report_detail", args=[obj.dataset.slug, obj.pk])
    if isinstance(obj, DataRequest):
        return reverse("engagement:request_detail", args=[obj.pk])
    if isinstance(obj, Suggestion):
        return reverse("engagement:suggestion_detail", args=[obj.pk])
    if isinstance(obj, Complaint):
        return reverse("engagement:complaint_detail", args=[obj.token])
    if isinstance(obj, Comment | Rating):
        return reverse("catalog:dataset_detail", args=[obj.dataset.slug]) + "#feedback"
    raise TypeError(type(obj).__name__)


def department_of(obj: models.Model) -> Department | None:
    department = getattr(obj, "department", None)
    if department is None and hasattr(obj, "dataset"):
        department = obj.dataset.department
    return department


@transaction.atomic
def content_hide(*, by: User, obj: models.Model, reason: str) -> models.Model:
    """Stop showing a user's text in public (a comment, a rating's reason, an error report, a data request, a
    suggestion), with the reason shown in its place. Status and answers stay."""
    from citydata.engagement.models import Comment, CommentStatus, Rating, Suggestion

    authz.authorize(by, "suggestion.answer" if isinstance(obj, Suggestion) else "feedback.moderate", department_of(obj))
    reason = clean_text(reason, field="reason", label=_("屏蔽原因"), max_length=200)
    now = timezone.now()
    values: dict[str, Any] = {"hidden_reason": reason}
    if isinstance(obj, Comment):
        values.update(status=CommentStatus.HIDDEN, moderated_by=by, moderated_at=now)
    elif not isinstance(obj, Rating) and not hasattr(obj, "hidden_reason"):
        raise TypeError(type(obj).__name__)
    type(obj)._default_manager.filter(pk=obj.pk).update(**values)
    obj.refresh_from_db()
    audit.record(by, f"{obj._meta.model_name}.hide", obj, note=reason)
    author = getattr(obj, "author", None) or getattr(obj, "user", None) or getattr(obj, "reporter", None)
    if author is None:
        author = getattr(obj, "requester", None)
    if author is not None:
        from citydata.accounts.notify import notify

        notify(
            author,
            _("您发表的内容已被屏蔽"),
            _("原因：%(reason)s。如有异议，可通过平台建议反馈。") % {"reason": reason},
            url=url_of(obj),
        )
    return obj
