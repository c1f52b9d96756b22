"""Catalog API: datasets (list with the catalog page's filters, facets, sorts and paging; detail) and domains."""

from __future__ import annotations

from typing import Literal

from django.http import Http404
from ninja import Query, Router, Schema

from citydata.catalog import queries
from citydata.catalog.models import Dataset
from citydata.catalog.schemas import DatasetDetailOut, DatasetPageOut, DomainOut

router = Router(tags=["catalog"])


class DatasetFilterIn(Schema):
    q: str = ""
    domain: str = ""
    department: str = ""
    open_type: Literal["", "open", "conditional"] = ""
    format: str = ""
    frequency: str = ""
    sort: Literal["newest", "downloads", "views", "updated"] = "newest"
    cursor: str | None = None
    limit: int = 20


@router.get("/datasets", response=DatasetPageOut, summary="List published datasets with facets (keyset paging)")
def list_datasets(request, filters: Query[DatasetFilterIn]):
    params = filters.dict()
    flt = queries.CatalogFilter.from_params(params)
    page = queries.dataset_page(flt, cursor=params["cursor"], limit=params["limit"])
    return {
        "items": [queries.dataset_summary(d) for d in page.items],
        "next_cursor": page.next_cursor,
        "facets": queries.facets(flt),
    }


@router.get("/datasets/{slug}", response=DatasetDetailOut, summary="One dataset: metadata, fields and resources")
def get_dataset(request, slug: str):
    try:
        dataset = queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None
    return queries.dataset_detail(dataset)


@router.get("/domains", response=list[DomainOut], summary="The domain vocabulary with dataset counts")
def list_domains(request):
    return queries.domain_counts()
