"""Reads of the engagement app shared by the pages and the API: a dataset's feedback, the public lists of
error reports and data requests, the staff's inboxes, and the reply-time dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import Department
from citydata.catalog.models import Dataset
from citydata.engagement.models import (
    Comment,
    CommentStatus,
    Complaint,
    ComplaintStatus,
    DataRequest,
    DataRequestSource,
    DataRequestStatus,
    ErrorReport,
    ErrorReportStatus,
    Rating,
    Suggestion,
    SuggestionStatus,
)
from citydata.errors import DomainError
from citydata.paging import Page, paginate_desc

# --- one dataset ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    # (score, count, percent of all ratings) from 5 down to 1
    distribution: list[tuple[int, int, int]]


def rating_summary(dataset: Dataset) -> RatingSummary:
    rows = dict(Rating.objects.filter(dataset=dataset).values_list("score").annotate(n=Count("id")).order_by())
    count = sum(rows.values())
    average = round(sum(score * n for score, n in rows.items()) / count, 1) if count else None
    distribution = [(s, rows.get(s, 0), round(rows.get(s, 0) * 100 / count) if count else 0) for s in range(5, 0, -1)]
    return RatingSummary(count=count, average=average, distribution=distribution)


def visible_comments(dataset: Dataset, user=None) -> QuerySet[Comment]:
    """Published comments, hidden ones (shown as hidden with the reason) and the user's own pending ones."""
    shown = Q(status__in=(CommentStatus.PUBLISHED, CommentStatus.HIDDEN))
    if user is not None and user.is_authenticated:
        shown |= Q(author=user)
    return Comment.objects.filter(shown, dataset=dataset).select_related("author")


def comments_page(dataset: Dataset, user=None, *, cursor: str | None = None, limit: Any = 20) -> Page:
    return paginate_desc(visible_comments(dataset, user), key="id", cursor=cursor, limit=limit)


def ratings_page(dataset: Dataset, *, cursor: str | None = None, limit: Any = 20) -> Page:
    return paginate_desc(
        Rating.objects.filter(dataset=dataset).select_related("user"), key="id", cursor=cursor, limit=limit
    )


def error_reports_page(dataset: Dataset, *, status: str = "", cursor: str | None = None, limit: Any = 20) -> Page:
    queryset = ErrorReport.objects.filter(dataset=dataset).select_related("dataset", "reporter")
    if status:
        if status not in ErrorReportStatus.values:
            raise DomainError(_("状态取值无效。"), code="invalid_filter", details={"field": "status"})
        queryset = queryset.filter(status=status)
    return paginate_desc(queryset, key="id", cursor=cursor, limit=limit)


@dataclass
class DatasetFeedback:
    """Everything the feedback section of a dataset page shows."""

    dataset: Dataset
    ratings: RatingSummary
    my_rating: Rating | None
    comments: list[Comment]
    more_comments: bool
    reports: list[ErrorReport]
    more_reports: bool
    open_reports: int
    can_moderate: bool
    requests: list[DataRequest] = field(default_factory=list)


def dataset_feedback(dataset: Dataset, user=None, *, shown: int = 5) -> DatasetFeedback:
    comments = comments_page(dataset, user, limit=shown)
    reports = error_reports_page(dataset, limit=shown)
    logged_in = user is not None and user.is_authenticated
    return DatasetFeedback(
        dataset=dataset,
        ratings=rating_summary(dataset),
        my_rating=Rating.objects.filter(dataset=dataset, user=user).first() if logged_in else None,
        comments=comments.items,
        more_comments=comments.next_cursor is not None,
        reports=reports.items,
        more_reports=reports.next_cursor is not None,
        open_reports=ErrorReport.objects.filter(dataset=dataset, status=ErrorReportStatus.OPEN).count(),
        can_moderate=logged_in and authz.can(user, "feedback.moderate", dataset),
        requests=list(DataRequest.objects.filter(dataset=dataset).order_by("-id")[:3]),
    )


