"""What search engines read on the public catalog pages: canonical addresses, Open Graph tags and schema.org JSON-LD."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext

from citydata.accounts.models import Department
from citydata.catalog.models import Dataset, OpenType

# The catalog list's filters that change what it lists, in the order its canonical address names them.
# The search text, sort, paging cursor and anything else (utm_*, …) are left out.
CANONICAL_FILTERS = ("domain", "department", "open_type", "format", "frequency")

# Declared formats that have a media type; others are named as declared (schema.org accepts either).
MEDIA_TYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "GEOJSON": "application/geo+json",
    "XML": "application/xml",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "XLS": "application/vnd.ms-excel",
    "PDF": "application/pdf",
    "ZIP": "application/zip",
    "TXT": "text/plain",
    "PARQUET": "application/vnd.apache.parquet",
}

# Escaped so a value can never close the <script> element or open an HTML comment inside it; U+2028/2029 for
# consumers that read the block as JavaScript.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


@dataclass(frozen=True)
class PageMeta:
    """The head of a public page as crawlers and link previews read it."""

    title: str
    description: str
    canonical: str
    site_name: str
    og_type: str = "website"
    jsonld: SafeString | None = None


def public_base(request) -> str:
    """scheme://host of the platform: CITYDATA_PUBLIC_URL, else the address the request came to."""
    return settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def absolute(base: str, url: str) -> str:
    """`url` as an absolute address: a path on this platform gets `base` in front, a full address stays."""
    return base + url if url.startswith("/") and not url.startswith("//") else url


def site_name() -> str:
    english = (get_language() or "").startswith("en")
    return settings.PLATFORM_NAME_EN if english else settings.PLATFORM_NAME


def dataset_modified(dataset: Dataset) -> dt.datetime:
    """When the dataset last changed, its metadata or its data (the sitemap's lastmod says the same)."""
    return max(filter(None, [dataset.updated_at, dataset.last_data_update]))


def jsonld_script_content(data: dict[str, Any]) -> SafeString:
    """`data` as the content of a <script type="application/ld+json"> element: valid JSON that cannot end it."""
    text = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder).translate(_SCRIPT_ESCAPES)
    return mark_safe(text)  # noqa: S308 - every character that could end the element is escaped above


def _temporal_coverage(start: dt.date | None, end: dt.date | None) -> str:
    if not start and not end:
        return ""
    return f"{start.isoformat() if start else '..'}/{end.isoformat() if end else '..'}"


def _licence(licence: str) -> Any:
    if licence.startswith(("https://", "http://")):
        return licence
    return {"@type": "CreativeWork", "name": licence}


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def dataset_jsonld(dataset: Dataset, *, base: str) -> dict[str, Any]:
    """The schema.org Dataset describing `dataset`, with absolute addresses under `base`.

    Reads only what `queries.datasets_with_details()` already loaded (department, domains, resources).
    A resource without an address has nothing to download, so it is not listed as a distribution."""
    url = base + reverse("catalog:dataset_detail", args=[dataset.slug])
    department = dataset.department
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "identifier": dataset.slug,
        "name": dataset.title,
        "description": dataset.description[:5000],
        "inLanguage": "zh-CN",
        "keywords": _unique([*dataset.tags, *(d.name for d in dataset.domains.all())]),
        "creator": {
            "@type": "GovernmentOrganization",
            "name": department.name,
            "url": base + reverse("catalog:department_detail", args=[department.code]),
        },
        "publisher": {"@type": "GovernmentOrganization", "name": settings.PLATFORM_ORGANISER},
        "license": _licence(dataset.licence),
        "dateModified": dataset_modified(dataset),
        "distribution": [
            {
                "@type": "DataDownload",
                "name": resource.name,
                "encodingFormat": MEDIA_TYPES.get(resource.format.upper(), resource.format),
                "contentUrl": absolute(base, resource.url),
            }
            for resource in dataset.resources.all()
            if resource.url
        ],
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": settings.PLATFORM_NAME,
            "url": base + reverse("catalog:dataset_list"),
        },
    }
    if dataset.published_at:
        data["datePublished"] = dataset.published_at
    if temporal := _temporal_coverage(dataset.temporal_start, dataset.temporal_end):
        data["temporalCoverage"] = temporal
    if dataset.spatial_coverage:
        data["spatialCoverage"] = {"@type": "Place", "name": dataset.spatial_coverage}
    if dataset.open_type == OpenType.OPEN:
        data["isAccessibleForFree"] = True
    elif dataset.open_type == OpenType.CONDITIONAL:
        data["conditionsOfAccess"] = gettext(
            "这是有条件开放数据：需登录后在线申请，审核通过并签订开放利用协议后方可使用。"
        )
    if dataset.source and dataset.source_id:
        data["identifier"] = [
            dataset.slug,
            {"@type": "PropertyValue", "propertyID": dataset.source, "value": dataset.source_id},
        ]
    return data


def dataset_meta(request, dataset: Dataset) -> PageMeta:
    base = public_base(request)
    return PageMeta(
        title=dataset.title,
        description=Truncator(dataset.description).chars(200),
        canonical=base + reverse("catalog:dataset_detail", args=[dataset.slug]),
        site_name=site_name(),
        jsonld=jsonld_script_content(dataset_jsonld(dataset, base=base)),
    )


def catalog_canonical(base: str, flt) -> str:
    """The catalog list's address with only the filters that change what it lists, always in the same order."""
    params = [(name, getattr(flt, name)) for name in CANONICAL_FILTERS if getattr(flt, name)]
    return base + reverse("catalog:dataset_list") + (f"?{urlencode(params)}" if params else "")


def catalog_meta(request, flt) -> PageMeta:
    return PageMeta(
        title=gettext("数据目录"),
        description=gettext("政府公共数据开放、查询、下载与接口服务"),
        canonical=catalog_canonical(public_base(request), flt),
        site_name=site_name(),
    )


def department_meta(request, department: Department) -> PageMeta:
    return PageMeta(
        title=department.name,
        description=gettext("%(department)s开放的公共数据集和公共数据开放清单。") % {"department": department.name},
        canonical=public_base(request) + reverse("catalog:department_detail", args=[department.code]),
        site_name=site_name(),
    )
