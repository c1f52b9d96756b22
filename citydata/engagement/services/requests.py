"""Data requests (数据需求) and suggestions to the platform; searches that found nothing become backlog entries."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import Department, User
from citydata.accounts.notify import notify
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.engagement.models import (
    DataRequest,
    DataRequestSource,
    DataRequestStatus,
    Suggestion,
    SuggestionStatus,
)
from citydata.engagement.services.common import (
    DATA_REQUEST_WORKDAYS,
    SUGGESTION_WORKDAYS,
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

TEXT_MAX = 1000


def _announce(request: DataRequest) -> None:
    notify(
        responders(request.department),
        _("新的数据需求：%(title)s") % {"title": request.title},
        _("请在 %(due)s 前答复：受理、说明不予开放的依据，或关联已开放的数据集。") % {"due": day_label(request.due_at)},
        url=url_of(request),
    )


@transaction.atomic
def data_request_submit(
    *,
    by: User,
    title: str,
    description: str = "",
    purpose: str = "",
    department: Department | None = None,
    query: str = "",
    ip: str | None = None,
) -> DataRequest:
    """Ask for data that is not open yet. Without a department the operators route it."""
    authz.authorize(by, "feedback.post")
    title = clean_text(title, field="title", label=_("需要的数据"), max_length=100)
    description = clean_text(description, field="description", label=_("需求说明"), max_length=TEXT_MAX, required=False)
    purpose = clean_text(purpose, field="purpose", label=_("用途"), max_length=300, required=False)
    query = clean_text(query, field="query", label=_("搜索词"), max_length=100, required=False)
    check_rate("data_request", DataRequest, who_field="requester", who=by, ip=ip)
    now = timezone.now()
    request = DataRequest.objects.create(
        requester=by,
        title=title,
        description=description,
        purpose=purpose,
        department=department,
        query=query,
        source=DataRequestSource.FORM,
        created_at=now,
        due_at=due_after(now, DATA_REQUEST_WORKDAYS),
        ip=ip,
    )
    audit.record(by, "data_request.submit", request, changes={"department": department.code if department else ""})
    _announce(request)
    return request


def _locked(request: DataRequest) -> DataRequest:
    return (
        DataRequest.objects.select_for_update(of=("self",)).select_related("department", "requester").get(pk=request.pk)
    )


@transaction.atomic
def data_request_route(*, by: User, request: DataRequest, department: Department) -> DataRequest:
    """Operators send a request to the department that holds the data; its answering clock starts again."""
    request = _locked(request)
    authz.authorize(by, "feedback.route", request)
    if request.status not in (DataRequestStatus.OPEN, DataRequestStatus.ACCEPTED):
        raise Conflict(_("该需求已经办结，不能再转交。"), code="closed")
    before = request.department.code if request.department else ""
    now = timezone.now()
    request.department, request.due_at = department, due_after(now, DATA_REQUEST_WORKDAYS)
    request.reminded_at = request.escalated_at = None
    request.save(update_fields=["department", "due_at", "reminded_at", "escalated_at"])
    audit.record(
        by, "data_request.route", request, changes={"department": {"before": before, "after": department.code}}
    )
    _announce(request)
    return request


def _tell_requester(request: DataRequest, subject: str) -> None:
    notify(request.requester, subject, request.answer[:300], url=url_of(request))


def _answer(request: DataRequest, by: User, answer: str, *, required: bool = True) -> None:
    request.answer = clean_text(answer, field="answer", label=_("答复内容"), max_length=TEXT_MAX, required=required)
    if request.answered_at is None:
        request.answered_by, request.answered_at = by, timezone.now()


@transaction.atomic
def data_request_accept(*, by: User, request: DataRequest, answer: str = "") -> DataRequest:
    """The department will open the data; the answer says what and when."""
    request = _locked(request)
    authz.authorize(by, "feedback.answer", request)
    if request.department is None:
        raise Conflict(_("请先把需求转交给数据所在部门。"), code="not_routed")
    if request.status != DataRequestStatus.OPEN:
        raise Conflict(_("只有待答复的需求可以受理。"), code="invalid_transition")
    _answer(request, by, answer or _("已受理，正在筹备开放。"))
    request.status = DataRequestStatus.ACCEPTED
    request.save()
    audit.record(by, "data_request.accept", request, note=request.answer)
    _tell_requester(request, _("您的数据需求“%(title)s”已受理") % {"title": request.title})
    return request


@transaction.atomic
def data_request_decline(*, by: User, request: DataRequest, answer: str, legal_basis: str) -> DataRequest:
    """The data will not be opened: say why, and on what legal basis (e.g. the law or rule that forbids it)."""
    request = _locked(request)
    authz.authorize(by, "feedback.answer", request)
    if request.status not in (DataRequestStatus.OPEN, DataRequestStatus.ACCEPTED):
        raise Conflict(_("该需求已经办结。"), code="invalid_transition")
    legal_basis = clean_text(legal_basis, field="legal_basis", label=_("不予开放依据"), max_length=200)
    _answer(request, by, answer)
    request.status, request.legal_basis = DataRequestStatus.DECLINED, legal_basis
    request.save()
    audit.record(by, "data_request.decline", request, changes={"legal_basis": legal_basis}, note=request.answer)
    _tell_requester(request, _("您的数据需求“%(title)s”暂不开放") % {"title": request.title})
    return request


@transaction.atomic
def data_request_fulfil(*, by: User, request: DataRequest, dataset: Dataset, answer: str = "") -> DataRequest:
    """The data is open: link the published dataset that answers the request."""
    request = _locked(request)
    authz.authorize(by, "feedback.answer", request)
    if request.status not in (DataRequestStatus.OPEN, DataRequestStatus.ACCEPTED):
        raise Conflict(_("该需求已经办结。"), code="invalid_transition")
    if dataset.status != DatasetStatus.PUBLISHED:
        raise DomainError(_("请关联一个已发布的数据集。"), code="not_published", details={"field": "dataset"})
    if not authz.can(by, "catalog.edit", dataset.department):
        raise DomainError(
            _("只能关联本部门的数据集；其他部门的数据请转交该部门答复。"),
            code="not_own_dataset",
            details={"field": "dataset"},
        )
    _answer(request, by, answer or _("数据已开放：%(title)s") % {"title": dataset.title})
    now = timezone.now()
    request.status, request.dataset, request.fulfilled_at = DataRequestStatus.FULFILLED, dataset, now
    if request.department is None:
        request.department = dataset.department
    request.save()
    audit.record(by, "data_request.fulfil", request, changes={"dataset": dataset.slug}, note=request.answer)
    _tell_requester(request, _("您需要的数据“%(title)s”已开放") % {"title": request.title})
    return request


@transaction.atomic
def data_request_from_search(*, by: User, query: str, searches: int = 1) -> tuple[DataRequest, bool]:
    """Turn a query that found nothing into a backlog entry (no requester; operators route it), or add its
    count to the open entry made from the same query. Returns (entry, created)."""
    authz.authorize(by, "feedback.backlog")
    query = clean_text(query, field="query", label=_("搜索词"), max_length=100)
    searches = max(1, int(searches))
    existing = (
        DataRequest.objects.select_for_update()
        .filter(query=query, source=DataRequestSource.SEARCH)
        .exclude(status__in=(DataRequestStatus.DECLINED, DataRequestStatus.FULFILLED))
        .first()
    )
    if existing is not None:
        DataRequest.objects.filter(pk=existing.pk).update(search_count=F("search_count") + searches)
        existing.refresh_from_db()
        audit.record(by, "data_request.backlog_count", existing, changes={"searches": searches})
        return existing, False
    now = timezone.now()
    request = DataRequest.objects.create(
        title=query,
        description=_("由无结果的搜索生成：“%(q)s”被搜索 %(n)s 次。") % {"q": query, "n": searches},
        source=DataRequestSource.SEARCH,
        query=query,
        search_count=searches,
        created_at=now,
        due_at=due_after(now, DATA_REQUEST_WORKDAYS),
    )
    audit.record(by, "data_request.backlog", request, changes={"query": query, "searches": searches})
    return request, True


# --- suggestions to the platform ------------------------------------------------------------------------


@transaction.atomic
def suggestion_submit(*, by: User, title: str, body: str, ip: str | None = None) -> Suggestion:
    authz.authorize(by, "feedback.post")
    title = clean_text(title, field="title", label=_("标题"), max_length=100)
    body = clean_text(body, field="body", label=_("建议内容"), max_length=TEXT_MAX)
    check_rate("suggestion", Suggestion, who_field="author", who=by, ip=ip)
    now = timezone.now()
    suggestion = Suggestion.objects.create(
        author=by, title=title, body=body, created_at=now, due_at=due_after(now, SUGGESTION_WORKDAYS), ip=ip
    )
    audit.record(by, "suggestion.submit", suggestion)
    notify(operators(), _("新的平台建议：%(title)s") % {"title": title}, body[:200], url=url_of(suggestion))
    return suggestion


@transaction.atomic
def suggestion_answer(*, by: User, suggestion: Suggestion, answer: str) -> Suggestion:
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    authz.authorize(by, "suggestion.answer", suggestion)
    suggestion.answer = clean_text(answer, field="answer", label=_("答复内容"), max_length=TEXT_MAX)
    first = suggestion.answered_at is None
    if first:
        suggestion.answered_by, suggestion.answered_at = by, timezone.now()
    suggestion.status = SuggestionStatus.ANSWERED
    suggestion.save()
    audit.record(by, "suggestion.answer", suggestion, note=suggestion.answer)
    notify(suggestion.author, _("您的平台建议已答复"), suggestion.answer[:300], url=url_of(suggestion))
    return suggestion