# --- data requests --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFilter:
    """The filters of the public data-request list, from a page's query string or the API's parameters."""

    status: str = ""
    department: str = ""
    source: str = ""
    mine: bool = False

    @classmethod
    def from_params(cls, params) -> RequestFilter:
        status = (params.get("status") or "").strip()[:20]
        source = (params.get("source") or "").strip()[:20]
        if status and status not in DataRequestStatus.values:
            raise DomainError(_("状态取值无效。"), code="invalid_filter", details={"field": "status"})
        if source and source not in DataRequestSource.values:
            raise DomainError(_("来源取值无效。"), code="invalid_filter", details={"field": "source"})
        if any("\x00" in str(params.get(name) or "") for name in ("status", "department", "source")):
            raise DomainError(_("筛选条件含有无效字符。"), code="invalid_filter")
        mine = str(params.get("mine") or "").lower() in ("1", "true", "on")
        return cls(
            status=status, department=(params.get("department") or "").strip().upper()[:32], source=source, mine=mine
        )

    def apply(self, queryset: QuerySet[DataRequest], user=None) -> QuerySet[DataRequest]:
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.department:
            queryset = queryset.filter(department__code=self.department)
        if self.source:
            queryset = queryset.filter(source=self.source)
        if self.mine:
            queryset = (
                queryset.filter(requester=user) if user is not None and user.is_authenticated else queryset.none()
            )
        return queryset

    def as_query(self) -> dict[str, str]:
        return {
            k: v
            for k, v in {
                "status": self.status,
                "department": self.department,
                "source": self.source,
                "mine": "1" if self.mine else "",
            }.items()
            if v
        }


def data_requests_page(flt: RequestFilter, user=None, *, cursor: str | None = None, limit: Any = 20) -> Page:
    queryset = DataRequest.objects.select_related("department", "dataset", "requester")
    return paginate_desc(flt.apply(queryset, user), key="id", cursor=cursor, limit=limit)


# --- staff inboxes --------------------------------------------------------------------------------------

INBOXES: dict[str, Any] = {
    "reports": {
        "model": ErrorReport,
        "label": _("纠错"),
        "statuses": ErrorReportStatus,
        "waiting": [ErrorReportStatus.OPEN],
        "related": ("dataset", "department", "reporter"),
    },
    "requests": {
        "model": DataRequest,
        "label": _("数据需求"),
        "statuses": DataRequestStatus,
        "waiting": [DataRequestStatus.OPEN],
        "related": ("department", "dataset", "requester"),
    },
    "complaints": {
        "model": Complaint,
        "label": _("投诉举报"),
        "statuses": ComplaintStatus,
        "waiting": [ComplaintStatus.OPEN, ComplaintStatus.TAKEN_DOWN],
        "related": ("dataset", "department", "reporter"),
    },
    "comments": {
        "model": Comment,
        "label": _("评论"),
        "statuses": CommentStatus,
        "waiting": [CommentStatus.PENDING],
        "related": ("dataset__department", "author"),
    },
    "suggestions": {
        "model": Suggestion,
        "label": _("平台建议"),
        "statuses": SuggestionStatus,
        "waiting": [SuggestionStatus.OPEN],
        "related": ("author",),
    },
}


def staff_department_ids(user) -> set | None:
    """None for operators (every department), else the provider's departments."""
    if authz.has_role(user, authz.OPERATOR):
        return None
    return authz.department_ids(user, authz.PROVIDER)


def inbox_page(kind: str, user, *, status: str = "", department: str = "", cursor: str | None = None) -> Page:
    """One kind of feedback the user must handle, newest first; `status` "waiting" (the default) is everything
    still waiting for them."""
    return paginate_desc(inbox(kind, user, status=status, department=department), key="id", cursor=cursor, limit=30)


def waiting_counts(user) -> dict[str, int]:
    scope = staff_department_ids(user)
    return {kind: inbox(kind, user).count() for kind in INBOXES if not (kind == "suggestions" and scope is not None)}


