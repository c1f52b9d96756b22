"""Bulk import of a department's inventory and datasets from the spreadsheet template (Excel or CSV).

The template has Chinese headers (a trailing * marks a required column) and a sheet of instructions.
Every row goes through the same services as the forms, each in its own savepoint, so a row is
checked by exactly the rules a person typing it would meet. When any row is refused nothing is kept,
unless the user asked to import the valid rows; the report names each refused row by its number as
the spreadsheet shows it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.accounts.models import Department, User
from citydata.catalog import services
from citydata.catalog.importers import normalise_open_type
from citydata.catalog.models import (
    Dataset,
    DatasetField,
    Domain,
    FieldType,
    Frequency,
    InventoryEntry,
    OpenType,
    Sensitivity,
)
from citydata.errors import DomainError
from citydata.security import audit

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    example: str = ""
    help: Any = ""


INVENTORY_COLUMNS = (
    Column("资源编码", "code", True, "JTJ-001", gettext_lazy("本部门内唯一；已有的编码会按表格内容更新。")),
    Column("资源名称", "name", True, "地面公交实时位置"),
    Column("资源摘要", "description", False, "全市公交车辆的实时位置和到站信息。"),
    Column("开放类型", "open_type", True, "无条件开放", gettext_lazy("无条件开放、有条件开放、不予开放或待分类。")),
    Column("数据级别", "sensitivity", False, "一般数据", gettext_lazy("一般数据、重要数据或核心数据，默认一般数据。")),
    Column("细分级别", "sub_level", False, "一般数据2级"),
    Column("影响对象", "impact_objects", False, "个人权益"),
    Column("复核日期", "review_due", False, "2027-06-30", gettext_lazy("年-月-日。")),
    Column("不予开放依据", "legal_basis_name", False, "", gettext_lazy("不予开放时必填：法律法规或文件名称。")),
    Column("条款", "legal_basis_article", False, "", gettext_lazy("不予开放时必填。")),
    Column("依据链接", "legal_basis_url", False, ""),
)

DATASET_COLUMNS = (
    Column(
        "标识", "slug", False, "bus-realtime", gettext_lazy("小写字母、数字和连字符；留空自动生成。字段表按它关联。")
    ),
    Column("数据集名称", "title", True, "绵阳市地面公交实时位置"),
    Column("摘要", "description", True, "全市地面公交车辆的实时位置、线路和到站预测，每 30 秒更新。"),
    Column("领域", "domains", True, "交通出行", gettext_lazy("领域名称或编码，多个用顿号分隔。")),
    Column("标签", "tags", False, "公交、实时"),
    Column("开放类型", "open_type", True, "无条件开放", gettext_lazy("无条件开放或有条件开放。")),
    Column(
        "更新频率", "update_frequency", True, "实时", gettext_lazy("实时、每日、每周、每月、每季度、每年或不定期。")
    ),
    Column("空间范围", "spatial_coverage", False, "绵阳市"),
    Column("联系人", "contact_name", False, "市交通运输局信息科"),
    Column("联系电话", "contact_phone", False, "0816-0000000"),
    Column("联系邮箱", "contact_email", False, ""),
    Column("数据格式", "formats", False, "CSV、JSON", gettext_lazy("每种格式登记一个文件资源。")),
)

FIELD_COLUMNS = (
    Column("数据集标识", "dataset", True, "bus-realtime", gettext_lazy("与“数据集”表的标识一致。")),
    Column("字段名", "name", True, "line_name", gettext_lazy("字母开头，字母、数字和下划线。")),
    Column("中文名称", "title", True, "线路名称"),
    Column("类型", "type", False, "字符串", gettext_lazy("字符串、整数、小数、布尔、日期、日期时间或坐标。")),
    Column("单位", "unit", False, ""),
    Column("说明", "description", False, "公交线路的名称"),
    Column("示例", "example", False, "1路"),
    Column("敏感字段", "sensitive", False, "否", gettext_lazy("是或否。")),
    Column(
        "字段类别", "category", False, "", gettext_lazy("与本部门分级分类细则中的字段类别一致，例如 个人身份信息。")
    ),
)


@dataclass(frozen=True)
class Kind:
    code: str
    label: Any
    sheet: str
    columns: tuple[Column, ...]
    extra_sheets: tuple[tuple[str, tuple[Column, ...]], ...] = ()


KINDS = {
    "inventory": Kind("inventory", gettext_lazy("数据资源目录"), "数据资源", INVENTORY_COLUMNS),
    "datasets": Kind("datasets", gettext_lazy("数据集"), "数据集", DATASET_COLUMNS, (("字段", FIELD_COLUMNS),)),
}


class BulkFileError(DomainError):
    """The file as a whole cannot be used: wrong type, too big, missing columns."""

    default_code = "invalid_file"


@dataclass
class RowError:
    row: int
    column: str
    message: str
    sheet: str = ""


@dataclass
class BulkReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def refused_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors})


Row = tuple[int, dict[str, str]]  # (row number as the spreadsheet shows it, {key: text})


# --- templates ---------------------------------------------------------------------------------


def _header(column: Column) -> str:
    return column.header + ("*" if column.required else "")


def template_csv(kind: str) -> bytes:
    """The main sheet as CSV (UTF-8 with BOM, so Excel opens the Chinese headers correctly)."""
    out = io.StringIO()
    csv.writer(out).writerow(_header(c) for c in KINDS[kind].columns)
    return ("\ufeff" + out.getvalue()).encode()


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    spec = KINDS[kind]
    book = Workbook()
    first = book.active
    first.title = spec.sheet
    sheets = [(first, spec.columns)]
    for name, columns in spec.extra_sheets:
        sheets.append((book.create_sheet(name), columns))
    for sheet, columns in sheets:
        sheet.append([_header(c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i, column in enumerate(columns):
            sheet.column_dimensions[chr(ord("A") + i)].width = max(12, len(column.header) * 3)
    guide = book.create_sheet(_("填写说明"))
    guide.append([_("工作表"), _("列"), _("必填"), _("说明"), _("示例")])
    for sheet, columns in sheets:
        for column in columns:
            guide.append(
                [sheet.title, column.header, _("是") if column.required else "", str(column.help), column.example]
            )
    guide.append([])
    guide.append([_("带 * 的列必须填写。从第 2 行开始填写，每行一条；导入报告按这里的行号指出问题。")])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


# --- reading -----------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_of(table: list[list[Any]], columns: tuple[Column, ...], sheet: str, report: BulkReport) -> list[Row]:
    """Map a sheet's header row to column keys and return the non-empty data rows."""
    if not table:
        raise BulkFileError(_("工作表“%(sheet)s”是空的，没有表头。") % {"sheet": sheet})
    by_header = {c.header: c for c in columns}
    keys: list[str | None] = []
    for raw in table[0]:
        header = _cell_text(raw).rstrip("*＊ ").strip()
        column = by_header.get(header)
        keys.append(column.key if column else None)
        if header and column is None:
            report.ignored_columns.append(header)
    missing = [c.header for c in columns if c.required and c.key not in keys]
    if missing:
        raise BulkFileError(
            _("工作表“%(sheet)s”缺少必填列：%(cols)s。请使用平台提供的模板。")
            % {"sheet": sheet, "cols": "、".join(missing)}
        )
    rows: list[Row] = []
    for number, values in enumerate(table[1:], start=2):
        record = {key: _cell_text(v) for key, v in zip(keys, values, strict=False) if key}
        if any(record.values()):
            rows.append((number, record))
    if len(rows) > MAX_ROWS:
        raise BulkFileError(
            _("一次最多导入 %(max)s 行，文件有 %(n)s 行。请分成几个文件导入。") % {"max": MAX_ROWS, "n": len(rows)}
        )
    return rows


