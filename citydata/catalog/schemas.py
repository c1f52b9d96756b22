"""API schemas of the catalog."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from citydata.api_types import Text


class CodeName(Schema):
    code: str
    name: str


class FacetValue(Schema):
    value: str
    label: str
    count: int


class Facets(Schema):
    domain: list[FacetValue]
    department: list[FacetValue]
    open_type: list[FacetValue]
    format: list[FacetValue]
    frequency: list[FacetValue]


class DatasetSummaryOut(Schema):
    slug: str
    title: str
    description: str
    department: CodeName
    domains: list[CodeName]
    open_type: str
    update_frequency: str
    formats: list[str]
    published_at: dt.datetime | None
    last_data_update: dt.datetime | None
    view_count: int
    download_count: int


class DatasetPageOut(Schema):
    items: list[DatasetSummaryOut]
    next_cursor: str | None
    facets: Facets
    facets_estimated: bool = Field(
        False,
        description="True when q matches more documents than the search counts exactly (20,000): the facet counts "
        "are then estimated from an even sample of the matches",
    )


class FieldOut(Schema):
    name: str
    title: str
    type: str
    unit: str
    description: str
    example: str
    sensitive: bool
    category: str


class ResourceOut(Schema):
    id: int
    name: str
    kind: str
    format: str
    url: str
    size_bytes: int | None


class DatasetDetailOut(DatasetSummaryOut):
    status: str
    version: int = Field(description="Send it back with PATCH: a stale version is refused with 409")
    tags: list[str]
    licence: str
    temporal_start: dt.date | None
    temporal_end: dt.date | None
    spatial_coverage: str
    contact_name: str
    contact_phone: str
    contact_email: str
    fields: list[FieldOut]
    resources: list[ResourceOut]


class DomainOut(Schema):
    code: str
    name: str
    is_priority: bool
    count: int


class FieldIn(Schema):
    name: Text = Field(pattern=r"^[^\W\d]\w{0,63}$")
    title: Text = Field(min_length=1, max_length=60)
    type: Literal["string", "integer", "decimal", "boolean", "date", "datetime", "point"] = "string"
    unit: Text = Field(default="", max_length=20)
    description: Text = Field(default="", max_length=200)
    example: Text = Field(default="", max_length=100)
    sensitive: bool = False
    category: Text = Field(default="", max_length=40, description="Field category of the classification rules")


class ResourceIn(Schema):
    name: Text = Field(min_length=1, max_length=120)
    format: Text = Field(min_length=1, max_length=20)
    kind: Literal["file", "api", "stream"] = "file"
    url: Text = Field(default="", max_length=500)


class DatasetIn(Schema):
    department: Text = Field(max_length=32, description="Code of the department that provides the dataset")
    slug: Text = Field(default="", max_length=90, pattern=r"^$|^[a-z0-9][a-z0-9-]*$")
    title: Text = Field(min_length=1, max_length=120)
    description: Text = Field(min_length=1, max_length=4000)
    domains: list[Text] = Field(min_length=1, max_length=5, description="Domain codes, see /api/v1/domains")
    open_type: Literal["open", "conditional"] = "open"
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]
    spatial_coverage: Text = Field(default="", max_length=100)
    contact_name: Text = Field(default="", max_length=60)
    contact_phone: Text = Field(default="", max_length=40)
    fields: list[FieldIn] = Field(default=[], max_length=300)
    resources: list[ResourceIn] = Field(default=[], max_length=50)


class DatasetPatchIn(Schema):
    version: int
    title: Text | None = Field(default=None, min_length=1, max_length=120)
    description: Text | None = Field(default=None, min_length=1, max_length=4000)
    open_type: Literal["open", "conditional"] | None = None
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"] | None = (
        None
    )
    spatial_coverage: Text | None = Field(default=None, max_length=100)
    contact_name: Text | None = Field(default=None, max_length=60)
    contact_phone: Text | None = Field(default=None, max_length=40)


class FieldsIn(Schema):
    version: int = Field(description="The dataset's version you last read: a stale one is refused with 409")
    fields: list[FieldIn] = Field(max_length=300)


class WithdrawIn(Schema):
    reason: Text = Field(min_length=1, max_length=200)


class DepartmentOut(Schema):
    code: str
    name: str
    dataset_count: int


class InventoryEntryOut(Schema):
    code: str
    name: str
    description: str
    open_type: str
    legal_basis_name: str
    legal_basis_article: str
    legal_basis_url: str


class InventoryPageOut(Schema):
    items: list[InventoryEntryOut]
    next_cursor: str | None


class InventoryEntryIn(Schema):
    code: Text = Field(min_length=1, max_length=60)
    name: Text = Field(min_length=1, max_length=120)
    description: Text = Field(default="", max_length=4000)
    open_type: Literal["open", "conditional", "closed", "pending"]
    sensitivity: Literal["general", "important", "core"] = "general"
    legal_basis_name: Text = Field(default="", max_length=200)
    legal_basis_article: Text = Field(default="", max_length=100)
    legal_basis_url: Text = Field(default="", max_length=200)


class CoverageOut(Schema):
    department_code: str
    department_name: str
    total: int
    closed: int
    without_basis: int
    on_open_list: int
    share: float | None


class BulkRowErrorOut(Schema):
    sheet: str
    row: int
    column: str
    message: str


class BulkReportOut(Schema):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    refused_rows: int
    ignored_columns: list[str]
    errors: list[BulkRowErrorOut]


class MonthPointOut(Schema):
    month: dt.date
    opened: int
    cumulative: int


class GroupProgressOut(Schema):
    code: str
    name: str
    this_year: int
    total: int
    target: int | None
    share: float | None


class ProgressOut(Schema):
    year: int
    target: int | None = Field(description="The year's target: the city's, or the department's; none for a domain")
    this_year: int = Field(description="Datasets first published in the year and still published")
    total: int = Field(description="Datasets published by the end of the year and still published")
    share: float | None = Field(description="total / target")
    months: list[MonthPointOut]
    departments: list[GroupProgressOut]
    domains: list[GroupProgressOut]


class OpenListVersionOut(Schema):
    number: int
    status: str
    note: str
    review_comment: str
    submitted_at: dt.datetime
    reviewed_at: dt.datetime | None
    entry_count: int


class OpenListEntryOut(Schema):
    code: str
    name: str
    open_type: str
    open_type_label: str
    sensitivity: str = ""
    legal_basis_name: str = ""
    legal_basis_article: str = ""


class OpenListDetailOut(OpenListVersionOut):
    entries: list[OpenListEntryOut]


class OpenListChangeOut(Schema):
    code: str
    name: str
    before: str
    after: str


class OpenListDiffOut(Schema):
    older: int
    newer: int
    added: list[OpenListEntryOut]
    removed: list[OpenListEntryOut]
    reclassified: list[OpenListChangeOut]