def inbox(kind: str, user, *, status: str = "", department: str = "") -> QuerySet:
    spec = INBOXES[kind]
    model = spec["model"]
    queryset = model.objects.select_related(*spec["related"])
    scope = staff_department_ids(user)
    department_field = "dataset__department" if kind == "comments" else "department"
    if kind == "suggestions" and scope is not None:
        queryset = queryset.none()
    elif scope is not None:
        queryset = queryset.filter(**{f"{department_field}_id__in": scope})
    if department:
        queryset = queryset.filter(**{f"{department_field}__code": department.upper()[:32]})
    if status in ("", "waiting"):
        queryset = queryset.filter(status__in=spec["waiting"])
    elif status != "all":
        if status not in spec["statuses"].values:
            raise DomainError(_("状态取值无效。"), code="invalid_filter", details={"field": "status"})
        queryset = queryset.filter(status=status)
    return queryset


# --- the dashboard ---------------------------------------------------------------------------------------


@dataclass
class ReplyStats:
    """Feedback a department received in the period and how it answered (error reports, data requests,
    complaints; suggestions are the platform's)."""

    key: str
    name: str
    received: int = 0
    answered: int = 0
    on_time: int = 0
    overdue_open: int = 0
    waiting: int = 0
    reply_seconds: float = 0.0

    @property
    def reply_rate(self) -> int | None:
        return round(self.answered * 100 / self.received) if self.received else None

    @property
    def on_time_rate(self) -> int | None:
        return round(self.on_time * 100 / self.answered) if self.answered else None

    @property
    def average_days(self) -> float | None:
        return round(self.reply_seconds / self.answered / 86400, 1) if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.key,
            "name": self.name,
            "received": self.received,
            "answered": self.answered,
            "reply_rate": self.reply_rate,
            "on_time_rate": self.on_time_rate,
            "average_reply_days": self.average_days,
            "waiting": self.waiting,
            "overdue": self.overdue_open,
        }


TICKETS: list[tuple[Any, str]] = [(ErrorReport, "reports"), (DataRequest, "requests"), (Complaint, "complaints")]
PLATFORM = "_platform"


