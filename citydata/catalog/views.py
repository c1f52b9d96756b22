"""Public catalog pages: the list with facets and sorts, and the dataset page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import Department
from citydata.catalog import queries, seo, services
from citydata.catalog.models import Dataset, Domain, OpenListStatus, OpenListVersion
from citydata.errors import DomainError
from citydata.paging import _decode
from citydata.search import queries as search_queries
from citydata.search import services as search_services
from citydata.search.engine import Hit
from citydata.security.middleware import client_ip


def dataset_list(request):
    flt = queries.CatalogFilter.from_params(request.GET)
    listing = queries.search_page if flt.q else queries.dataset_page
    page = listing(flt, cursor=request.GET.get("cursor"), limit=request.GET.get("limit") or 20)
    results = flt.search_results() if flt.q else None
    logged = None
    if results is not None and not request.GET.get("cursor"):
        logged = search_services.log_query(flt.q, len(results.hits), "page")
    if results is not None:
        _link_through_clicks(page, logged, request.GET.get("cursor"))
    return render(
        request,
        "catalog/dataset_list.html",
        {
            "filter": flt,
            "page": page,
            "facets": queries.facets(flt),
            "sorts": {k: v for k, v in queries.SORT_LABELS.items() if k != "relevance" or flt.q},
            "search_groups": results.groups if results else [],
            "partial": bool(results and results.partial),
            "did_you_mean": results.did_you_mean if results else "",
            "popular": search_queries.popular(8) if results is not None and not page.items else [],
            "related": search_queries.related(flt.q, results) if logged and len(page.items) < 3 else [],
            "next_query": {**flt.as_query(), "cursor": page.next_cursor} if page.next_cursor else None,
            "seo": seo.catalog_meta(request, flt),
        },
    )


def _link_through_clicks(page, logged, cursor: str | None) -> None:
    """Search results link through the click counter (`search:click`) with their position in the ranking (datasets,
    and results of other kinds, `engine.Hit`s, with their kind)."""
    start = 0
    if cursor:
        try:
            start = int(_decode(cursor))
        except (DomainError, TypeError, ValueError):
            start = 0
    base = reverse("search:click")
    for i, item in enumerate(page.items):
        kind, slug = (item.kind, item.document.slug) if isinstance(item, Hit) else ("dataset", item.slug)
        token = search_services.click_token(
            query_id=logged.pk if logged else None, slug=slug, position=start + i + 1, source="page", kind=kind
        )
        item.search_link = f"{base}?{urlencode({'t': token})}"


def dataset_detail(request, slug: str):
    try:
        dataset = queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None
    services.dataset_count_view(dataset)
    return render(
        request,
        "catalog/dataset_detail.html",
        {
            "dataset": dataset,
            "formats": queries.formats_of(dataset),
            "related": queries.related(dataset),
            "api_url": request.build_absolute_uri(f"/api/v1/datasets/{dataset.slug}"),
            "preview": _preview(request, dataset),
            "seo": seo.dataset_meta(request, dataset),
        },
    )


def _preview(request, dataset: Dataset) -> dict | None:
    """The first rows of the current data version, when the visitor may read them (the datastore decides)."""
    from citydata.datastore import queries as data_queries
    from citydata.datastore import records
    from citydata.datastore.storage import get_storage

    try:
        _dataset, version = data_queries.readable(request.user, dataset.slug, ip=client_ip(request))
    except DomainError as exc:
        return {"refused": str(exc.message), "code": exc.code} if exc.code.startswith(("grant_", "ip_")) else None
    query = records.Query(size=5)
    try:
        path = str(get_storage().local_path(version.data_key))
        page = records.run(
            query, path, version.columns, version.point, row_count=version.row_count, layout=records.layout_of(version)
        )
    except (DomainError, FileNotFoundError):
        return None
    return {"version": version, "columns": version.columns, "rows": page.rows}


def department_detail(request, code: str):
    """A department's public page: its published datasets and its open list with classification and legal bases."""
    from citydata.accounts.models import Department
    from citydata.paging import paginate_desc

    department = Department.objects.filter(code=code.upper()[:32]).first()
    if department is None:
        raise Http404
    entries = paginate_desc(
        queries.public_inventory(department),
        key="id",
        cursor=request.GET.get("cursor"),
        limit=request.GET.get("limit") or 50,
    )
    published = queries.published().filter(department=department)
    versions = list(
        OpenListVersion.objects.filter(department=department, status=OpenListStatus.APPROVED).order_by("-number")[:50]
    )
    diff = older = newer = None
    if len(versions) >= 2:
        by_number = {v.number: v for v in versions}
        try:
            newer = by_number.get(int(request.GET.get("to") or versions[0].number))
            older = by_number.get(int(request.GET.get("from") or versions[1].number))
        except ValueError:
            raise DomainError(_("版本号必须是数字。"), code="invalid_version") from None
        if newer is None or older is None:
            raise DomainError(_("没有这个已发布的清单版本。"), code="unknown_version")
        diff = queries.open_list_diff(older, newer)
    return render(
        request,
        "catalog/department.html",
        {
            "department": department,
            "dataset_count": published.count(),
            "newest": published.order_by("-published_at", "-id")[:8],
            "entries": entries.items,
            "next_cursor": entries.next_cursor,
            "versions": versions,
            "diff": diff,
            "older": older,
            "newer": newer,
            "seo": seo.department_meta(request, department),
        },
    )


