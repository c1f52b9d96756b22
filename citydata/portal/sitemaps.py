"""sitemap.xml and robots.txt for search engines (R7.2).

The sitemap is an index of section sitemaps: the portal's own pages, the departments, and the published
datasets in pages of at most URLS_PER_SITEMAP addresses. Each is built from a fixed number of queries whatever
the size of the catalog, and section pages are streamed as they are read."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.db.models import ExpressionWrapper, F, IntegerField, Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from citydata.accounts.models import Department
from citydata.catalog.models import DatasetStatus
from citydata.catalog.queries import published

URLS_PER_SITEMAP = 50_000  # the most one sitemap file may list (sitemaps.org)
_CHUNK = 1000  # addresses written to the response at a time
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")  # what quote() would leave as it is

# Where crawlers have no business: pages behind a login and the API (except its documentation).
PRIVATE_PREFIXES = (
    "/manage/",
    "/console/",
    "/workspace/",
    "/security/",
    "/account/",
    "/admin/",
    "/home/",
    "/expert/",
    "/api/",
    "/search/",  # suggestions and the click-counting redirect in front of search results
)
# Listed before the Disallow lines: crawlers that take the first matching rule, not the longest, still allow them.
PUBLIC_API_PATHS = ("/api/v1/docs", "/api/v1/openapi.json")

_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def modified(prefix: str = ""):
    """When a dataset last changed, its metadata or its data (`seo.dataset_modified`, as a database expression)."""
    return Greatest(F(f"{prefix}updated_at"), Coalesce(F(f"{prefix}last_data_update"), F(f"{prefix}updated_at")))


def w3c(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else ""


def _path_maker(name: str) -> Callable[[str], str]:
    """A fast stand-in for reverse(name, args=[value]) over tens of thousands of values."""
    head, _, tail = reverse(name, args=["PLACEHOLDER"]).partition("PLACEHOLDER")
    return lambda value: f"{head}{value if _URL_SAFE.fullmatch(value) else quote(value, safe='')}{tail}"


def _entries(tag: str, rows: Iterable[tuple[str, dt.datetime | None]]) -> Iterator[str]:
    """XML of <url> or <sitemap> entries, a chunk of addresses at a time."""
    chunk: list[str] = []
    for loc, lastmod in rows:
        stamp = f"<lastmod>{w3c(lastmod)}</lastmod>" if lastmod else ""
        chunk.append(f"<{tag}><loc>{escape(loc)}</loc>{stamp}</{tag}>\n")
        if len(chunk) >= _CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def urlset(rows: Iterable[tuple[str, dt.datetime | None]]) -> Iterator[str]:
    yield f"{_XML}<urlset {_NS}>\n"
    yield from _entries("url", rows)
    yield "</urlset>\n"


def _page_number():
    """The section page a row belongs to, from its primary key: page n holds keys (n-1)·L+1 … n·L.

    Pages by key range, not by position: a dataset stays on its page for good (withdrawing another does not
    shift every later page), a page is read through the primary key index without OFFSET, and no page can
    hold more than L addresses. Pages may hold fewer where keys are drafts or were deleted."""
    return ExpressionWrapper((F("pk") - 1) / URLS_PER_SITEMAP + 1, output_field=IntegerField())


def _in_page(page: int) -> Q:
    return Q(pk__gt=(page - 1) * URLS_PER_SITEMAP, pk__lte=page * URLS_PER_SITEMAP)


def _dataset_pages() -> dict[int, dt.datetime | None]:
    """Each page of published datasets that lists any, with the newest change it lists: one query."""
    rows = (
        published()
        .order_by()
        .annotate(page=_page_number())
        .values("page")
        .annotate(lastmod=Max(modified()))
        .values_list("page", "lastmod")
    )
    return dict(sorted(rows))


def _department_pages() -> list[int]:
    rows = Department.objects.filter(is_active=True).order_by().annotate(page=_page_number())
    return sorted(rows.values_list("page", flat=True).distinct())


def index(base: str) -> Iterator[str]:
    """The sitemap index: one entry per section page, with the newest change it lists."""
    dataset_pages = _dataset_pages() or {1: None}  # an empty catalog still has its (empty) first page
    latest = max(filter(None, dataset_pages.values()), default=None)
    entries: list[tuple[str, dt.datetime | None]] = [(base + reverse("portal:sitemap_pages"), latest)]
    # A department's page lists its newest datasets: the catalog's newest change is a fair bound.
    entries += [(base + reverse("portal:sitemap_departments", args=[n]), latest) for n in _department_pages() or [1]]
    entries += [(base + reverse("portal:sitemap_datasets", args=[n]), lastmod) for n, lastmod in dataset_pages.items()]
    yield f"{_XML}<sitemapindex {_NS}>\n"
    yield from _entries("sitemap", entries)
    yield "</sitemapindex>\n"


def portal_pages(base: str) -> Iterator[str]:
    """The portal's own pages: home, the catalog, the open progress, the published standard."""
    latest = published().aggregate(latest=Max(modified()))["latest"]
    rows = [
        (base + reverse("portal:home"), latest),
        (base + reverse("catalog:dataset_list"), latest),
        (base + reverse("catalog:progress"), latest),
        (base + reverse("catalog:standard"), None),
    ]
    return urlset(rows)


def has_page(kind: str, page: int) -> bool:
    """Whether section `kind` ("datasets" or "departments") lists anything on page `page`; the first page
    always exists, so an empty catalog still has a valid sitemap."""
    if page < 1:
        return False
    if page == 1:
        return True
    queryset = published() if kind == "datasets" else Department.objects.filter(is_active=True)
    return queryset.filter(_in_page(page)).exists()


def datasets(base: str, page: int) -> Iterator[str]:
    """One page of published datasets, oldest first, read in chunks while the response is written."""
    path = _path_maker("catalog:dataset_detail")
    rows = published().filter(_in_page(page)).order_by("pk").annotate(lastmod=modified()).values_list("slug", "lastmod")
    return urlset((base + path(slug), lastmod) for slug, lastmod in rows.iterator(chunk_size=_CHUNK))


def departments(base: str, page: int) -> Iterator[str]:
    """One page of active departments, with the newest change among their published datasets."""
    path = _path_maker("catalog:department_detail")
    rows = (
        Department.objects.filter(_in_page(page), is_active=True)
        .order_by("pk")
        .annotate(lastmod=Max(modified("datasets__"), filter=Q(datasets__status=DatasetStatus.PUBLISHED)))
        .values_list("code", "lastmod")
    )
    return urlset((base + path(code), lastmod) for code, lastmod in rows.iterator(chunk_size=_CHUNK))


def robots(base: str) -> str:
    lines = ["User-agent: *"]
    lines += [f"Allow: {path}" for path in PUBLIC_API_PATHS]
    lines += [f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES]
    lines += ["", f"Sitemap: {base}{reverse('portal:sitemap')}", ""]
    return "\n".join(lines)
