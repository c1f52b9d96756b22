"""Find personal data in a table: classify every column from a sample, then scan every free-text cell.

Both steps run over whole columns in DuckDB: RE2 (`regexp_full_match`, `regexp_matches`) marks the cells that hold a
candidate of some type, and Python validates only those (checksums, dates, context). A table is a list of column
names and rows, a DuckDB relation, or a Parquet, CSV, TSV or Excel file; Parquet is read in place, so a file of
millions of rows costs one vectorised pass per step. Reports carry row numbers, offsets and masked examples, never
a raw value.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from citydata.privacy import detectors as registry
from citydata.privacy.detectors import WHITESPACE, Detector
from citydata.privacy.tables import Table, TableSource, open_table, sql_literal

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
SEEN_TEXTS = 50_000  # texts whose findings are remembered while scanning
CHUNK_ROWS = 25_000  # rows whose free text DuckDB tests at a time, while Python validates the previous ones
CONTEXT_WINDOW = 12  # characters before a value searched for words like 卡号 or 身份证
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


# --- masking -----------------------------------------------------------------------------------------------------


def mask(value: str, type: str) -> str:
    """`value` as it may be shown: 510703********1234, 138****5678, 张*. Unknown types keep the first character."""
    detector = registry.REGISTRY.get(type)
    if detector is not None and detector.masker is not None:
        return detector.masker(value)
    return value[:1] + "*" * max(len(value) - 1, 0)


# --- one piece of text -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


def _context_choice(text: str, start: int, types: list[str]) -> str | None:
    """Of the types an ambiguous value passes, the one whose context word stands nearest before it."""
    window_start = max(0, start - CONTEXT_WINDOW)
    window = text[window_start:start]
    best: tuple[int, str] | None = None
    for code in types:
        for word in registry.get(code).context:
            at = window.rfind(word)
            if at >= 0 and (best is None or at + len(word) > best[0]):
                best = (at + len(word), code)
    return best[1] if best else None


def _resolve(text: str, found: list[tuple[int, int, str]], hint: str | None) -> list[Span]:
    """One type per span (context, then the header, then registration order decide), then no overlaps (the
    longer span wins: an e-mail address over the phone number inside it)."""
    order = {code: i for i, code in enumerate(registry.REGISTRY)}
    by_span: dict[tuple[int, int], list[str]] = {}
    for start, end, code in found:
        by_span.setdefault((start, end), []).append(code)
    spans = []
    for (start, end), codes in by_span.items():
        if len(codes) > 1:
            codes.sort(key=order.__getitem__)
            chosen = _context_choice(text, start, codes) or (hint if hint in codes else codes[0])
        else:
            chosen = codes[0]
        spans.append(Span(chosen, start, end))
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), order[s.type]))
    kept: list[Span] = []
    for span in spans:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
        elif span.end - span.start > kept[-1].end - kept[-1].start:
            kept[-1] = span
    return kept


def find_in_text(
    text: str, *, hint: str | None = None, only: Iterable[Detector] | None = None, prefiltered: bool = False
) -> list[Span]:
    """Every value of personal data in one piece of text, overlaps resolved. `hint` is the type the column
    header names (it lets a whole cell be a name without a context word); `only` limits the detectors tried."""
    found: list[tuple[int, int, str]] = []
    for detector in registry.detectors() if only is None else only:
        if prefiltered and detector.finder is None and hint != detector.code:
            validate = detector.validate  # the common case, without the generator of Detector.find
            found.extend(
                (m.start(), m.end(), detector.code) for m in detector.compiled.finditer(text) if validate(m.group())
            )
            continue
        for start, end in detector.find(text, hinted=hint == detector.code, prefiltered=prefiltered):
            found.append((start, end, detector.code))
    if len(found) == 1:
        return [Span(found[0][2], found[0][0], found[0][1])]
    return _resolve(text, found, hint) if found else []


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
    # hash() spreads the pick over the whole table and gives the same sample every run
    table.con.execute(
        f"CREATE OR REPLACE TEMP TABLE s AS SELECT * FROM t WHERE hash(__row) % {table.rows} < {sample_rows}"  # noqa: S608
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
    parts = [f"count(*) FILTER (WHERE {_whole(i, d.cell_regex)})" for i in tested for d in dets]
    counts = table.con.execute(f"SELECT {', '.join(parts)} FROM {sample}").fetchone() if parts else ()  # noqa: S608
    assert counts is not None
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
    """A bit per detector that has a candidate in `text`, the cells of every free-text column stacked (`k` is the
    column's position): each detector's RE2 test runs once per cell, which costs less than one big alternation,
    and one expression for all columns means DuckDB compiles each regex once per query (~17 ms a column
    otherwise). Plain numbers or dates get 0 without any test, and cells without an ASCII letter or digit are
    tested only by the detectors that can match Chinese alone (and by the type their header names)."""
    bits, chinese_bits = [], []
    for i, d in enumerate(dets):
        test = f"regexp_matches(text, {sql_literal(d.flag_pattern)})"
        hinted = [str(k) for k, c in enumerate(columns) if c.hint == d.code]
        if hinted:
            whole = sql_literal(f"{_WS}*(?:{d.cell_regex}){_WS}*")
            test = f"({test} OR (k IN ({', '.join(hinted)}) AND regexp_full_match(text, {whole})))"
        bits.append(f"({test}::BIGINT << {i})")
        if not d.needs_ascii:
            chinese_bits.append(bits[-1])
        elif hinted:
            chinese_bits.append(f"((k IN ({', '.join(hinted)}) AND {test})::BIGINT << {i})")
    plain = sql_literal(PLAIN_VALUE)
    return (
        f"CASE WHEN regexp_full_match(text, {plain}) THEN 0 "
        f"WHEN NOT regexp_matches(text, '[0-9A-Za-z]') THEN {' | '.join(chinese_bits) or '0'} "
        f"ELSE {' | '.join(bits)} END"
    )


def _text_query(columns: list[ColumnClass], source: str) -> tuple[str, list[Detector]]:
    """Free-text cells, in a range of row numbers, that hold a candidate: one row per flagged cell — row number,
    position of the column in `columns`, text and flags — in row then column order. One query covers every
    free-text column (each query costs ~0.05 s of CPU to set up, mostly RE2 compilation); only flagged cells
    cross into Python."""
    dets = registry.detectors()
    # the shortest thing found in running text is a context word and a name (4); under a header, a 2-character name
    cells = " UNION ALL ".join(
        f"SELECT __row, {k} AS k, c{c.index} AS text FROM {source} "  # noqa: S608
        f"WHERE __row >= $1 AND __row < $2 AND length(c{c.index}) >= {2 if c.hint else 4}"
        for k, c in enumerate(columns)
    )
    sql = (
        f"SELECT * FROM (SELECT __row, k, text, {_flags(columns, dets)} AS bits FROM ({cells})) "  # noqa: S608
        "WHERE bits <> 0 ORDER BY __row, k"
    )
    return sql, dets


def _batches(table: Table, sql: str, rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `sql`, one range of row numbers at a time, computed by a background thread on its own cursor:
    DuckDB runs the regexes of the next range without the GIL while this thread validates the last in Python."""
    out: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    cursor = table.con.cursor()

    def produce() -> None:
        try:
            for low in range(0, rows, CHUNK_ROWS):
                if stop.is_set():
                    break
                out.put(cursor.execute(sql, [low, low + CHUNK_ROWS]).fetchall())
        except BaseException as exc:  # handed to the consumer
            out.put(exc)
        finally:
            out.put(None)

    worker = threading.Thread(target=produce, name="pii-scan-fetch", daemon=True)
    worker.start()
    try:
        while (item := out.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                out.get(timeout=0.05)
        cursor.close()


def _iter_text_findings(table: Table, columns: list[ColumnClass]) -> Iterator[CellFinding]:
    source = "t"
    if table.lazy_rows:  # a Parquet view: copy the text columns once so each range does not read the file again
        source = "free_text"
        picked = ", ".join(f"c{c.index}" for c in columns)
        table.con.execute(f"CREATE OR REPLACE TABLE {source} AS SELECT __row, {picked} FROM t")  # noqa: S608
    sql, dets = _text_query(columns, source)
    by_mask: dict[int, list[Detector]] = {}
    names = [c.name for c in columns]
    hints = [c.hint for c in columns]
    # Remarks repeat ("患者高热三天，予退热处理。"): the findings of a text already read are reused, masked.
    seen: dict[tuple[str, int, int], list[tuple[str, int, int, str]]] = {}
    try:
        for batch in _batches(table, sql, table.rows):
            for row_number, k, text, bits in batch:
                key = (text, bits, k)
                found = seen.get(key)
                if found is None:
                    only = by_mask.get(bits)
                    if only is None:
                        only = by_mask[bits] = [d for i, d in enumerate(dets) if bits >> i & 1]
                    found = [
                        (span.type, span.start, span.end, mask(text[span.start : span.end], span.type))
                        for span in find_in_text(text, hint=hints[k], only=only, prefiltered=True)
                    ]
                    if len(seen) >= SEEN_TEXTS:
                        seen.clear()
                    seen[key] = found
                for kind, start, end, masked in found:
                    yield CellFinding(row_number, names[k], kind, start, end, masked)
    finally:
        if source != "t":
            table.con.execute(f"DROP TABLE IF EXISTS {source}")


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
        return list(_iter_findings(table, columns, whole_columns))
    finally:
        if table is not source:
            table.close()


def _iter_findings(table: Table, columns: list[ColumnClass], whole_columns: bool) -> Iterator[CellFinding]:
    free_text = [c for c in columns if c.free_text]
    if free_text and table.rows:
        yield from _iter_text_findings(table, free_text)
    if whole_columns:
        for column in columns:
            if not column.free_text:
                yield from _iter_whole_findings(table, column)


def scan_table(
    source: TableSource, *, sample_rows: int = DEFAULT_SAMPLE_ROWS, whole_columns: bool = False
) -> ScanReport:
    """Classify the columns and scan the free-text cells of one table; what `citydata pii-scan` prints."""
    table = open_table(source)
    try:
        columns = _classify(table, sample_rows)
        cells = list(_iter_findings(table, columns, whole_columns))
        _summarise_text(table, columns, cells)
        sampled = columns[0].sampled if columns else 0
        return ScanReport(rows=table.rows, sample_rows=sampled, columns=columns, cells=cells)
    finally:
        if table is not source:
            table.close()


def _summarise_text(table: Table, columns: list[ColumnClass], cells: list[CellFinding]) -> None:
    """For each free-text column: the share of its non-empty cells that contain each type, over the whole table."""
    text_columns = [c for c in columns if c.free_text]
    if not text_columns:
        return
    parts = ", ".join(f"count(*) FILTER (WHERE {_filled(c.index)})" for c in text_columns)
    counts = table.con.execute(f"SELECT {parts} FROM t").fetchone() or ()  # noqa: S608
    non_empty = dict(zip((c.name for c in text_columns), counts, strict=True))
    findings: Counter[tuple[str, str]] = Counter()
    rows: dict[tuple[str, str], set[int]] = {}
    examples: dict[tuple[str, str], list[CellFinding]] = {}
    for finding in cells:
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
    for column in text_columns:
        total = non_empty.get(column.name) or 1
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