def standard_page(request):
    """The published metadata and naming standard, generated from the rules the platform enforces."""
    from citydata.catalog import standard

    return render(
        request,
        "catalog/standard.html",
        {"rules": standard.rules(), "page_title": standard.PAGE_TITLE, "intro": standard.PAGE_INTRO},
    )


def department_rules(request, code: str):
    """A department's classification rules (分级分类细则), current version and history, public."""
    from citydata.accounts.models import Department
    from citydata.catalog.models import ClassificationRuleSet, Masking, OpenType, Sensitivity

    department = Department.objects.filter(code=code.upper()[:32]).first()
    if department is None:
        raise Http404
    versions = list(ClassificationRuleSet.objects.filter(department=department).order_by("-number")[:50])
    try:
        number = int(request.GET.get("v") or (versions[0].number if versions else 0))
    except ValueError:
        raise DomainError(_("版本号必须是数字。"), code="invalid_version") from None
    shown = next((v for v in versions if v.number == number), None)
    if versions and shown is None:
        raise DomainError(_("没有这个版本的细则。"), code="unknown_version")
    rows = [
        {
            "subject": str(Sensitivity(r["sensitivity"]).label) if r["sensitivity"] else r["field_category"],
            "is_level": bool(r["sensitivity"]),
            "allowed": str(OpenType(r["allowed_open_type"]).label),
            "masking": str(Masking(r["masking"]).label),
            "note": r.get("note", ""),
        }
        for r in (shown.rules if shown else [])
    ]
    return render(
        request,
        "catalog/department_rules.html",
        {"department": department, "versions": versions, "shown": shown, "rows": rows},
    )


def progress_page(request):
    """Datasets open against the year's target (R1.2), month by month, per department and domain."""
    args = queries.progress_args(request.GET)
    result = queries.progress(**args)
    peak = max([result.target or 0, *(m.cumulative for m in result.months)]) or 1
    bars = []
    for i, month in enumerate(result.months):
        height = round(month.cumulative * 160 / peak)
        bars.append({"point": month, "height": height, "x": 10 + i * 50, "y": 180 - height})
    return render(
        request,
        "catalog/progress.html",
        {
            "progress": result,
            "args": args,
            "bars": bars,
            "chart_width": 20 + 50 * max(len(bars), 1),
            "target_y": 180 - round((result.target or 0) * 160 / peak),
            "percent": None if result.share is None else min(100, round(result.share * 100)),
            "departments": Department.objects.filter(is_active=True).order_by("code"),
            "domains": Domain.objects.all(),
            "perms_targets": authz.can(request.user, "catalog.targets"),
        },
    )
