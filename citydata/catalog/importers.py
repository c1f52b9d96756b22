"""Import catalogs of other platforms: CKAN API output, DCAT JSON-LD and the Chinese CSV template.

Each format is a parser that yields `ImportRecord`s (an extension point: `PARSERS`); one loader
normalises vocabularies, finds the department and domains, skips what it cannot place (saying
why) and creates draft datasets through the catalog services, keyed by the source identifier so a
second run creates no duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from citydata.accounts.models import Department
from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain, OpenType
from citydata.errors import DomainError


class ImportFileError(Exception):
    """The file as a whole cannot be read as the format it claims to be."""


@dataclass
class ImportRecord:
    source_id: str
    title: str
    description: str = ""
    department: str = ""  # code or name
    domains: list[str] = field(default_factory=list)  # codes or names
    tags: list[str] = field(default_factory=list)
    open_type: str = ""
    frequency: str = ""
    resources: list[tuple[str, str, str]] = field(default_factory=list)  # (name, format, url)


OPEN_TYPES = {
    OpenType.OPEN: {"无条件开放", "无条件", "完全开放", "开放", "open", "public", "unconditional"},
    OpenType.CONDITIONAL: {"有条件开放", "有条件", "受限开放", "依申请开放", "conditional", "restricted"},
    OpenType.CLOSED: {"不予开放", "禁止开放", "不开放", "closed", "non-public"},
}
FREQUENCIES = {
    "realtime": {"实时", "real-time", "realtime", "continuous", "cont", "update_cont", "r/pt1s", "r/pt1m"},
    "daily": {"每日", "每天", "日", "daily", "r/p1d"},
    "weekly": {"每周", "周", "weekly", "r/p1w"},
    "monthly": {"每月", "月", "monthly", "r/p1m"},
    "quarterly": {"每季度", "季度", "quarterly", "r/p3m"},
    "yearly": {"每年", "年", "annual", "annually", "yearly", "r/p1y"},
}


def normalise_open_type(value: str) -> str:
    text = (value or "").strip().lower()
    for open_type, words in OPEN_TYPES.items():
        if text in words:
            return open_type
    return OpenType.OPEN if not text else ""


def normalise_frequency(value: str) -> str:
    text = (value or "").strip().lower()
    text = text.rsplit("/", 1)[-1] if text.startswith("http") else text  # EU vocabulary URIs end in the term
    for frequency, words in FREQUENCIES.items():
        if text in words or text.upper() in {w.upper() for w in words}:
            return frequency
    return "irregular"


def _text(value: Any) -> str:
    """A plain string from CKAN/DCAT values, which may be strings, lists, or {"@value": …} objects."""
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("@id") or value.get("name") or value.get("title") or "")
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return "" if value is None else str(value).strip()


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [t for t in (_text(v) for v in items) if t]


# --- CKAN ------------------------------------------------------------------------------------


def parse_ckan(data: Any) -> Iterator[ImportRecord]:
    """package_search ({"result": {"results": [...]}}), package_show ({"result": {...}}) or a list of packages."""
    if isinstance(data, dict) and "result" in data:
        result = data["result"]
        packages = result.get("results") if isinstance(result, dict) and "results" in result else [result]
    elif isinstance(data, list):
        packages = data
    else:
        raise ImportFileError(_("不是 CKAN 接口的输出：缺少 result 字段（package_search 或 package_show 的返回）。"))
    if not isinstance(packages, list):
        raise ImportFileError(_("CKAN 输出的 result.results 应是数据集列表。"))
    for package in packages:
        if not isinstance(package, dict):
            continue
        extras = {
            _text(e.get("key")): _text(e.get("value")) for e in package.get("extras") or [] if isinstance(e, dict)
        }
        organization = package.get("organization") or {}
        yield ImportRecord(
            source_id=_text(package.get("name") or package.get("id")),
            title=_text(package.get("title")),
            description=_text(package.get("notes")),
            department=_text(organization.get("title") or organization.get("name"))
            if isinstance(organization, dict)
            else "",
            domains=[
                _text(g.get("title") or g.get("name")) for g in package.get("groups") or [] if isinstance(g, dict)
            ],
            tags=[
                _text(t.get("display_name") or t.get("name")) for t in package.get("tags") or [] if isinstance(t, dict)
            ],
            open_type=extras.get("开放类型") or extras.get("open_type") or extras.get("access_level") or "",
            frequency=extras.get("更新频率") or extras.get("frequency") or extras.get("update_frequency") or "",
            resources=[
                (_text(r.get("name")) or _text(r.get("format")), _text(r.get("format")), _text(r.get("url")))
                for r in package.get("resources") or []
                if isinstance(r, dict)
            ],
        )


# --- DCAT ------------------------------------------------------------------------------------


def _get(node: dict, *names: str) -> Any:
    """The first present key among prefixed and bare forms: dct:title, title, http://purl.org/dc/terms/title."""
    for name in names:
        bare = name.split(":", 1)[-1]
        for key in (name, bare):
            if key in node:
                return node[key]
        for key in node:
            if key.endswith("/" + bare) or key.endswith("#" + bare):
                return node[key]
    return None