def dashboard(department_ids: set | None, *, days: int = 90, now: dt.datetime | None = None) -> list[ReplyStats]:
    """Reply rate and time per department over the last `days` days (operators: every department with
    feedback, plus the platform's own suggestions and unrouted requests). One small query per kind."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    stats: dict[Any, ReplyStats] = {}
    names = dict(Department.objects.values_list("pk", "name"))
    codes = dict(Department.objects.values_list("pk", "code"))

    def add(department_id, created, due, answered_at) -> None:
        key = department_id or PLATFORM
        row = stats.get(key)
        if row is None:
            row = stats[key] = ReplyStats(
                key=codes.get(department_id, PLATFORM), name=str(names.get(department_id) or _("平台运营方"))
            )
        if answered_at is None:
            row.waiting += 1
            if due is not None and now > due:
                row.overdue_open += 1
        if created < since:
            return
        row.received += 1
        if answered_at is not None:
            row.answered += 1
            row.reply_seconds += (answered_at - created).total_seconds()
            if due is None or answered_at <= due:
                row.on_time += 1

    models: list[tuple[Any, str]] = [*TICKETS]
    if department_ids is None:
        models.append((Suggestion, "suggestions"))
    for model, _kind in models:
        queryset = model.objects.filter(Q(created_at__gte=since) | Q(answered_at__isnull=True))
        if department_ids is not None:
            queryset = queryset.filter(department_id__in=department_ids)
        for department_id, created, due, answered_at in queryset.values_list(
            "department_id", "created_at", "due_at", "answered_at"
        ).iterator():
            add(department_id, created, due, answered_at)
    return sorted(stats.values(), key=lambda r: (-r.overdue_open, r.reply_rate or 0, r.key))


def totals(rows: list[ReplyStats]) -> ReplyStats:
    total = ReplyStats(key="", name=str(_("合计")))
    for row in rows:
        for name in ("received", "answered", "on_time", "overdue_open", "waiting", "reply_seconds"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def overdue_items(department_ids: set | None, *, limit: int = 50, now: dt.datetime | None = None) -> list[dict]:
    """Items past their deadline without an answer, the most overdue first."""
    now = now or timezone.now()
    items: list[dict] = []
    for model, kind in [*TICKETS, (Suggestion, "suggestions")]:
        if kind == "suggestions" and department_ids is not None:
            continue
        queryset = model.objects.filter(answered_at__isnull=True, due_at__lt=now).select_related("department")
        if kind in ("reports", "complaints"):
            queryset = queryset.select_related("dataset")
        if department_ids is not None:
            queryset = queryset.filter(department_id__in=department_ids)
        for item in queryset.order_by("due_at")[:limit]:
            items.append({"kind": kind, "label": INBOXES[kind]["label"], "item": item})
    items.sort(key=lambda entry: entry["item"].due_at)
    return items[:limit]


def rating_overview(department_ids: set | None) -> dict[str, Any]:
    queryset = Rating.objects.all()
    if department_ids is not None:
        queryset = queryset.filter(dataset__department_id__in=department_ids)
    return queryset.aggregate(count=Count("id"), average=Avg("score"))


# --- the backlog from searches that found nothing --------------------------------------------------------


def zero_result_backlog(days: int = 30, limit: int = 50) -> list[dict[str, Any]]:
    """Queries that found nothing lately, each with the backlog entry already made from it (if any)."""
    from citydata.search import queries as search_queries

    zero = search_queries.query_report(days=days, limit=limit)["zero"]
    entries = {
        r.query: r
        for r in DataRequest.objects.filter(source=DataRequestSource.SEARCH, query__in=[z["text"] for z in zero])
    }
    return [{**row, "entry": entries.get(row["text"])} for row in zero]


# --- the API's rows (the pages show the same fields) -----------------------------------------------------


def _name(user) -> str:
    return (user.display_name if user is not None else "") or str(_("用户"))


def comment_row(comment: Comment) -> dict[str, Any]:
    hidden = comment.status == CommentStatus.HIDDEN
    return {
        "id": comment.pk,
        "author": _name(comment.author),
        "body": "" if hidden else comment.body,
        "status": comment.status,
        "hidden_reason": comment.hidden_reason if hidden else "",
        "reply": comment.reply,
        "replied_at": comment.replied_at,
        "created_at": comment.created_at,
    }


def rating_row(rating: Rating) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "user": _name(rating.user),
        "score": rating.score,
        "reason": "" if rating.hidden_reason else rating.reason,
        "updated_at": rating.updated_at,
    }


def rating_summary_row(summary: RatingSummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "average": summary.average,
        "distribution": {str(score): n for score, n, _pct in summary.distribution},
    }


def report_row(report: ErrorReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "dataset": report.dataset.slug,
        "department": report.department.code if report.department else "",
        "field_name": report.field_name,
        "field_title": report.field_title,
        "row_ref": "" if report.hidden_reason else report.row_ref,
        "problem": "" if report.hidden_reason else report.problem,
        "correction": "" if report.hidden_reason else report.correction,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "created_at": report.created_at,
        "due_at": report.due_at,
        "answer": report.answer,
        "answered_at": report.answered_at,
        "resolved_at": report.resolved_at,
        "overdue": report.is_overdue,
    }


def request_row(request: DataRequest) -> dict[str, Any]:
    hidden = bool(request.hidden_reason)
    return {
        "id": request.pk,
        "title": str(_("（内容已屏蔽）")) if hidden else request.title,
        "description": "" if hidden else request.description,
        "purpose": "" if hidden else request.purpose,
        "source": request.source,
        "query": "" if hidden else request.query,
        "search_count": request.search_count,
        "department": request.department.code if request.department else None,
        "status": request.status,
        "status_label": str(request.get_status_display()),
        "created_at": request.created_at,
        "due_at": request.due_at,
        "answer": request.answer,
        "legal_basis": request.legal_basis,
        "dataset": request.dataset.slug if request.dataset else None,
        "answered_at": request.answered_at,
        "fulfilled_at": request.fulfilled_at,
    }
