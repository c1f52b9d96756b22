"""API schemas of the engagement app."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from citydata.api_types import Text


class CommentOut(Schema):
    id: int
    author: str
    body: str = Field(description="empty when the comment is hidden")
    status: str
    hidden_reason: str
    reply: str
    replied_at: dt.datetime | None
    created_at: dt.datetime


class CommentPageOut(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class CommentIn(Schema):
    body: Text = Field(max_length=1000)


class RatingOut(Schema):
    id: int
    user: str
    score: int
    reason: str
    updated_at: dt.datetime


class RatingSummaryOut(Schema):
    count: int
    average: float | None
    distribution: dict[str, int]


class RatingPageOut(Schema):
    summary: RatingSummaryOut
    items: list[RatingOut]
    next_cursor: str | None


class RatingIn(Schema):
    score: int = Field(ge=1, le=5)
    reason: Text = Field("", max_length=200)


class ErrorReportOut(Schema):
    id: int
    dataset: str
    department: str
    field_name: str
    field_title: str
    row_ref: str
    problem: str = Field(description="empty when hidden by a moderator")
    correction: str
    status: str
    status_label: str
    created_at: dt.datetime
    due_at: dt.datetime | None
    answer: str
    answered_at: dt.datetime | None
    resolved_at: dt.datetime | None
    overdue: bool


class ErrorReportPageOut(Schema):
    items: list[ErrorReportOut]
    next_cursor: str | None


class ErrorReportIn(Schema):
    problem: Text = Field(max_length=1000)
    field_name: Text = Field("", max_length=64)
    row_ref: Text = Field("", max_length=100)
    correction: Text = Field("", max_length=200)


class DataRequestOut(Schema):
    id: int
    title: str
    description: str
    purpose: str
    source: str
    query: str
    search_count: int
    department: str | None
    status: str
    status_label: str
    created_at: dt.datetime
    due_at: dt.datetime | None
    answer: str
    legal_basis: str
    dataset: str | None
    answered_at: dt.datetime | None
    fulfilled_at: dt.datetime | None


class DataRequestPageOut(Schema):
    items: list[DataRequestOut]
    next_cursor: str | None


class DataRequestIn(Schema):
    title: Text = Field(max_length=100)
    description: Text = Field("", max_length=1000)
    purpose: Text = Field("", max_length=300)
    department: Text = Field("", max_length=32, description="code of the department that may hold the data")
    query: Text = Field("", max_length=100, description="the search that found nothing, if any")


class ComplaintIn(Schema):
    description: Text = Field(max_length=2000)
    kind: str = Field("personal_data", description="personal_data, secret or other")
    location: Text = Field("", max_length=200)


class ComplaintOut(Schema):
    id: int
    status: str
    status_label: str
    due_at: dt.datetime | None
    url: str = Field(description="the secret page where the reporter follows the complaint")
