"""The engagement part of /api/v1: a dataset's comments, ratings and error reports (read by anyone, written
with a key or a session), complaints, and data requests (list and create)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status

from citydata.accounts.models import Department
from citydata.api_auth import AUTH, caller
from citydata.catalog import queries as catalog_queries
from citydata.catalog.models import Dataset
from citydata.engagement import queries, services
from citydata.engagement.models import DataRequest
from citydata.engagement.schemas import (
    CommentIn,
    CommentOut,
    CommentPageOut,
    ComplaintIn,
    ComplaintOut,
    DataRequestIn,
    DataRequestOut,
    DataRequestPageOut,
    ErrorReportIn,
    ErrorReportOut,
    ErrorReportPageOut,
    RatingIn,
    RatingOut,
    RatingPageOut,
)
from citydata.engagement.services.common import url_of
from citydata.errors import DomainError
from citydata.security.middleware import client_ip

router = Router(tags=["engagement"])


def _dataset(request, slug: str) -> Dataset:
    try:
        return catalog_queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None


class PageIn(Schema):
    cursor: str | None = None
    limit: int = 20


class ReportPageIn(PageIn):
    status: str = ""


@router.get("/datasets/{slug}/comments", response=CommentPageOut, summary="A dataset's comments, newest first")
def list_comments(request, slug: str, params: Query[PageIn]):
    user = caller(request)
    page = queries.comments_page(_dataset(request, slug), user, cursor=params.cursor, limit=params.limit)
    return {"items": [queries.comment_row(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/datasets/{slug}/comments", response={201: CommentOut}, auth=AUTH, summary="Comment on a dataset")
def create_comment(request, slug: str, body: CommentIn):
    comment = services.comment_submit(
        by=request.user, dataset=_dataset(request, slug), body=body.body, ip=client_ip(request)
    )
    return Status(201, queries.comment_row(comment))


@router.get("/datasets/{slug}/ratings", response=RatingPageOut, summary="A dataset's average rating and ratings")
def list_ratings(request, slug: str, params: Query[PageIn]):
    dataset = _dataset(request, slug)
    page = queries.ratings_page(dataset, cursor=params.cursor, limit=params.limit)
    return {
        "summary": queries.rating_summary_row(queries.rating_summary(dataset)),
        "items": [queries.rating_row(r) for r in page.items],
        "next_cursor": page.next_cursor,
    }


@router.put("/datasets/{slug}/rating", response=RatingOut, auth=AUTH, summary="Set (or change) your rating, 1–5")
def set_rating(request, slug: str, body: RatingIn):
    rating = services.rating_set(by=request.user, dataset=_dataset(request, slug), score=body.score, reason=body.reason)
    return queries.rating_row(rating)


@router.get(
    "/datasets/{slug}/error-reports", response=ErrorReportPageOut, summary="A dataset's error reports and answers"
)
def list_error_reports(request, slug: str, params: Query[ReportPageIn]):
    page = queries.error_reports_page(
        _dataset(request, slug), status=params.status, cursor=params.cursor, limit=params.limit
    )
    return {"items": [queries.report_row(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/datasets/{slug}/error-reports",
    response={201: ErrorReportOut},
    auth=AUTH,
    summary="Report an error (纠错) in a dataset; its department answers by a deadline",
)
def create_error_report(request, slug: str, body: ErrorReportIn):
    report = services.error_report_submit(
        by=request.user, dataset=_dataset(request, slug), ip=client_ip(request), **body.dict()
    )
    return Status(201, queries.report_row(report))


@router.post(
    "/datasets/{slug}/complaints",
    response={201: ComplaintOut},
    auth=AUTH,
    summary="Complain about exposed personal data (投诉举报); not public",
)
def create_complaint(request, slug: str, body: ComplaintIn):
    complaint = services.complaint_submit(
        by=request.user, dataset=_dataset(request, slug), ip=client_ip(request), **body.dict()
    )
    return Status(
        201,
        {
            "id": complaint.pk,
            "status": complaint.status,
            "status_label": str(complaint.get_status_display()),
            "due_at": complaint.due_at,
            "url": request.build_absolute_uri(url_of(complaint)),
        },
    )


class RequestFilterIn(PageIn):
    status: str = ""
    department: str = ""
    source: str = ""
    mine: bool = False


@router.get("/data-requests", response=DataRequestPageOut, summary="Data requests (数据需求) with status and answers")
def list_data_requests(request, params: Query[RequestFilterIn]):
    data = params.dict()
    flt = queries.RequestFilter.from_params(data)
    page = queries.data_requests_page(flt, caller(request), cursor=params.cursor, limit=params.limit)
    return {"items": [queries.request_row(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/data-requests/{request_id}", response=DataRequestOut, summary="One data request")
def get_data_request(request, request_id: int):
    if not 0 < request_id < 2**63:
        raise Http404
    return queries.request_row(
        get_object_or_404(DataRequest.objects.select_related("department", "dataset"), pk=request_id)
    )


@router.post("/data-requests", response={201: DataRequestOut}, auth=AUTH, summary="Ask for data that is not open yet")
def create_data_request(request, body: DataRequestIn):
    department = None
    if body.department:
        department = Department.objects.filter(code=body.department.upper()).first()
        if department is None:
            raise DomainError(_("部门编码不存在。"), code="unknown_department", details={"field": "department"})
    data_request = services.data_request_submit(
        by=request.user,
        title=body.title,
        description=body.description,
        purpose=body.purpose,
        department=department,
        query=body.query,
        ip=client_ip(request),
    )
    return Status(201, queries.request_row(data_request))