def parse_dcat(data: Any) -> Iterator[ImportRecord]:
    """A DCAT catalog in JSON-LD: an @graph, or a catalog node with dcat:dataset."""
    if isinstance(data, dict) and "@graph" in data:
        nodes = data["@graph"]
    elif isinstance(data, dict):
        nodes = _get(data, "dcat:dataset") or []
    elif isinstance(data, list):
        nodes = data
    else:
        raise ImportFileError(_("不是 DCAT JSON-LD：应为含 @graph 或 dcat:dataset 的对象。"))
    if isinstance(nodes, dict):
        nodes = [nodes]
    datasets = [
        n for n in nodes if isinstance(n, dict) and ("Dataset" in str(n.get("@type", "")) or _get(n, "dct:title"))
    ]
    if not datasets:
        raise ImportFileError(_("DCAT 文件中没有找到任何数据集（dcat:Dataset）。"))
    by_id = {n.get("@id"): n for n in nodes if isinstance(n, dict) and n.get("@id")}
    for node in datasets:
        if "Catalog" in str(node.get("@type", "")):
            continue
        publisher = _get(node, "dct:publisher")
        if isinstance(publisher, dict) and "@id" in publisher and publisher["@id"] in by_id:
            publisher = by_id[publisher["@id"]]
        distributions = _get(node, "dcat:distribution") or []
        distributions = distributions if isinstance(distributions, list) else [distributions]
        resources = []
        for dist in distributions:
            if isinstance(dist, dict) and set(dist) == {"@id"} and dist["@id"] in by_id:
                dist = by_id[dist["@id"]]
            if isinstance(dist, dict):
                fmt = _text(_get(dist, "dct:format") or _get(dist, "dcat:mediaType")).rsplit("/", 1)[-1].upper()
                url = _text(_get(dist, "dcat:downloadURL") or _get(dist, "dcat:accessURL"))
                resources.append((_text(_get(dist, "dct:title")) or fmt, fmt, url))
        yield ImportRecord(
            source_id=_text(_get(node, "dct:identifier") or node.get("@id")),
            title=_text(_get(node, "dct:title")),
            description=_text(_get(node, "dct:description")),
            department=_text(_get(publisher, "foaf:name")) if isinstance(publisher, dict) else _text(publisher),
            domains=_texts(_get(node, "dcat:theme")),
            tags=_texts(_get(node, "dcat:keyword")),
            open_type=_text(_get(node, "dct:accessRights")),
            frequency=_text(_get(node, "dct:accrualPeriodicity")),
            resources=resources,
        )


# --- CSV template ----------------------------------------------------------------------------

CSV_COLUMNS = {
    "标识": "source_id",
    "数据集名称": "title",
    "摘要": "description",
    "提供部门": "department",
    "领域": "domains",
    "标签": "tags",
    "开放类型": "open_type",
    "更新频率": "frequency",
    "数据格式": "formats",
}


