"""Search API: `GET /api/v1/search` — the catalog's search (datasets, and the rules of the data-opening standard)
with its facets, filters, sorts and paging."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from citydata.accounts import authz
from citydata.api_auth import caller
from citydata.errors import DomainError, Forbidden
from citydata.paging import _decode, _encode, clamp_limit
from citydata.search import engine, services, sources
from citydata.search import queries as search_queries

router = Router(tags=["search"])
FACETS = engine.FACETS


class SearchIn(Schema):
    q: str = Field("", max_length=100, description="What to look for: Chinese, pinyin, initials or English")
    size: int = Field(20, description="Results per page, 1 to 100")
    cursor: str | None = None
    domain: str = ""
    department: str = ""
    open_type: str = ""
    format: str = ""
    frequency: str = ""
    kind: str = Field(
        "",
        max_length=20,
        description="Only results of this kind: dataset, or standard (the data-opening standard's page and rules). "
        "The dataset filters above, and sorts other than relevance, return datasets only",
    )
    sort: Literal["relevance", "updated", "views", "downloads"] = "relevance"
    explain: bool = Field(False, description="Operators: the parts of each score")


class NamedOut(Schema):
    code: str
    name: str


class SearchHitOut(Schema):
    kind: str = Field(
        description="What the result is: dataset, or standard (a rule of the data-opening standard, or its page; url "
        "leads to the rule's anchor). For kinds other than dataset, department, domains, open_type, formats, "
        "frequency, source and source_id are empty and updated is null"
    )
    slug: str
    title: str
    url: str
    summary: str
    department: NamedOut
    domains: list[str]
    open_type: str
    formats: list[str]
    frequency: str
    score: float
    source: str
    source_id: str
    updated: dt.datetime | None
    highlight: dict[str, str]
    click_url: str = Field(
        description="Link to the dataset page through the click counter: use it as the result's link so operators "
        "see which results of a search are opened (click-through by position)"
    )
    explain: dict[str, float] | None = None


class FacetValueOut(Schema):
    value: str
    count: int


class SearchOut(Schema):
    query: str
    total: int
    total_exact: bool = Field(
        description="False when filters apply to more matches than are counted exactly (see facets_estimated): "
        "an estimate"
    )
    partial: bool
    did_you_mean: str
    items: list[SearchHitOut]
    next_cursor: str | None
    facets: dict[str, list[FacetValueOut]] = Field(
        description="Counts over every match, each facet ignoring its own filter: kind counts results of every kind, "
        "domain, department, open_type, format and frequency count datasets"
    )
    facets_estimated: bool = Field(
        description="True when the query matches more documents than are counted exactly (20,000): the facet counts "
        "are then estimated from an even sample of the matches"
    )
    related: list[str] = Field(description="Searches to try when this one found nothing or little (fewer than 3)")


def _marked(text: str, groups) -> str:
    return "".join(
        f"<mark>{escape(piece)}</mark>" if hit else str(escape(piece)) for piece, hit in engine.highlight(text, groups)
    )


@router.get("/search", response=SearchOut, summary="Search the catalog (Chinese, pinyin, synonyms, typos) with facets")
def search(request, params: Query[SearchIn]):
    who = caller(request)
    query = params.q.strip()
    if not query:
        raise DomainError(_("请输入要搜索的内容。"), code="invalid_query", details={"parameter": "q"})
    if params.explain and not authz.can(who, "console.view"):
        raise Forbidden(_("只有平台运营方可以查看评分明细。"), details={"parameter": "explain"})
    size = clamp_limit(params.size)
    start = 0
    if params.cursor:
        start = _decode(params.cursor)
        if not isinstance(start, int) or start < 0:
            raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor")
    filters = {name: getattr(params, name).strip() for name in FACETS}
    filters["department"] = filters["department"].upper()
    kind = params.kind.strip()
    if kind and sources.get(kind) is None:
        raise DomainError(
            _("不支持的结果类型，可选：%(values)s。") % {"values": ", ".join(sources.SOURCES)},
            code="invalid_filter",
            details={"parameter": "kind"},
        )
    if params.sort != "relevance" and not kind:
        kind = "dataset"  # only datasets have an update time, views and downloads to sort by
    results = engine.search(query, filters={**filters, "kind": kind})
    hits = results.hits
    logged = services.log_query(query, len(hits), "api") if start == 0 else None  # a query, not a next page
    if params.sort != "relevance":
        key = {"updated": "updated", "views": "views", "downloads": "downloads"}[params.sort]
        hits = sorted(
            hits, key=lambda h: (getattr(h.document, key) is not None, getattr(h.document, key)), reverse=True
        )
    counted = engine.facets(results)
    facets = {
        name: [{"value": v, "count": n} for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        for name, counts in counted.counts.items()
    }
    page = hits[start : start + size]
    engine.load_deferred(page)
    if len(hits) < engine.WINDOW:
        total, exact = len(hits), True  # every match was ranked
    else:
        total, exact = counted.total, counted.total_exact
    click_base = request.build_absolute_uri(reverse("search:click")) + "?"
    query_id = logged.pk if logged else None
    return {
        "query": query,
        "total": total,
        "total_exact": exact,
        "partial": results.partial,
        "did_you_mean": results.did_you_mean,
        "items": [
            {
                "kind": h.document.kind,
                "slug": h.document.slug,
                "title": h.document.title,
                "url": request.build_absolute_uri(h.url),
                "summary": h.document.summary,
                "department": {"code": h.document.department_code, "name": h.document.department_name},
                "domains": h.document.domains,
                "open_type": h.document.open_type,
                "formats": h.document.formats,
                "frequency": h.document.frequency,
                "score": h.score,
                "source": h.document.source,
                "source_id": h.document.source_id,
                "updated": h.document.updated,
                "highlight": {
                    "title": _marked(h.document.title, results.groups),
                    "summary": _marked(h.document.summary[:160], results.groups),
                },
                "click_url": click_base
                + urlencode(
                    {
                        "t": services.click_token(
                            query_id=query_id, slug=h.document.slug, position=start + i, source="api", kind=h.kind
                        )
                    }
                ),
                "explain": h.parts if params.explain else None,
            }
            for i, h in enumerate(page, start=1)
        ],
        "next_cursor": _encode(start + size) if start + size < len(hits) else None,
        "facets": facets,
        "facets_estimated": counted.estimated,
        "related": search_queries.related(query, results) if total < 3 else [],
    }
