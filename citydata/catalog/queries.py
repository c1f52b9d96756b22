"""Catalog reads shared by the portal pages and the API: one filter definition, facets, sorts and paging."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department
from citydata.catalog.models import Dataset, DatasetStatus, Domain, Frequency, OpenType, Resource
from citydata.errors import DomainError
from citydata.paging import Page, _decode, _encode, clamp_limit, paginate_keyset, paginate_ranked

# sort name → (column, tie-breaker), both descending
SORTS: dict[str, tuple[str, str]] = {
    "newest": ("-published_at", "-id"),
    "downloads": ("-download_count", "-id"),
    "views": ("-view_count", "-id"),
    "updated": ("-last_data_update", "-id"),
}
SORT_LABELS = {
    "relevance": _("最相关"),
    "newest": _("最新发布"),
    "downloads": _("下载最多"),
    "views": _("浏览最多"),
    "updated": _("最近更新"),
}


@dataclass(frozen=True)
class CatalogFilter:
    """The filters of the catalog list, from a page's query string or the API's parameters."""

    q: str = ""
    domain: str = ""
    department: str = ""
    open_type: str = ""
    format: str = ""
    frequency: str = ""
    sort: str = "newest"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> CatalogFilter:
        def get(name, limit=60):
            value = (params.get(name) or "").strip()[:limit]
            if "\x00" in value:
                raise DomainError(_("筛选条件含有无效字符。"), code="invalid_filter", details={"field": name})
            return value

        flt = cls(
            q=get("q", 100),
            domain=get("domain"),
            department=get("department").upper(),
            open_type=get("open_type"),
            format=get("format").upper(),
            frequency=get("frequency"),
            sort=get("sort") or ("relevance" if get("q", 100) else "newest"),
        )
        if flt.sort == "relevance" and not flt.q:
            flt = dataclasses.replace(flt, sort="newest")  # nothing to be relevant to
        if flt.sort not in SORTS and flt.sort != "relevance":
            raise DomainError(
                _("不支持的排序方式，可选：%(values)s。") % {"values": ", ".join(["relevance", *SORTS])},
                code="invalid_sort",
                details={"field": "sort"},
            )
        if flt.open_type and flt.open_type not in (OpenType.OPEN, OpenType.CONDITIONAL):
            raise DomainError(
                _("开放类型只能是 open 或 conditional。"), code="invalid_filter", details={"field": "open_type"}
            )
        if flt.frequency and flt.frequency not in Frequency.values:
            raise DomainError(_("更新频率取值无效。"), code="invalid_filter", details={"field": "frequency"})
        return flt

    def apply(self, queryset: QuerySet[Dataset], *, skip: str = "") -> QuerySet[Dataset]:
        """Narrow `queryset`; `skip` leaves one facet's own filter out (for its counts)."""
        if self.q:
            queryset = queryset.filter(pk__in=self.ranked_ids())
        if self.domain and skip != "domain":
            queryset = queryset.filter(domains__code=self.domain)
        if self.department and skip != "department":
            queryset = queryset.filter(department__code=self.department)
        if self.open_type and skip != "open_type":
            queryset = queryset.filter(open_type=self.open_type)
        if self.format and skip != "format":
            queryset = queryset.filter(resources__format=self.format)
        if self.frequency and skip != "frequency":
            queryset = queryset.filter(update_frequency=self.frequency)
        return queryset

    def ranked_ids(self) -> list[int]:
        """The datasets matching `q`, most relevant first (the search engine's ranking)."""
        return self.search_results().ids

    def search_results(self):
        """The search engine's answer for `q` under these filters (computed once per filter)."""
        from citydata.search import engine

        if "results" not in self.extra:
            self.extra["results"] = engine.search(self.q, filters=self.search_filters())
        return self.extra["results"]

    def search_filters(self) -> dict[str, str]:
        return {
            "domain": self.domain,
            "department": self.department,
            "open_type": self.open_type,
            "format": self.format,
            "frequency": self.frequency,
        }

    def as_query(self, **override) -> dict[str, str]:
        values = {
            "q": self.q,
            "domain": self.domain,
            "department": self.department,
            "open_type": self.open_type,
            "format": self.format,
            "frequency": self.frequency,
            "sort": self.sort if self.sort not in ("newest", "relevance") else "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v}


def published() -> QuerySet[Dataset]:
    return Dataset.objects.filter(status=DatasetStatus.PUBLISHED)


def _ids(queryset: QuerySet[Dataset]) -> QuerySet:
    return queryset.values("pk")


def facets(flt: CatalogFilter) -> dict[str, Any]:
    """Counts for each facet value over the current result set (each facet ignores its own filter). With a search,
    over every dataset it matches (the search engine counts them; for very broad searches the counts are
    estimated, and "estimated" says so)."""
    if flt.q:
        from citydata.search import engine

        counted = engine.facets(flt.search_results())
        c = counted.counts
        return _labelled(c["domain"], c["department"], c["open_type"], c["format"], c["frequency"], counted.estimated)
    base = published()
    domain_counts = dict(
        Domain.objects.filter(datasets__in=_ids(flt.apply(base, skip="domain")))
        .values_list("code")
        .annotate(n=Count("datasets", distinct=True))
    )
    dept_counts = dict(
        flt.apply(base, skip="department")
        .order_by()
        .values_list("department__code")
        .annotate(n=Count("id", distinct=True))
    )
    type_counts = dict(
        flt.apply(base, skip="open_type").order_by().values_list("open_type").annotate(n=Count("id", distinct=True))
    )
    freq_counts = dict(
        flt.apply(base, skip="frequency")
        .order_by()
        .values_list("update_frequency")
        .annotate(n=Count("id", distinct=True))
    )
    format_counts = dict(
        Resource.objects.filter(dataset__in=_ids(flt.apply(base, skip="format")))
        .order_by()
        .values_list("format")
        .annotate(n=Count("dataset", distinct=True))
    )
    return _labelled(domain_counts, dept_counts, type_counts, format_counts, freq_counts, False)


def _labelled(domain_counts, dept_counts, type_counts, format_counts, freq_counts, estimated: bool) -> dict[str, Any]:
    domains = Domain.objects.all()
    departments = Department.objects.filter(code__in=list(dept_counts)).order_by("code")
    return {
        "domain": [
            {"value": d.code, "label": d.label, "count": domain_counts.get(d.code, 0)}
            for d in domains
            if domain_counts.get(d.code)
        ],
        "department": sorted(
            ({"value": d.code, "label": d.name, "count": dept_counts[d.code]} for d in departments),
            key=lambda item: -item["count"],
        ),
        "open_type": [
            {"value": v, "label": str(label), "count": type_counts[v]}
            for v, label in OpenType.choices
            if v in type_counts
        ],
        "format": sorted(
            ({"value": v, "label": v, "count": n} for v, n in format_counts.items()), key=lambda item: -item["count"]
        ),
        "frequency": [
            {"value": v, "label": str(label), "count": freq_counts[v]}
            for v, label in Frequency.choices
            if v in freq_counts
        ],
        "estimated": estimated,  # counted on a sample of a very broad search: the page says 约, the API flags it
    }


def _listed(flt: CatalogFilter) -> QuerySet[Dataset]:
    return (
        flt.apply(published())
        .distinct()
        .select_related("department")
        .prefetch_related(
            "domains", Prefetch("resources", queryset=Resource.objects.only("id", "dataset_id", "format"))
        )
    )


def dataset_page(flt: CatalogFilter, *, cursor: str | None, limit: Any) -> Page:
    queryset = _listed(flt)
    if flt.sort == "relevance":
        return paginate_ranked(queryset, flt.ranked_ids(), cursor=cursor, limit=limit)
    return paginate_keyset(queryset, order=SORTS[flt.sort], cursor=cursor, limit=limit)


def search_page(flt: CatalogFilter, *, cursor: str | None, limit: Any) -> Page:
    """The catalog page's list for a search by relevance: its results in ranking order, datasets with what their
    cards show and results of other kinds (the standard's rules; `engine.Hit`, with a `kind`) where they rank.
    Filters narrow a search to datasets. Other sorts list datasets only (`dataset_page`)."""
    from citydata.search import engine

    if flt.sort != "relevance":
        return dataset_page(flt, cursor=cursor, limit=limit)
    size = clamp_limit(limit)
    hits = flt.search_results().hits
    start = _decode(cursor) if cursor else 0
    if not isinstance(start, int) or not 0 <= start <= len(hits):
        raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor")
    queryset = _listed(flt)  # the ranked datasets still published and passing the filters: the index may lag
    allowed = set(queryset.values_list("pk", flat=True))
    ranked = [h for h in hits if h.kind != "dataset" or h.document.object_id in allowed]
    chunk = ranked[start : start + size]
    rows = {d.pk: d for d in queryset.filter(pk__in=[h.document.object_id for h in chunk if h.kind == "dataset"])}
    items = [rows.get(h.document.object_id) if h.kind == "dataset" else h for h in chunk]
    items = [item for item in items if item is not None]
    engine.load_deferred([h for h in chunk if h.kind != "dataset"])  # their cards show the summary
    more = start + size < len(ranked)
    return Page(items=items, next_cursor=_encode(start + size) if more else None, limit=size)


def datasets_with_details() -> QuerySet[Dataset]:
    """Datasets with everything their page and detail endpoint show, in a fixed number of queries."""
    return Dataset.objects.select_related("department", "inventory_entry").prefetch_related(
        "domains", "fields", "resources"
    )


def dataset_for_view(slug: str, user=None) -> Dataset:
    """A dataset as the public (or, for drafts, its department's staff) may see it."""
    from citydata.accounts import authz

    dataset = datasets_with_details().filter(slug=slug[:100]).first()
    if dataset is None:
        raise Dataset.DoesNotExist
    if dataset.status != DatasetStatus.PUBLISHED and not (
        user is not None and user.is_authenticated and authz.can(user, "catalog.view_drafts", dataset.department)
    ):
        raise Dataset.DoesNotExist
    return dataset


def related(dataset: Dataset, limit: int = 5) -> list[Dataset]:
    domain_ids = [d.pk for d in dataset.domains.all()]
    return list(
        published()
        .filter(domains__in=domain_ids)
        .exclude(pk=dataset.pk)
        .select_related("department")
        .distinct()
        .order_by("-download_count", "-id")[:limit]
    )


def formats_of(dataset: Dataset) -> list[str]:
    return sorted({r.format for r in dataset.resources.all()})


def dataset_summary(dataset: Dataset) -> dict[str, Any]:
    return {
        "slug": dataset.slug,
        "title": dataset.title,
        "description": dataset.description,
        "department": {"code": dataset.department.code, "name": dataset.department.name},
        "domains": [{"code": d.code, "name": d.name} for d in dataset.domains.all()],
        "open_type": dataset.open_type,
        "update_frequency": dataset.update_frequency,
        "formats": formats_of(dataset),
        "published_at": dataset.published_at,
        "last_data_update": dataset.last_data_update,
        "view_count": dataset.view_count,
        "download_count": dataset.download_count,
    }


def dataset_detail(dataset: Dataset) -> dict[str, Any]:
    return {
        **dataset_summary(dataset),
        "status": dataset.status,
        "version": dataset.version,
        "tags": dataset.tags,
        "licence": dataset.licence,
        "temporal_start": dataset.temporal_start,
        "temporal_end": dataset.temporal_end,
        "spatial_coverage": dataset.spatial_coverage,
        "contact_name": dataset.contact_name,
        "contact_phone": dataset.contact_phone,
        "contact_email": dataset.contact_email,
        "fields": [
            {
                "name": f.name,
                "title": f.title,
                "type": f.type,
                "unit": f.unit,
                "description": f.description,
                "example": f.example,
                "sensitive": f.sensitive,
                "category": f.category,
            }
            for f in dataset.fields.all()
        ],
        "resources": [
            {"id": r.pk, "name": r.name, "kind": r.kind, "format": r.format, "url": r.url, "size_bytes": r.size_bytes}
            for r in dataset.resources.all()
        ],
    }


def domain_counts() -> list[dict[str, Any]]:
    counts = dict(
        Domain.objects.filter(datasets__status=DatasetStatus.PUBLISHED)
        .values_list("code")
        .annotate(n=Count("datasets", distinct=True))
    )
    return [
        {"code": d.code, "name": d.label, "is_priority": d.is_priority, "count": counts.get(d.code, 0)}
        for d in Domain.objects.all()
    ]


@dataclass(frozen=True)
class Coverage:
    """R2.2: of the inventory entries without a legal basis, the share that is on the open list."""

    department_code: str
    department_name: str
    total: int
    closed: int
    without_basis: int
    on_open_list: int

    @property
    def share(self) -> float | None:
        return None if not self.without_basis else round(100 * self.on_open_list / self.without_basis, 1)


def coverage_by_department() -> tuple[list[Coverage], Coverage]:
    """Per department and city-wide, in two queries whatever the number of departments."""
    from django.db.models import Count, Q

    from citydata.catalog.models import OPEN_LIST_TYPES, InventoryEntry

    no_basis = Q(legal_basis_name="")
    rows = (
        InventoryEntry.objects.order_by()
        .values("department__code", "department__name")
        .annotate(
            total=Count("id"),
            closed=Count("id", filter=Q(open_type=OpenType.CLOSED)),
            without_basis=Count("id", filter=no_basis),
            on_open_list=Count("id", filter=no_basis & Q(open_type__in=OPEN_LIST_TYPES)),
        )
        .order_by("department__code")
    )
    per = [
        Coverage(
            r["department__code"], r["department__name"], r["total"], r["closed"], r["without_basis"], r["on_open_list"]
        )
        for r in rows
    ]
    city = Coverage(
        "",
        str(_("全市")),
        sum(c.total for c in per),
        sum(c.closed for c in per),
        sum(c.without_basis for c in per),
        sum(c.on_open_list for c in per),
    )
    return per, city


def public_inventory(department: Department) -> QuerySet:
    """A department's inventory as the public sees it: every entry, with the basis of those not opened."""
    from citydata.catalog.models import InventoryEntry

    return InventoryEntry.objects.filter(department=department).order_by("code")


@dataclass(frozen=True)
class OpenListDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    reclassified: list[dict[str, Any]]  # {"code", "name", "before", "after"}


def open_list_rows(version) -> list[dict[str, Any]]:
    """A version's entries with the open type's label in the active language."""
    return [
        {
            **e,
            "open_type_label": str(OpenType(e["open_type"]).label)
            if e["open_type"] in OpenType.values
            else e["open_type"],
        }
        for e in version.entries
    ]


def open_list_diff(older, newer) -> OpenListDiff:
    """What changed between two open-list versions: entries added, removed, or whose open type changed."""

    def label(value: str) -> str:
        return str(OpenType(value).label) if value in OpenType.values else value

    before = {e["code"]: {**e, "open_type_label": label(e["open_type"])} for e in older.entries}
    after = {e["code"]: {**e, "open_type_label": label(e["open_type"])} for e in newer.entries}
    return OpenListDiff(
        added=[after[c] for c in sorted(after.keys() - before.keys())],
        removed=[before[c] for c in sorted(before.keys() - after.keys())],
        reclassified=[
            {
                "code": c,
                "name": after[c]["name"],
                "before": label(before[c]["open_type"]),
                "after": label(after[c]["open_type"]),
            }
            for c in sorted(before.keys() & after.keys())
            if before[c]["open_type"] != after[c]["open_type"]
        ],
    )


# --- progress toward the annual target (R1.2) -------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    month: dt.date
    opened: int  # published in that month
    cumulative: int  # published by the end of that month (all years)


@dataclass(frozen=True)
class GroupProgress:
    code: str
    name: str
    this_year: int
    total: int
    target: int | None = None

    @property
    def share(self) -> float | None:
        return self.total / self.target if self.target else None


@dataclass(frozen=True)
class Progress:
    """Datasets open by the end of the year (currently published, by month of publication) against the
    year's target (R1.2: 500+ open datasets). A withdrawn dataset no longer counts: the figure is what
    citizens can use today. `target` is None for a department without one, or for a domain."""

    year: int
    target: int | None
    total: int
    this_year: int
    months: list[MonthPoint]
    departments: list[GroupProgress]
    domains: list[GroupProgress]

    @property
    def share(self) -> float | None:
        return self.total / self.target if self.target else None


def city_target(year: int, default: int) -> int:
    """The city-wide target of `year`: set by operators, else CITYDATA_ANNUAL_TARGET."""
    from citydata.catalog.models import OpeningTarget

    row = OpeningTarget.objects.filter(year=year, department__isnull=True).values_list("target", flat=True).first()
    return row or default


def progress_args(params) -> dict[str, Any]:
    """year, department and domain from a query string, checked; the same for the page and the API."""
    from django.conf import settings

    this_year = timezone.localdate().year
    raw = str(params.get("year") or this_year)
    if not raw.isdigit() or not 2000 <= int(raw) <= this_year:
        raise DomainError(
            gettext("年份应在 2000 至 %(year)s 之间。") % {"year": this_year},
            code="invalid_year",
            details={"field": "year"},
        )
    return {
        "year": int(raw),
        "default_target": settings.ANNUAL_TARGET,
        "department": str(params.get("department") or "")[:32].upper(),
        "domain": str(params.get("domain") or "")[:40],
    }


def progress(year: int, *, default_target: int, department: str = "", domain: str = "") -> Progress:
    """The city's progress in `year`, optionally for one department or domain: a fixed number of queries."""
    from citydata.catalog.models import OpeningTarget

    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    targets: dict[str | None, int] = dict(
        OpeningTarget.objects.filter(year=year).values_list("department__code", "target")
    )
    if domain:
        target = None
    elif department:
        target = targets.get(department)
    else:
        target = targets.get(None, default_target)
    base = published().filter(published_at__lt=end)
    if department:
        base = base.filter(department__code=department)
    if domain:
        base = base.filter(pk__in=Dataset.domains.through.objects.filter(domain__code=domain).values("dataset_id"))
    before = base.filter(published_at__lt=start).count()
    per_month = dict(
        base.filter(published_at__gte=start, published_at__lt=end)
        .annotate(month=TruncMonth("published_at"))
        .order_by()
        .values_list("month")
        .annotate(n=Count("id", distinct=True))
    )
    opened_by_month = {m.month: n for m, n in per_month.items() if m is not None}
    months, running = [], before
    today = timezone.localdate()
    for number in range(1, 13):
        first = dt.date(year, number, 1)
        if first > today:
            break
        running += opened_by_month.get(number, 0)
        months.append(MonthPoint(first, opened_by_month.get(number, 0), running))
    this_year = sum(opened_by_month.values())
    in_year = Q(published_at__gte=start, published_at__lt=end)
    counts = {"y": Count("id", filter=in_year, distinct=True), "n": Count("id", distinct=True)}
    department_names = dict(Department.objects.values_list("code", "name"))
    domain_names = {d.code: d.label for d in Domain.objects.all()}

    def grouped(column: str, names: dict[str, str], with_targets: bool = False) -> list[GroupProgress]:
        rows = base.order_by().values_list(column).annotate(**counts)
        return sorted(
            (
                GroupProgress(code, names.get(code, code), y, n, targets.get(code) if with_targets else None)
                for code, y, n in rows
                if code is not None
            ),
            key=lambda g: (-g.this_year, -g.total, g.code),
        )

    return Progress(
        year=year,
        target=target,
        total=before + this_year,
        this_year=this_year,
        months=months,
        departments=grouped("department__code", department_names, with_targets=True),
        domains=grouped("domains__code", domain_names),
    )