def read(filename: str, raw: bytes, kind: str, report: BulkReport) -> dict[str, list[Row]]:
    """The file's sheets as rows, keyed by sheet name. CSV files hold only the main sheet."""
    spec = KINDS[kind]
    if len(raw) > MAX_BYTES:
        raise BulkFileError(_("文件超过 %(mb)s MB，请分成几个文件导入。") % {"mb": MAX_BYTES // (1024 * 1024)})
    name = filename.lower()
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BulkFileError(_("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码。"))
        try:
            table = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:
            raise BulkFileError(_("CSV 文件格式有误：%(msg)s。") % {"msg": exc}) from None
        return {spec.sheet: _rows_of(table, spec.columns, spec.sheet, report)}
    if name.endswith(".xlsx"):
        return _read_xlsx(raw, spec, report)
    raise BulkFileError(_("请上传 .xlsx 或 .csv 文件（可先下载模板）。"))


def _read_xlsx(raw: bytes, spec: Kind, report: BulkReport) -> dict[str, list[Row]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise BulkFileError(_("无法读取这个 Excel 文件。请确认是 .xlsx 格式（旧的 .xls 请先另存为 .xlsx）。")) from None
    try:
        names = book.sheetnames
        main = spec.sheet if spec.sheet in names else names[0]
        sheets = {spec.sheet: _rows_of(_table(book[main]), spec.columns, main, report)}
        for sheet_name, columns in spec.extra_sheets:
            if sheet_name in names:
                sheets[sheet_name] = _rows_of(_table(book[sheet_name]), columns, sheet_name, report)
        return sheets
    finally:
        book.close()


def _table(sheet) -> list[list[Any]]:
    table = []
    for row in sheet.iter_rows(values_only=True):
        table.append(list(row))
        if len(table) > MAX_ROWS + 1:
            break
    return table


# --- values --------------------------------------------------------------------------------------


class _RowRefused(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


def _choice(value: str, choices, column: str, *, aliases: dict[str, str] | None = None) -> str:
    text = value.strip()
    for option in choices:
        label = str(option.label)
        if text in (option.value, label) or (label.endswith("数据") and text == label[:-2]):
            return option.value
    if aliases and text.lower() in aliases:
        return aliases[text.lower()]
    raise _RowRefused(
        column,
        _("“%(value)s”不是可选的值，可选：%(values)s。")
        % {"value": text, "values": "、".join(str(c.label) for c in choices)},
    )


def _open_type(value: str, column: str, allowed=tuple(OpenType)) -> str:
    text = value.strip()
    code = ""
    for option in OpenType:
        if text in (option.value, str(option.label)):
            code = option.value
    code = code or normalise_open_type(text) or (OpenType.PENDING if text == "待分类" else "")
    if code not in allowed or not text:
        raise _RowRefused(
            column,
            _("“%(value)s”不是可选的开放类型，可选：%(values)s。")
            % {"value": text, "values": "、".join(str(o.label) for o in allowed)},
        )
    return code


def _date(value: str, column: str) -> dt.date | None:
    text = value.strip().replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return dt.datetime.strptime(text.split(" ")[0], "%Y-%m-%d").date()  # 2027-6-30 as well as 2027-06-30
    except ValueError:
        raise _RowRefused(column, _("“%(value)s”不是有效的日期，请写成 2027-06-30。") % {"value": value}) from None


def _check_lengths(values: dict[str, Any], model: type[models.Model], headers: dict[str, str]) -> None:
    for key, value in values.items():
        try:
            limit = model._meta.get_field(key).max_length
        except FieldDoesNotExist:
            continue
        if limit and isinstance(value, str) and len(value) > limit:
            raise _RowRefused(
                headers.get(key, key),
                _("内容过长：最多 %(max)s 个字，现为 %(n)s 个字。") % {"max": limit, "n": len(value)},
            )


_SPLIT = re.compile(r"[、,，;；\s]+")


def _headers(columns: tuple[Column, ...]) -> dict[str, str]:
    return {c.key: c.header for c in columns}


def _refusal(exc: DomainError, headers: dict[str, str]) -> tuple[str, str]:
    field_name = exc.details.get("field", "") if isinstance(exc.details, dict) else ""
    return headers.get(field_name, ""), str(exc.message)


# --- importing ---------------------------------------------------------------------------------


def import_file(
    *, by: User | None, department: Department, kind: str, filename: str, raw: bytes, valid_only: bool = False
) -> BulkReport:
    """Read and import one template file into `department`. Nothing is kept when a row is refused,
    unless `valid_only`."""
    if kind not in KINDS:
        raise BulkFileError(_("未知的导入类型：%(kind)s。") % {"kind": kind})
    if by is not None:
        from citydata.accounts import authz

        authz.authorize(by, "catalog.edit", department)
    report = BulkReport(kind=kind)
    sheets = read(filename, raw, kind, report)
    with transaction.atomic():
        if kind == "inventory":
            _import_inventory(by, department, sheets[KINDS[kind].sheet], report)
        else:
            _import_datasets(by, department, sheets[KINDS[kind].sheet], sheets.get("字段", []), report)
        if report.errors and not valid_only:
            transaction.set_rollback(True)
            return report
        report.committed = True
        audit.record(
            by,
            "catalog.bulk_import",
            department,
            changes={
                "kind": kind,
                "created": report.created,
                "updated": report.updated,
                "refused": report.refused_rows,
            },
            note=filename[:100],
        )
    return report


def _import_inventory(by: User | None, department: Department, rows: list[Row], report: BulkReport) -> None:
    headers = _headers(INVENTORY_COLUMNS)
    existing = {e.code: e for e in InventoryEntry.objects.filter(department=department)}
    first_seen: dict[str, int] = {}
    report.rows = len(rows)
    for number, values in rows:
        try:
            code = values.get("code", "")
            if code in first_seen:
                raise _RowRefused(headers["code"], _("与第 %(row)s 行的资源编码重复。") % {"row": first_seen[code]})
            first_seen[code] = number
            data: dict[str, Any] = {k: v for k, v in values.items() if k in services.INVENTORY_FIELDS}
            for required in ("code", "name"):
                if not data.get(required):
                    raise _RowRefused(headers[required], _("此项必须填写。"))
            data["open_type"] = _open_type(values.get("open_type", ""), headers["open_type"])
            data["sensitivity"] = (
                _choice(values["sensitivity"], Sensitivity, headers["sensitivity"])
                if values.get("sensitivity")
                else Sensitivity.GENERAL
            )
            data["review_due"] = _date(values.get("review_due", ""), headers["review_due"])
            _check_lengths(data, InventoryEntry, headers)
            entry = existing.get(code)
            if entry is not None and all(getattr(entry, k) == v for k, v in data.items()):
                report.unchanged += 1
                continue
            with transaction.atomic():
                services.inventory_entry_save(by=by, department=department, entry=entry, data=data)
            if entry is None:
                report.created += 1
            else:
                report.updated += 1
        except _RowRefused as refused:
            report.errors.append(RowError(number, refused.column, refused.message))
        except DomainError as exc:
            report.errors.append(RowError(number, *_refusal(exc, headers)))


def _field_specs(
    rows: list[Row], report: BulkReport
) -> tuple[dict[str, list[services.FieldSpec]], dict[str, list[int]]]:
    """Field rows grouped by dataset identifier, and which field-sheet rows each dataset's fields came from."""
    headers = _headers(FIELD_COLUMNS)
    specs: dict[str, list[services.FieldSpec]] = defaultdict(list)
    origin: dict[str, list[int]] = defaultdict(list)
    names: dict[tuple[str, str], int] = {}
    for number, values in rows:
        slug = values.get("dataset", "")
        origin[slug].append(number)
        try:
            for required in ("dataset", "name", "title"):
                if not values.get(required):
                    raise _RowRefused(headers[required], _("此项必须填写。"))
            name = values["name"]
            if not services.FIELD_NAME.fullmatch(name):
                raise _RowRefused(headers["name"], _("字段名须以字母开头，只含字母、数字和下划线，最长 64 个字符。"))
            if (slug, name) in names:
                raise _RowRefused(headers["name"], _("与第 %(row)s 行的字段名重复。") % {"row": names[(slug, name)]})
            names[(slug, name)] = number
            sensitive = values.get("sensitive", "").strip()
            if sensitive not in ("", "是", "否", "Y", "N", "y", "n", "1", "0", "true", "false"):
                raise _RowRefused(headers["sensitive"], _("请填写“是”或“否”。"))
            spec = services.FieldSpec(
                name=name,
                title=values["title"],
                type=_choice(values.get("type") or FieldType.STRING, FieldType, headers["type"]),
                unit=values.get("unit", ""),
                description=values.get("description", ""),
                example=values.get("example", ""),
                sensitive=sensitive in ("是", "Y", "y", "1", "true"),
                category=values.get("category", ""),
            )
            texts = ("title", "unit", "description", "example", "category")
            _check_lengths({k: getattr(spec, k) for k in texts}, DatasetField, headers)
            specs[slug].append(spec)
        except _RowRefused as refused:
            report.errors.append(RowError(number, refused.column, refused.message, sheet="字段"))
    return specs, origin


def _import_datasets(
    by: User | None, department: Department, rows: list[Row], field_rows: list[Row], report: BulkReport
) -> None:
    headers = _headers(DATASET_COLUMNS)
    fields, field_origin = _field_specs(field_rows, report)
    refused_field_rows = {e.row for e in report.errors if e.sheet == "字段"}
    domains = {d.code: d for d in Domain.objects.all()} | {d.name: d for d in Domain.objects.all()}
    slugs = [v.get("slug", "").strip().lower() for _n, v in rows if v.get("slug")]
    taken = dict(Dataset.objects.filter(slug__in=slugs).values_list("slug", "department_id"))
    in_file: dict[str, int] = {}
    report.rows = len(rows)
    for number, values in rows:
        try:
            slug = values.get("slug", "").strip().lower()
            if slug:
                if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,89}", slug):
                    raise _RowRefused(headers["slug"], _("标识只能用小写字母、数字和连字符，最长 90 个字符。"))
                if slug in in_file:
                    raise _RowRefused(headers["slug"], _("与第 %(row)s 行的标识重复。") % {"row": in_file[slug]})
                in_file[slug] = number
                if slug in taken:
                    if taken[slug] != department.pk:
                        raise _RowRefused(headers["slug"], _("标识已被其他部门的数据集使用，请换一个。"))
                    report.unchanged += 1  # imported before: the file can be run again safely
                    continue
            bad_fields = sorted(set(field_origin.get(slug, [])) & refused_field_rows) if slug else []
            if bad_fields:
                raise _RowRefused(
                    headers["slug"],
                    _("字段表第 %(rows)s 行有误，数据集未导入。") % {"rows": "、".join(map(str, bad_fields))},
                )
            chosen = []
            for name in _SPLIT.split(values.get("domains", "")):
                if name and name not in domains:
                    raise _RowRefused(headers["domains"], _("没有名为“%(name)s”的领域。") % {"name": name})
                if name:
                    chosen.append(domains[name])
            data: dict[str, Any] = {k: v for k, v in values.items() if k in services.DATASET_FIELDS and v}
            data["tags"] = [t for t in _SPLIT.split(values.get("tags", "")) if t][:20]
            data["open_type"] = _open_type(
                values.get("open_type", ""), headers["open_type"], (OpenType.OPEN, OpenType.CONDITIONAL)
            )
            data["update_frequency"] = _choice(
                values.get("update_frequency", ""), Frequency, headers["update_frequency"]
            )
            _check_lengths(data, Dataset, headers)
            formats = [f.upper()[:20] for f in _SPLIT.split(values.get("formats", "")) if f]
            title = data.get("title", "")
            with transaction.atomic():
                services.dataset_create(
                    by=by,
                    department=department,
                    slug=slug,
                    data=data,
                    domains=list({d.pk: d for d in chosen}.values()),
                    fields=fields.get(slug, []) if slug else [],
                    resources=[services.ResourceSpec(f"{title}（{fmt}）"[:120], fmt) for fmt in formats],
                )
            report.created += 1
        except _RowRefused as refused:
            report.errors.append(RowError(number, refused.column, refused.message))
        except DomainError as exc:
            report.errors.append(RowError(number, *_refusal(exc, headers)))
    known = set(in_file)
    for slug, numbers in field_origin.items():
        if slug and slug not in known and slug not in taken:
            for number in numbers:
                report.errors.append(
                    RowError(
                        number, "数据集标识", _("“数据集”表中没有标识为“%(slug)s”的行。") % {"slug": slug}, sheet="字段"
                    )
                )
