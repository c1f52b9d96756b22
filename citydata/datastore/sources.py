"""Turn an uploaded file into one UTF-8 delimited text file DuckDB can read, streaming, never whole in memory.

CSV and TSV in UTF-8 (with or without BOM) are read in place; GBK/GB18030 files are transcoded chunk by
chunk. Excel sheets are written out row by row; JSON, JSON Lines and GeoJSON go through DuckDB's own
streaming JSON reader. The SHA-256 of the original bytes is computed on the way.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from citydata.errors import DomainError

CHUNK = 1024 * 1024
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".geojson": "geojson",
}


class SourceError(DomainError):
    default_code = "invalid_source"


@dataclass
class Prepared:
    """A delimited UTF-8 text file ready for DuckDB, and what we learnt about the original."""

    path: Path
    format: str
    encoding: str
    sha256: str
    size: int
    delimiter: str = ","
    line_offset: int = 0  # lines before the header in `path` that the original did not have
    record_numbers: bool = False  # bad rows are named by record number, not line (JSON sources)
    temporary: list[Path] = field(default_factory=list)
    digest: _Digest | None = None

    def finish(self) -> bool:
        """Wait for the background digest; False when the file is not UTF-8 after all (its first megabyte
        was), so the caller reads it again as GB18030."""
        if self.digest is None:
            return True
        self.digest.join()
        self.sha256 = self.digest.sha256
        if self.digest.failed is not None:
            raise self.digest.failed
        return self.digest.utf8 or self.format not in ("csv", "tsv", "json", "jsonl", "geojson")

    def cleanup(self) -> None:
        for path in self.temporary:
            path.unlink(missing_ok=True)


def detect_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise SourceError(
            _("不支持的文件类型“%(suffix)s”。可上传 CSV、TSV、XLSX、XLS、JSON、JSON Lines 或 GeoJSON。")
            % {"suffix": suffix or filename}
        )
    return FORMATS[suffix]


class _Digest(threading.Thread):
    """SHA-256 and a full UTF-8 check of a file, in the background while DuckDB reads it (hashlib and
    DuckDB both release the GIL), so provenance costs no wall time."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path = path
        self.sha256 = ""
        self.utf8 = True
        self.failed: BaseException | None = None

    def run(self) -> None:
        try:
            digest = hashlib.sha256()
            decoder = codecs.getincrementaldecoder("utf-8")()
            with open(self.path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    if self.utf8:
                        try:
                            decoder.decode(chunk)
                        except UnicodeDecodeError:
                            self.utf8 = False
            if self.utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    self.utf8 = False
            self.sha256 = digest.hexdigest()
        except BaseException as exc:  # reported by finish()
            self.failed = exc


def utf8_throughout(path: Path) -> bool:
    """Whether every byte of the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_encoding(path: Path) -> str:
    """utf-8, utf-8-sig or gb18030 from the first megabyte; the background digest confirms UTF-8 over
    the whole file."""
    with open(path, "rb") as handle:
        head = handle.read(CHUNK)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _transcode(path: Path, target: Path, encoding: str) -> str:
    """Rewrite as UTF-8 chunk by chunk; returns the SHA-256 of the original bytes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    offset = 0
    with open(path, "rb") as source, open(target, "w", encoding="utf-8", newline="") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                raise SourceError(
                    _("文件既不是 UTF-8 也不是 GBK/GB18030 编码（第 %(byte)s 字节处无法识别），请另存为 UTF-8 后上传。")
                    % {"byte": offset + exc.start}
                ) from None
            offset += len(chunk)
        out.write(decoder.decode(b"", final=True))
    return digest.hexdigest()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_to_csv(path: Path, target: Path) -> None:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise SourceError(_("无法读取这个 Excel 文件，请确认是 .xlsx 格式且未加密。")) from None
    try:
        sheet = book.worksheets[0]
        with open(target, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    writer.writerow(cells)
    finally:
        book.close()


def _xls_to_csv(path: Path, target: Path) -> None:
    """The old binary Excel format (at most 65,536 rows a sheet) through xlrd; dates become ISO text."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception:  # xlrd raises several unrelated types for damaged or non-Excel files
        raise SourceError(_("无法读取这个 .xls 文件，请确认它是 Excel 97-2003 工作簿且未加密。")) from None
    try:
        sheet = book.sheet_by_index(0)
        with open(target, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            for r in range(sheet.nrows):
                cells = []
                for cell in sheet.row(r):
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        cells.append(_cell(xlrd.xldate_as_datetime(cell.value, book.datemode)))
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        cells.append("true" if cell.value else "false")
                    else:
                        cells.append(_cell(cell.value))
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    writer.writerow(cells)
    finally:
        book.release_resources()


def _json_to_csv(path: Path, target: Path, fmt: str) -> None:
    """JSON arrays of objects, JSON Lines and GeoJSON FeatureCollections, through DuckDB's streaming reader."""
    import duckdb

    con = duckdb.connect()
    try:
        source = str(path).replace("'", "''")
        out = str(target).replace("'", "''")
        if fmt == "geojson":
            _geojson_to_csv(con, source, out)
            return
        layout = "newline_delimited" if fmt == "jsonl" else "array"
        con.execute(
            f"COPY (SELECT * FROM read_json('{source}', format='{layout}', records=true, sample_size=-1)) "
            f"TO '{out}' (HEADER, DELIMITER ',')"
        )
    except duckdb.Error as exc:
        raise SourceError(_("JSON 文件无法解析：%(reason)s") % {"reason": str(exc).splitlines()[0][:200]}) from None
    finally:
        con.close()


def _geojson_to_csv(con, source: str, out: str) -> None:
    head = con.execute(
        f"SELECT type FROM read_json('{source}', format='unstructured', records=true) LIMIT 1"
    ).fetchone()
    if not head or head[0] != "FeatureCollection":
        raise SourceError(_("GeoJSON 文件应为 FeatureCollection。"))
    # DuckDB reads a GeoJSON geometry as its GEOMETRY type: a point's coordinates are .x and .y.
    con.execute(
        f"""COPY (
            SELECT unnest(f.properties), f.geometry.x AS lng, f.geometry.y AS lat
            FROM (SELECT unnest(features) AS f FROM read_json('{source}', format='unstructured', records=true))
        ) TO '{out}' (HEADER, DELIMITER ',')"""
    )


def prepare(path: Path, filename: str, work: Path, *, encoding: str = "", digest: bool = True) -> Prepared:
    """Check and convert the upload at `path` (named `filename` by its owner) into a CSV under `work`. Call
    `finish()` on the result before trusting its SHA-256 or its encoding. Without `digest` there is no SHA-256
    and no check that a file whose first megabyte is UTF-8 is UTF-8 throughout (for a reader that refuses other
    bytes itself, and asks `utf8_throughout` when it does)."""
    fmt = detect_format(filename)
    size = path.stat().st_size
    if size == 0:
        raise SourceError(_("文件是空的。"))
    encoding = "" if fmt in ("xlsx", "xls") else encoding or _sniff_encoding(path)
    prepared = Prepared(path=path, format=fmt, encoding=encoding, sha256="", size=size)
    if digest and encoding != "gb18030":
        prepared.digest = _Digest(path)
        prepared.digest.start()
    if fmt in ("csv", "tsv"):
        prepared.delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(path, encoding)
        if encoding == "gb18030":
            target = work / "source-utf8.csv"
            prepared.sha256 = _transcode(path, target, encoding)
            prepared.path, prepared.temporary = target, [target]
        return prepared
    target = work / "source.csv"
    prepared.temporary = [target]
    if fmt == "xlsx":
        _xlsx_to_csv(path, target)
    elif fmt == "xls":
        _xls_to_csv(path, target)
    else:
        if encoding == "gb18030":
            raise SourceError(_("JSON 文件必须是 UTF-8 编码。"))
        _json_to_csv(path, target, fmt)
        prepared.record_numbers = True
    prepared.path = target
    return prepared


def _sniff_delimiter(path: Path, encoding: str) -> str:
    """Comma unless the header line clearly uses another common delimiter."""
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def read_header(prepared: Prepared) -> list[str]:
    encoding = "utf-8-sig" if prepared.encoding in ("utf-8-sig", "gb18030") else "utf-8"
    with open(prepared.path, encoding=encoding, newline="") as handle:
        try:
            return next(csv.reader(handle, delimiter=prepared.delimiter))
        except StopIteration:
            raise SourceError(_("文件没有表头行。")) from None
        except (csv.Error, UnicodeDecodeError):
            raise SourceError(_("无法读取文件的表头行。")) from None


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
