"""Find personal data in a table: classify every column from a sample, then scan every free-text cell.

Both steps run over whole columns in DuckDB: RE2 (`regexp_full_match`, `regexp_matches`) marks the sampled cells, and
each distinct free-text value, that hold a candidate of some type, and Python validates only those (checksums, dates,
context), while DuckDB flags the next free-text values on a second thread. A table is a list of column
names and rows, a DuckDB relation, or a Parquet, CSV, TSV or Excel file; Parquet is read in place, so a file of
millions of rows costs one vectorised pass per step. Reports carry row numbers, offsets and masked examples, never
a raw value.
"""

from __future__ import annotations

import contextlib
import gc
import math
import operator
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from citydata.privacy import detectors as registry
from citydata.privacy.detectors import WHITESPACE, Detector
from citydata.privacy.tables import Table, TableSource, in_background, open_table, sql_literal
from citydata.privacy.text import Span, find_in_text, find_in_texts, mask

__all__ = [
    "CellFinding",
    "ColumnClass",
    "ScanReport",
    "Span",
    "TypeScore",
    "classify_columns",
    "find_in_text",
    "mask",
    "scan_cells",
    "scan_table",
]

DEFAULT_SAMPLE_ROWS = 10_000  # rows a column is classified from; smaller tables are read whole
VALIDATE_LIMIT = 1_000  # candidates of one type validated in Python per column; the share is scaled from them
CONFIDENCE_THRESHOLD = 0.5  # a column is of a type when its confidence reaches this
SECONDARY_SHARE = 0.05  # in a column of some type, another type this common is reported too
# Cells that are only a short number, a date or a time can hold no personal data any detector finds (no run of
# 7+ digits, no 4+ decimals, no dotted quad): one cheap anchored test spares them the fourteen detector tests.
PLAIN_VALUE = (
    r"-?[0-9]{1,6}(?:\.[0-9]{1,3})?%?"
    r"|[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"
)
FIRST_TEXTS = 4_096  # distinct texts DuckDB flags before Python starts reading findings
TEXT_CHUNK = 65_536  # at most this many distinct texts flagged per query, while Python reads the previous ones
_WS = "[ \t\r\n\u3000]"

# --- results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """Where a value of a type was seen, and what it looks like masked."""

    row: int
    masked: str


@dataclass(frozen=True)
class TypeScore:
    """One type found in a column: the share of non-empty cells that are (or, `in_text`, contain) it."""

    type: str
    share: float
    confidence: float
    matches: int
    in_text: bool = False
    examples: tuple[Example, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "share": round(self.share, 4),
            "confidence": round(self.confidence, 4),
        }
        if self.in_text:
            out["in_text"] = True
        return out


@dataclass
class ColumnClass:
    """What a column holds. `types` are whole-cell types; a column with none is free text and its cells are scanned
    (`text_types` then summarises what the scan found in it)."""

    name: str
    index: int
    sampled: int
    non_empty: int  # non-empty cells among the sampled rows
    hint: str | None  # the type the header names, if any (the first, when it names several)
    types: list[TypeScore] = field(default_factory=list)
    candidates: list[TypeScore] = field(default_factory=list)  # every type seen, detected or not
    text_types: list[TypeScore] = field(default_factory=list)

    @property
    def free_text(self) -> bool:
        return not self.types

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "types": [t.as_json() for t in self.types + self.text_types]}


@dataclass(slots=True)
class CellFinding:
    """A value of personal data inside a cell: 0-based data row, column, type and character offsets."""

    row: int
    column: str
    type: str
    start: int
    end: int
    masked: str

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "masked": self.masked,
        }


@dataclass
class ScanReport:
    rows: int
    sample_rows: int
    columns: list[ColumnClass]
    cells: list[CellFinding]

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "sample_rows": self.sample_rows,
            "columns": [c.as_json() for c in self.columns],
            "cells": [f.as_json() for f in self.cells],
        }


# --- column classification ---------------------------------------------------------------------------------------