def parse_csv(text: str) -> Iterator[ImportRecord]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("标识", "数据集名称", "提供部门") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(_("CSV 模板缺少列：%(cols)s。") % {"cols": "、".join(missing)})
    split = re.compile(r"[、,，;；\s]+")
    for row in reader:
        values = {CSV_COLUMNS[k]: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
        yield ImportRecord(
            source_id=values.get("source_id", ""),
            title=values.get("title", ""),
            description=values.get("description", ""),
            department=values.get("department", ""),
            domains=[d for d in split.split(values.get("domains", "")) if d],
            tags=[t for t in split.split(values.get("tags", "")) if t],
            open_type=values.get("open_type", ""),
            frequency=values.get("frequency", ""),
            resources=[(f, f.upper(), "") for f in split.split(values.get("formats", "")) if f],
        )


PARSERS: dict[str, Callable[[Any], Iterator[ImportRecord]]] = {"ckan": parse_ckan, "dcat": parse_dcat, "csv": parse_csv}


def read(raw: bytes, fmt: str) -> Iterator[ImportRecord]:
    if fmt not in PARSERS:
        raise ImportFileError(_("不支持的格式：%(fmt)s（可选 ckan、dcat、csv）。") % {"fmt": fmt})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("无法识别文件编码，请使用 UTF-8 或 GBK。"))
    if fmt == "csv":
        return parse_csv(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            _("文件不是有效的 JSON：第 %(line)s 行第 %(col)s 列，%(msg)s。")
            % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
        ) from None
    return PARSERS[fmt](data)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source id or title, reason)


class Importer:
    """Turns records into draft datasets. Lookups are cached so tens of thousands of records stay cheap."""

    def __init__(self, *, source: str, department_code: str = "", default_domain: str = "government"):
        self.source = source
        self.departments = {d.code: d for d in Department.objects.all()}
        self.departments_by_name = {d.name: d for d in self.departments.values()}
        self.fixed_department = None
        if department_code:
            self.fixed_department = self.departments.get(department_code.upper())
            if self.fixed_department is None:
                raise ImportFileError(_("部门编码 %(code)s 不存在。") % {"code": department_code})
        self.domains = {d.code: d for d in Domain.objects.all()}
        self.domains.update({d.name: d for d in Domain.objects.all()})
        self.default_domain = self.domains.get(default_domain)
        self.seen = set(Dataset.objects.filter(source=source).exclude(source_id="").values_list("source_id", flat=True))
        self.report = ImportReport()

    def _department(self, record: ImportRecord) -> Department | None:
        if self.fixed_department is not None:
            return self.fixed_department
        return self.departments.get(record.department.upper()) or self.departments_by_name.get(record.department)

    def load(self, record: ImportRecord) -> None:
        label = record.source_id or record.title or "?"
        if not record.source_id:
            self.report.skipped.append((label, _("缺少来源标识")))
            return
        if record.source_id in self.seen:
            self.report.existing += 1
            return
        if not record.title:
            self.report.skipped.append((label, _("缺少名称")))
            return
        department = self._department(record)
        if department is None:
            self.report.skipped.append(
                (label, _("找不到提供部门“%(name)s”，请先创建部门或用 --department 指定") % {"name": record.department})
            )
            return
        open_type = normalise_open_type(record.open_type)
        if open_type == OpenType.CLOSED:
            self.report.skipped.append((label, _("不予开放的数据不作为数据集导入")))
            return
        if not open_type:
            self.report.skipped.append((label, _("无法识别的开放类型“%(value)s”") % {"value": record.open_type}))
            return
        domains = list({d.pk: d for d in (self.domains.get(n) for n in record.domains) if d}.values())
        if not domains and self.default_domain is not None:
            domains = [self.default_domain]
        slug = record.source_id.lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,89}", slug) or Dataset.objects.filter(slug=slug).exists():
            slug = ""
        try:
            with transaction.atomic():
                services.dataset_create(
                    by=None,
                    department=department,
                    slug=slug,
                    source=self.source,
                    source_id=record.source_id,
                    data={
                        "title": record.title[:120],
                        "description": record.description or record.title,
                        "open_type": open_type,
                        "update_frequency": normalise_frequency(record.frequency),
                        "tags": record.tags[:20],
                    },
                    domains=domains,
                    resources=[
                        services.ResourceSpec(name[:120] or fmt or "resource", (fmt or "?")[:20], url=url[:500])
                        for name, fmt, url in record.resources
                    ],
                )
        except (DomainError, IntegrityError) as exc:
            self.report.skipped.append((label, str(getattr(exc, "message", exc))))
            return
        self.seen.add(record.source_id)
        self.report.created += 1
