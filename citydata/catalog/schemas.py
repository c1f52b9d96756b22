"""API schemas of the catalog."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


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


class FieldOut(Schema):
    name: str
    title: str
    type: str
    unit: str
    description: str
    example: str
    sensitive: bool


class ResourceOut(Schema):
    name: str
    kind: str
    format: str
    url: str
    size_bytes: int | None


class DatasetDetailOut(DatasetSummaryOut):
    status: str
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