def _wilson_lower(successes: float, n: int, z: float = 1.96) -> float:
    """Lower bound of the 95% Wilson interval: a share seen in few cells counts for less."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def _confidence(
    detector: Detector,
    share: float,
    valid: float,
    non_empty: int,
    hint: str | None,
    strength: float,
    hinted: tuple[str, ...] = (),
) -> float:
    """Evidence from the cells (the share's lower bound times how much one valid value says), raised when the
    header names this type and lowered when it names a rival (身份证号 over a column of UnionPay-like numbers)."""
    base = _wilson_lower(valid, non_empty) * strength
    if hint == detector.code or detector.code in hinted:
        return 1 - (1 - base) * (1 - 0.9 * share)
    if hint is not None and hint in detector.rivals:
        return base * 0.3
    return base


def _sample(table: Table, sample_rows: int) -> tuple[str, int]:
    if table.rows <= sample_rows:
        return "t", table.rows
    # hash() spreads the pick over the whole table and gives the same sample every run; not TEMP, so that other
    # cursors of the connection see it
    table.con.execute(
        f"CREATE OR REPLACE TABLE s AS SELECT * FROM t WHERE hash(__row) % {table.rows} < {sample_rows}"  # noqa: S608
    )
    return "s", table.con.execute("SELECT count(*) FROM s").fetchone()[0]  # type: ignore[index]


def _whole(i: int, pattern: str) -> str:
    """Column `i` is `pattern` apart from surrounding whitespace (DuckDB's trim with a character list is slow)."""
    return f"regexp_full_match(c{i}, {sql_literal(f'{_WS}*(?:{pattern}){_WS}*')})"


def _filled(i: int) -> str:
    return f"regexp_matches(c{i}, {sql_literal('[^' + _WS[1:])})"


def classify_columns(source: TableSource, *, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> list[ColumnClass]:
    """Per column: the share of non-empty sampled cells that are each type, a confidence that combines the share
    with the header, and the detected types. At most `sample_rows` rows are read (chosen by a hash of the row
    number, so the same every run); tables that small or smaller are read whole."""
    table = open_table(source)
    try:
        return _classify(table, sample_rows)
    finally:
        if table is not source:
            table.close()


def _classify(table: Table, sample_rows: int) -> list[ColumnClass]:
    if not table.columns:
        return []
    sample, sampled = _sample(table, sample_rows)
    dets = registry.detectors()
    # First what each column looks like: columns of one character or of plain numbers and dates are not tested
    # against every detector (no whole cell of those can be personal data).
    shape = []
    for i in range(len(table.columns)):
        shape.append(f"count(*) FILTER (WHERE {_filled(i)})")
        shape.append(f"max(length(c{i}))")
        shape.append(f"count(*) FILTER (WHERE {_whole(i, PLAIN_VALUE)})")
    shapes = table.con.execute(f"SELECT {', '.join(shape)} FROM {sample}").fetchone()  # noqa: S608
    assert shapes is not None
    tested = [
        i for i in range(len(table.columns)) if (shapes[3 * i + 1] or 0) >= 2 and shapes[3 * i + 2] < shapes[3 * i]
    ]
    counts = _candidate_counts(table, sample, tested, dets)
    per_column = {i: counts[k * len(dets) : (k + 1) * len(dets)] for k, i in enumerate(tested)}
    classes = []
    axes: dict[int, Counter[str]] = {}
    for i, name in enumerate(table.columns):
        column = ColumnClass(
            name=name, index=i, sampled=sampled, non_empty=shapes[3 * i], hint=registry.type_for_header(name)
        )
        for d, candidates in zip(dets, per_column.get(i, [0] * len(dets)), strict=True):
            if candidates:
                score, axis = _score(table, sample, column, d, candidates)
                if score is not None:
                    column.candidates.append(score)
                if axis:
                    axes[i] = axis
        classes.append(column)
    _decide(classes, axes)
    return classes


def _candidate_counts(table: Table, sample: str, tested: list[int], dets: list[Detector]) -> tuple[int, ...]:
    """Per tested column and detector, the sampled cells that look like a whole value of the type: one RE2 test per
    cell and detector. A sample is one row group, which DuckDB reads on one thread, so the columns are split in
    two queries on two cursors, one of them on a second thread (DuckDB runs a query without the GIL)."""
    halves = [tested[: (len(tested) + 1) // 2], tested[(len(tested) + 1) // 2 :]]
    queries = []
    for half in filter(None, halves):
        parts = ", ".join(f"count(*) FILTER (WHERE {_whole(i, d.cell_regex)})" for i in half for d in dets)
        queries.append(f"SELECT {parts} FROM {sample}")  # noqa: S608
    results: list[tuple[int, ...]] = [()] * len(queries)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        cursor = table.con.cursor()
        try:
            results[k] = cursor.execute(queries[k]).fetchone() or ()
        except BaseException as exc:  # raised in the calling thread
            errors.append(exc)
        finally:
            cursor.close()

    workers = [threading.Thread(target=run, args=(k,), name="pii-classify") for k in range(1, len(queries))]
    for worker in workers:
        worker.start()
    if queries:
        run(0)
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return tuple(n for result in results for n in result)


def _score(
    table: Table, sample: str, column: ColumnClass, d: Detector, candidates: int
) -> tuple[TypeScore | None, Counter[str] | None]:
    rows = table.con.execute(
        f"SELECT __row, c{column.index} FROM {sample} "  # noqa: S608
        f"WHERE {_whole(column.index, d.cell_regex)} LIMIT {VALIDATE_LIMIT}"
    ).fetchall()
    stripped = [(r, v.strip(WHITESPACE)) for r, v in rows]
    valid_rows = [(r, v) for r, v in stripped if d.validate(v)]
    axis: Counter[str] | None = None
    if d.code == "coordinates":
        axis = Counter(a for _r, v in valid_rows if (a := registry.coordinate_axis(v)))
    if not valid_rows:
        return None, None
    valid = candidates * len(valid_rows) / len(rows)
    share = valid / column.non_empty if column.non_empty else 0.0
    examples = tuple(Example(r, mask(v, d.code)) for r, v in valid_rows[:3])
    hinted = registry.types_for_header(column.name)
    confidence = _confidence(d, share, valid, column.non_empty, column.hint, d.strength, hinted)
    return TypeScore(d.code, share, confidence, round(valid), examples=examples), axis


def _decide(classes: list[ColumnClass], axes: dict[int, Counter[str]]) -> None:
    """Detected types per column: confident ones, one winner among rivals, and common secondary types."""
    partner = {"lng": "lat", "lat": "lng"}
    axis_of = {i: axis.most_common(1)[0][0] for i, axis in axes.items() if axis}
    for column in classes:
        scores = []
        for score in column.candidates:
            if score.type == "coordinates" and axis_of.get(column.index) in partner:
                # one number per cell is a coordinate only under a coordinate header or beside the other axis
                other = partner[axis_of[column.index]]
                paired = any(axis_of.get(c.index) == other for c in classes if c is not column)
                if column.hint != "coordinates" and not paired:
                    score = _rescore(score, column, 0.4)
            scores.append(score)
        column.candidates = sorted(scores, key=lambda s: (-s.confidence, -s.share))
        confident = [s for s in column.candidates if s.confidence >= CONFIDENCE_THRESHOLD]
        if not confident:
            continue
        winners: list[TypeScore] = []
        for score in confident:
            rival = next((w for w in winners if score.type in registry.get(w.type).rivals), None)
            if rival is None:
                winners.append(score)
            elif column.hint == score.type:
                winners[winners.index(rival)] = score
        taken = {w.type for w in winners}
        for score in column.candidates:
            rivals = set(registry.get(score.type).rivals)
            common = registry.get(score.type).strength >= 0.85 or score.share >= 0.2
            if score.type not in taken and score.share >= SECONDARY_SHARE and common and not rivals & taken:
                winners.append(score)
                taken.add(score.type)
        column.types = winners


def _rescore(score: TypeScore, column: ColumnClass, strength: float) -> TypeScore:
    detector = registry.get(score.type)
    hinted = registry.types_for_header(column.name)
    confidence = _confidence(detector, score.share, score.matches, column.non_empty, column.hint, strength, hinted)
    return TypeScore(score.type, score.share, confidence, score.matches, examples=score.examples)


# --- scanning cells ----------------------------------------------------------------------------------------------


def _flags(columns: list[ColumnClass], dets: list[Detector]) -> str:
    """A bit per detector that has a candidate in `text` (`k` is the position of its column in `columns`): each
    detector's RE2 test runs once per text, which costs less than one big alternation. Plain numbers or dates get
    0 without any test, and texts without an ASCII letter or digit are tested only by the detectors that can
    match Chinese alone (and by the type their header names). Each test appears once in the expression: DuckDB
    compiles every occurrence of a regex again, and that is most of the cost of setting up a query."""
    chinese, ascii_only, hinted_only = [], [], []
    for i, d in enumerate(dets):
        test = f"regexp_matches(text, {sql_literal(d.flag_pattern)})"
        hinted = [str(k) for k, c in enumerate(columns) if c.hint == d.code]
        if hinted:
            whole = sql_literal(f"{_WS}*(?:{d.cell_regex}){_WS}*")
            test = f"({test} OR (k IN ({', '.join(hinted)}) AND regexp_full_match(text, {whole})))"
        bit = f"({test}::BIGINT << {i})"
        if not d.needs_ascii:
            chinese.append(bit)
        else:
            ascii_only.append(bit)
            if hinted:
                hinted_only.append(f"((k IN ({', '.join(hinted)}) AND {test})::BIGINT << {i})")
    plain = sql_literal(PLAIN_VALUE)
    with_ascii = (
        f"CASE WHEN regexp_matches(text, '[0-9A-Za-z]') THEN {' | '.join(ascii_only)} "
        f"ELSE {' | '.join(hinted_only) or '0'} END"
        if ascii_only
        else "0"
    )
    return f"CASE WHEN regexp_full_match(text, {plain}) THEN 0 ELSE {' | '.join([*chinese, with_ascii])} END"


def _texts_sql(columns: list[ColumnClass]) -> str:
    """Each distinct non-empty text of each free-text column once, with the rows that hold it (`rows` only when
    there are several: most texts with personal data are unique, and a list per text costs more to hand to Python
    than the text): remarks repeat (患者高热三天，予退热处理。), and a text is tested and validated once however
    often it occurs. One pass over the table (a Parquet file is read once); in column order."""
    picked = ", ".join(f"c{c.index}" for c in columns)
    cells = f"SELECT __row, unnest(range({len(columns)})) AS k, unnest([{picked}]) AS text FROM t"  # noqa: S608
    return (
        "SELECT k, text, min(__row) AS row, CASE WHEN count(*) > 1 THEN list(__row) END AS rows, "  # noqa: S608
        f"count(*) AS n FROM ({cells}) WHERE text <> '' GROUP BY k, text ORDER BY k"
    )


def _flagged_sql(columns: list[ColumnClass]) -> tuple[str, list[Detector]]:
    """The texts, in a range of their positions, that hold a candidate: column position, text, rows and flags.
    Materialised, because DuckDB would otherwise push `bits <> 0` below the projection and run every regex twice;
    the shortest thing found in running text is a context word and a name (4), under a header a 2-character name."""
    dets = registry.detectors()
    hinted = [str(k) for k, c in enumerate(columns) if c.hint]
    shortest = f"CASE WHEN k IN ({', '.join(hinted)}) THEN 2 ELSE 4 END" if hinted else "4"
    sql = (
        f"WITH flagged AS MATERIALIZED (SELECT k, text, row, rows, {_flags(columns, dets)} AS bits "  # noqa: S608
        f"FROM texts WHERE rowid >= $1 AND rowid < $2 AND length(text) >= {shortest}) "
        "SELECT k, text, row, rows, bits FROM flagged WHERE bits <> 0"
    )
    return sql, dets


@dataclass
class _TextScan:
    """What scanning the free text of a table gives: the findings in row order, and per column the number of cells
    that are not blank (the share of a type in a column is taken over them)."""

    cells: list[CellFinding]
    non_empty: dict[str, int]


def _scan_text(table: Table, columns: list[ColumnClass]) -> _TextScan:
    sql, dets = _flagged_sql(columns)
    filled = sql_literal("[^" + _WS[1:])

    def produce(cursor: Any) -> Iterator[Any]:
        # a TEMP table lives in its cursor's connection, and this cursor is closed when the scan ends
        cursor.execute(f"CREATE TEMP TABLE texts AS {_texts_sql(columns)}")
        distinct = cursor.execute("SELECT count(*) FROM texts").fetchone()[0]
        yield cursor.execute(
            f"SELECT k, sum(n) FROM texts WHERE regexp_matches(text, {filled}) GROUP BY k"  # noqa: S608
        ).fetchall()
        # a small first range so that Python starts early, then ranges twice as large (each query costs ~0.015 s
        # to set up) while DuckDB keeps ahead of Python
        low, size = 0, FIRST_TEXTS
        while low < distinct:
            yield cursor.execute(sql, [low, low + size]).fetchall()
            low, size = low + size, min(2 * size, TEXT_CHUNK)

    names = [c.name for c in columns]
    hints = [c.hint for c in columns]
    non_empty = dict.fromkeys(names, 0)
    cells: list[CellFinding] = []
    with contextlib.closing(in_background(table, produce)) as batches:
        for k, count in next(batches):
            non_empty[names[k]] = int(count)
        for batch in batches:
            found = find_in_texts([b[1] for b in batch], [b[4] for b in batch], [hints[b[0]] for b in batch], dets)
            for (k, _text, row, rows, _bits), spans in zip(batch, found, strict=True):
                if spans:
                    name = names[k]
                    for r in rows or (row,):
                        for span in spans:
                            cells.append(CellFinding(r, name, *span))
    # texts come in column order and a text's findings in offset order, so a stable sort by row gives row, column,
    # offset order
    cells.sort(key=_ROW)
    return _TextScan(cells, non_empty)


_ROW = operator.attrgetter("row")


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the findings are built: they are ~100,000 small objects that
    all stay alive, which set off full collections, and each walks the whole heap of the process (0.15-0.4 s per
    100,000-row scan in the benchmark's process). Nothing built here forms a cycle, so nothing is left for later."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _iter_whole_findings(table: Table, column: ColumnClass) -> Iterator[CellFinding]:
    """Every cell of a classified column that is a value of one of its types (for masking and evaluation)."""
    dets = [registry.get(t.type) for t in column.types]
    pattern = "|".join(f"(?:{d.cell_regex})" for d in dets)
    cursor = table.con.execute(
        f"SELECT __row, c{column.index} FROM t WHERE {_whole(column.index, pattern)}"  # noqa: S608
    )
    while batch := cursor.fetchmany(8192):
        for row_number, raw in batch:
            value = raw.strip(WHITESPACE)
            for d in dets:
                if d.is_cell(value):
                    start = raw.index(value)
                    end = start + len(value)
                    yield CellFinding(row_number, column.name, d.code, start, end, mask(value, d.code))
                    break


def scan_cells(
    source: TableSource,
    *,
    classification: list[ColumnClass] | None = None,
    whole_columns: bool = False,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> list[CellFinding]:
    """Every value of personal data inside the free-text cells (columns with no whole-cell type, such as 备注): 0-based
    data row, column, type, character start/end and a masked copy. `whole_columns` also lists every cell of the
    classified columns that is a valid value of the column's type."""
    table = open_table(source)
    try:
        columns = classification if classification is not None else _classify(table, sample_rows)
        return _findings(table, columns, whole_columns)[0]
    finally:
        if table is not source:
            table.close()


def _findings(table: Table, columns: list[ColumnClass], whole_columns: bool) -> tuple[list[CellFinding], _TextScan]:
    """Findings in free text (row order), then, with `whole_columns`, those of the classified columns one column
    after the other; and the free-text scan for the summary."""
    free_text = [c for c in columns if c.free_text]
    with _no_collection():
        text = _scan_text(table, free_text) if free_text and table.rows else _TextScan([], {})
        cells = list(text.cells)
        if whole_columns:
            for column in columns:
                if not column.free_text:
                    cells.extend(_iter_whole_findings(table, column))
    return cells, text


def scan_table(
    source: TableSource, *, sample_rows: int = DEFAULT_SAMPLE_ROWS, whole_columns: bool = False
) -> ScanReport:
    """Classify the columns and scan the free-text cells of one table; what `citydata pii-scan` prints."""
    table = open_table(source)
    try:
        columns = _classify(table, sample_rows)
        cells, text = _findings(table, columns, whole_columns)
        _summarise_text(columns, text)
        sampled = columns[0].sampled if columns else 0
        return ScanReport(rows=table.rows, sample_rows=sampled, columns=columns, cells=cells)
    finally:
        if table is not source:
            table.close()


def _summarise_text(columns: list[ColumnClass], text: _TextScan) -> None:
    """For each free-text column: the share of its non-empty cells that contain each type, over the whole table."""
    findings: Counter[tuple[str, str]] = Counter()
    rows: dict[tuple[str, str], set[int]] = {}
    examples: dict[tuple[str, str], list[CellFinding]] = {}
    for finding in text.cells:
        key = (finding.column, finding.type)
        findings[key] += 1
        if key in rows:
            rows[key].add(finding.row)
        else:
            rows[key] = {finding.row}
            examples[key] = []
        if len(examples[key]) < 3:
            examples[key].append(finding)
    by_column: dict[str, list[tuple[str, str]]] = {}
    for key in findings:
        by_column.setdefault(key[0], []).append(key)
    for column in columns:
        if not column.free_text:
            continue
        total = text.non_empty.get(column.name) or 1
        for key in sorted(by_column.get(column.name, []), key=lambda k: -findings[k]):
            strength = min(registry.get(key[1]).strength, 0.99)
            column.text_types.append(
                TypeScore(
                    key[1],
                    share=len(rows[key]) / total,
                    confidence=1 - (1 - strength) ** findings[key],
                    matches=findings[key],
                    in_text=True,
                    examples=tuple(Example(f.row, f.masked) for f in examples[key]),
                )
            )
