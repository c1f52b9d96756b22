"""Format checks: machine-readable, non-proprietary formats and the openness stars (1–5) as ckanext-qa gives them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity

# ckanext-qa's scale: 1 open licence, any format (PDF, images, Word); 2 machine-readable but proprietary
# (Excel); 3 open, non-proprietary format (CSV, JSON, XML); 4 open standards that identify things with URIs
# (RDF); 5 linked data. An API of this platform answers JSON: 3.
STARS = {
    "PDF": 1, "DOC": 1, "DOCX": 1, "JPG": 1, "JPEG": 1, "PNG": 1, "GIF": 1, "TIF": 1, "TIFF": 1, "BMP": 1,
    "PPT": 1, "PPTX": 1, "HTML": 1, "ZIP": 1, "RAR": 1, "TXT": 1,
    "XLS": 2, "XLSX": 2, "SHP": 2, "DBF": 2, "MDB": 2,
    "CSV": 3, "TSV": 3, "JSON": 3, "JSONL": 3, "GEOJSON": 3, "XML": 3, "PARQUET": 3, "API": 3, "SSE": 3, "ODS": 3,
    "KML": 3, "WMS": 3, "WFS": 3,
    "RDF": 4, "TTL": 4, "JSON-LD": 4, "JSONLD": 4, "N3": 4, "NT": 4,
    "LOD": 5,
}  # fmt: skip
MACHINE_READABLE = {fmt for fmt, stars in STARS.items() if stars >= 2}


def stars_of(fmt: str) -> int:
    return STARS.get(fmt.strip().upper(), 1)


def dataset_stars(resources) -> int:
    """The best resource's stars; 0 when there is no resource at all (nothing is available)."""
    return max((stars_of(r.format) for r in resources), default=0)


@check(
    code="format.machine_readable",
    family=Family.FORMAT,
    severity=Severity.HIGH,
    title=gettext_lazy("提供机器可读格式"),
    explanation=gettext_lazy("PDF、图片和 Word 文档只能阅读，不能被程序直接处理，不算开放的数据。"),
    fix=gettext_lazy("上传 CSV、JSON 或 XLSX 格式的原始数据（上传后平台自动提供查询接口和 CSV 下载）。"),
)
def machine_readable(subject: Subject) -> list[Problem]:
    if not subject.resources:
        return [Problem(_("没有任何数据资源。"))]
    if any(r.format.strip().upper() in MACHINE_READABLE for r in subject.resources):
        return []
    formats = sorted({r.format.upper() for r in subject.resources})
    return [Problem(_("只有非机器可读格式：%(f)s。") % {"f": "、".join(formats)}, {"formats": formats})]


@check(
    code="format.openness",
    family=Family.FORMAT,
    severity=Severity.MEDIUM,
    title=gettext_lazy("开放等级（星级）"),
    explanation=gettext_lazy(
        "按五星开放数据等级：1 星为任意格式，2 星为机器可读的专有格式（如 Excel），"
        "3 星为开放格式（CSV、JSON），4、5 星为关联数据。至少应达到 3 星。"
    ),
    fix=gettext_lazy("在 Excel 之外再提供 CSV 或 JSON，或上传数据由平台提供接口。"),
)
def openness(subject: Subject) -> list[Problem]:
    stars = dataset_stars(subject.resources)
    if stars >= 3:
        return []
    return [
        Problem(
            _("开放等级为 %(n)s 星，低于 3 星。") % {"n": stars},
            {"stars": stars},
            Severity.HIGH if stars <= 1 else Severity.MEDIUM,
        )
    ]
