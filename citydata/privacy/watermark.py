"""Per-recipient watermarks in exported rows, and tracing a leaked file back to its recipient (issue 6, R8.2).

Each markable cell carries a mark keyed by the recipient's secret and by the cell's own *carrier* (the part of the
value the mark does not touch), so a mark needs no other column, no row order, no header and no row count to be
read back: it survives shuffling, dropped or renamed columns and sampling. Three channels:

- numbers (DOUBLE): the shortest decimal form of the value gets five more decimals "00abc" (c ≠ 0), where abc is
  one of 900 keyed choices. 123.45 → 123.4500371. The change is below 1% of the value's last published digit, and
  rounding back to that digit gives the original. Only values with ≤ 10 significant digits (the result keeps ≤ 15,
  exact in a double), not 0, not ±inf/NaN.
- timestamps without a fraction of a second get 1–999 keyed milliseconds. 10:30:00 → 10:30:00.417.
- text: ASCII punctuation , ( ) : ; ! ? next to a Chinese character is written half- or full-width (，（）：；！？)
  by one keyed bit per position. The NFKC form of the text is unchanged.

Under a wrong key (another recipient, or a file that was never marked) a number's tail matches with probability
1/900, a timestamp's milliseconds with 1/999 and a punctuation bit with 1/2, independently of the data, because
the expected mark is a keyed hash (SHA-256 with the key first) of the carrier. `detect` counts matches over the
distinct carriers of a file and gives the binomial tail p-value, corrected for the number of candidates.

Two ways to mark an export, byte-for-byte equal (tested): `Watermarker.rows` over Python rows, and
`select_marked` + `bind`, which wrap the export's DuckDB SELECT so every format (including COPY to Parquet) streams
marked rows. Limits (see docs/privacy.md, "Watermarking"): rounding numbers, truncating timestamps to the second
and normalising punctuation remove the marks; aggregates carry none; two recipients comparing their copies see
where the copies differ.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

VERSION = b"citydata watermark v1"
HALF = ",():;!?"
FULL = "，（）：；！？"
TO_HALF = str.maketrans(FULL, HALF)
TO_FULL = str.maketrans(HALF, FULL)
TEXT_BITS = 256  # one bit of the digest per text position; later positions are left as they are
NUMBER_TAIL = 5  # "00" + three keyed digits
MAX_NUMBER_DIGITS = 15 - NUMBER_TAIL  # significant digits a number may have to carry a mark
CHOICES = {"n": 900, "t": 999}  # keyed choices per number tail / per timestamp
CHANNELS = ("number", "timestamp", "text")
ACCUSE_BELOW = 1e-6  # corrected p-value under which a recipient is named
DEFAULT_VARIABLE = "citydata_watermark"

_CJK = "[\u3400-\u4dbf\u4e00-\u9fff]"  # literal characters, so the same pattern works in Python and DuckDB (RE2)
_PUNCT = f"[{re.escape(HALF)}{FULL}]"
_CANDIDATE_PUNCT = re.compile(f"{_CJK}{_PUNCT}|{_PUNCT}{_CJK}")
_DECIMAL = re.compile(r"-?\d+\.\d+")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d{1,6}")


def key_of(secret: bytes) -> str:
    """The hex key the marks are computed with (what `bind` hands to DuckDB): the secret itself never leaves here."""
    return hmac.new(secret, VERSION, hashlib.sha256).hexdigest()


def derive_secret(master: bytes, *parts: str) -> bytes:
    """A recipient's secret from a platform secret and what names the recipient (e.g. "grant", grant id)."""
    return hmac.new(master, "\x1f".join(("recipient", *parts)).encode(), hashlib.sha256).digest()


def _digest(key: str, kind: str, carrier: str) -> str:
    return hashlib.sha256(f"{key}\x1f{kind}\x1f{carrier}".encode()).hexdigest()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


# ---- carriers: what a mark is keyed by, read the same way from marked and unmarked values -------------------------


def number_carrier(value: float) -> str | None:
    """The shortest decimal form of a markable number ("35" for 35.0), or None when it cannot carry a mark."""
    if value == 0 or not math.isfinite(value):
        return None
    text = repr(value)
    if "e" in text:
        return None
    carrier = text[:-2] if text.endswith(".0") else text
    if len(carrier.replace("-", "").replace(".", "").lstrip("0")) > MAX_NUMBER_DIGITS:
        return None
    return carrier


def _tail_digits(choice: int) -> str:
    return f"00{choice // 90}{choice // 9 % 10}{choice % 9 + 1}"


def _tail_choice(tail: str) -> int | None:
    if len(tail) != NUMBER_TAIL or not tail.startswith("00") or tail[-1] == "0":
        return None
    return int(tail[2]) * 90 + int(tail[3]) * 9 + int(tail[4]) - 1


def text_positions(carrier: str) -> list[int]:
    """0-based positions of `carrier` (punctuation folded to half-width) that carry a bit."""
    positions = []
    last = len(carrier) - 1
    for i, ch in enumerate(carrier[:TEXT_BITS]):
        if ch in HALF and ((i > 0 and _is_cjk(carrier[i - 1])) or (i < last and _is_cjk(carrier[i + 1]))):
            positions.append(i)
    return positions


def _bit(digest: str, i: int) -> int:
    return (int(digest[i // 4], 16) >> (3 - i % 4)) & 1


# ---- embedding ------------------------------------------------------------------------------------------------------


class Watermarker:
    """Marks the values of one export for one recipient; deterministic for a (secret, value), no state between rows.

    `types` gives each position's datastore type ("decimal", "datetime", "string"; anything else is left alone);
    without it every value is marked by its Python type (float, naive datetime, str). `channels` limits which
    kinds are marked."""

    def __init__(self, secret: bytes, types: Sequence[str | None] | None = None, *, channels: Iterable[str] = CHANNELS):
        self.key = key_of(secret)
        self.channels = frozenset(channels)
        by_type = {"decimal": "number", "datetime": "timestamp", "string": "text"}
        self.plan: list[Callable[[Any], Any] | None] | None = None
        if types is not None:
            self.plan = [self._marker(by_type.get(t or "")) for t in types]
        self._cache: dict[tuple[str, str], Any] = {}

    def _marker(self, channel: str | None) -> Callable[[Any], Any] | None:
        if channel not in self.channels:
            return None
        return {"number": self.number, "timestamp": self.timestamp, "text": self.text}[channel]

    def _cached(self, kind: str, carrier: str) -> str:
        digest = self._cache.get((kind, carrier))
        if digest is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            digest = self._cache[(kind, carrier)] = _digest(self.key, kind, carrier)
        return digest

    def number(self, value: Any) -> Any:
        if type(value) is not float:
            return value
        carrier = number_carrier(value)
        if carrier is None:
            return value
        choice = int(self._cached("n", carrier)[:8], 16) % CHOICES["n"]
        return float(carrier + ("" if "." in carrier else ".") + _tail_digits(choice))

    def timestamp(self, value: Any) -> Any:
        if type(value) is not dt.datetime or value.tzinfo is not None or value.microsecond or value.year < 1900:
            return value
        choice = int(self._cached("t", value.isoformat(sep=" "))[:8], 16) % CHOICES["t"]
        return value + dt.timedelta(milliseconds=choice + 1)

    def text(self, value: Any) -> Any:
        if type(value) is not str or not _CANDIDATE_PUNCT.search(value):
            return value
        carrier = value.translate(TO_HALF)
        positions = text_positions(carrier)
        if not positions:
            return value
        digest = self._cached("s", carrier)
        chars = list(value)
        for i in positions:
            chars[i] = carrier[i].translate(TO_FULL) if _bit(digest, i) else carrier[i]
        return "".join(chars)

    def value(self, value: Any) -> Any:
        """One value, marked by its Python type."""
        kind = type(value)
        if kind is float and "number" in self.channels:
            return self.number(value)
        if kind is str and "text" in self.channels:
            return self.text(value)
        if kind is dt.datetime and "timestamp" in self.channels:
            return self.timestamp(value)
        return value

    def row(self, row: Sequence[Any]) -> tuple:
        if self.plan is None:
            return tuple(self.value(v) for v in row)
        return tuple(v if mark is None else mark(v) for v, mark in zip(row, self.plan, strict=False))

    def rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[tuple]:
        """Rows (or one `fetchmany` batch) marked one by one: stream through it."""
        row = self.row
        for r in rows:
            yield row(r)


def embed(
    rows: Iterable[Sequence[Any]],
    secret: bytes,
    types: Sequence[str | None] | None = None,
    *,
    channels: Iterable[str] = CHANNELS,
) -> Iterator[tuple]:
    """`rows` with the recipient's watermark, lazily (see `Watermarker`)."""
    return Watermarker(secret, types, channels=channels).rows(rows)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def select_marked(
    sql: str,
    columns: Sequence[tuple[str, str]],
    *,
    channels: Iterable[str] = CHANNELS,
    variable: str = DEFAULT_VARIABLE,
) -> str:
    """`sql` wrapped so that DuckDB marks its rows, exactly as `Watermarker` does (vectorised, for every format).

    `columns` are (name, datastore type) of the SELECT's output in order; run `bind(cursor, secret)` on the cursor
    first. The key travels in a DuckDB variable, never in the SQL text."""
    wanted = set(channels)
    key = f"getvariable('{variable}')"
    carriers, digests, outer = [], [], []  # three nested projections, so each digest is computed once per cell

    def hashed(kind: str, carrier: str, choices: int) -> str:
        digest = f"sha256({key} || chr(31) || '{kind}' || chr(31) || {carrier})"
        return f"CAST('0x' || substr({digest}, 1, 8) AS UBIGINT) % {choices}"

    for i, (name, kind) in enumerate(columns):
        col, c, k = _ident(name), f"__wm_c{i}", f"__wm_k{i}"
        if kind == "decimal" and "number" in wanted:
            text = f"CAST({col} AS VARCHAR)"
            carriers.append(f"regexp_replace({text}, '\\.0$', '') AS {c}")
            ok = (
                f"{col} IS NOT NULL AND isfinite({col}) AND {col} <> 0 AND NOT contains({text}, 'e')"
                f" AND length(ltrim(replace(replace({c}, '-', ''), '.', ''), '0')) <= {MAX_NUMBER_DIGITS}"
            )
            digests.append(f"CASE WHEN {ok} THEN {hashed('n', c, CHOICES['n'])} END AS {k}")
            tail = (
                f"'00' || CAST({k} // 90 AS VARCHAR) || CAST({k} // 9 % 10 AS VARCHAR) || CAST({k} % 9 + 1 AS VARCHAR)"
            )
            marked = f"CAST({c} || CASE WHEN contains({c}, '.') THEN '' ELSE '.' END || {tail} AS DOUBLE)"
            outer.append(f"CASE WHEN {k} IS NULL THEN {col} ELSE {marked} END AS {col}")
        elif kind == "datetime" and "timestamp" in wanted:
            ok = f"{col} IS NOT NULL AND epoch_us({col}) % 1000000 = 0 AND year({col}) >= 1900"
            digests.append(f"CASE WHEN {ok} THEN {hashed('t', f'CAST({col} AS VARCHAR)', CHOICES['t'])} END AS {k}")
            outer.append(
                f"CASE WHEN {k} IS NULL THEN {col} ELSE {col} + to_milliseconds(CAST({k} + 1 AS BIGINT)) END AS {col}"
            )
        elif kind == "string" and "text" in wanted:
            carriers.append(f"translate({col}, '{FULL}', '{HALF}') AS {c}")
            ok = f"{col} IS NOT NULL AND regexp_matches({col}, '{_CANDIDATE_PUNCT.pattern}')"
            digests.append(f"CASE WHEN {ok} THEN sha256({key} || chr(31) || 's' || chr(31) || {c}) END AS {k}")
            cjk = "(unicode({x}) BETWEEN 19968 AND 40959 OR unicode({x}) BETWEEN 13312 AND 19903)"
            near = f"(p > 1 AND {cjk.format(x=f'{c}[p - 1]')} OR {cjk.format(x=f'{c}[p + 1]')})"
            bit = f"(CAST('0x' || {k}[(p - 1) // 4 + 1] AS INTEGER) >> (3 - (p - 1) % 4)) & 1 = 1"
            char = (
                f"CASE WHEN p <= {TEXT_BITS} AND contains('{HALF}', {c}[p]) AND {near} THEN "
                f"(CASE WHEN {bit} THEN translate({c}[p], '{HALF}', '{FULL}') ELSE {c}[p] END) ELSE {col}[p] END"
            )
            marked = f"array_to_string(list_transform(range(1, length({c}) + 1), lambda p: {char}), '')"
            outer.append(f"CASE WHEN {k} IS NULL THEN {col} ELSE {marked} END AS {col}")
        else:
            outer.append(col)
    # identifiers are quoted; the key is a DuckDB variable; `sql` is the caller's own statement
    level1 = f"SELECT *{''.join(', ' + e for e in carriers)} FROM ({sql})"  # noqa: S608
    level2 = f"SELECT *{''.join(', ' + e for e in digests)} FROM ({level1})"  # noqa: S608
    return f"SELECT {', '.join(outer)} FROM ({level2})"  # noqa: S608


def bind(cursor: duckdb.DuckDBPyConnection, secret: bytes, *, variable: str = DEFAULT_VARIABLE) -> None:
    """Give `cursor` the recipient's key for `select_marked`."""
    cursor.execute(f"SET VARIABLE {variable} = ?", [key_of(secret)])


# ---- detection ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """A cell that may carry a mark: its kind ("n", "t", "s"), carrier, and the mark read from it (the tail choice,
    the milliseconds − 1, or for text the bits at `positions`)."""

    kind: str
    carrier: str
    mark: int
    positions: tuple[int, ...] = ()


def observe(value: Any) -> Observation | None:
    """What a leaked cell says, whatever the file type turned it into (float, datetime, or text)."""
    if value is None or isinstance(value, bool | int | dt.date) and not isinstance(value, dt.datetime):
        return None
    if isinstance(value, float):
        text = repr(value)
        return None if "e" in text or "n" in text else _observe_number(text)
    if isinstance(value, decimal.Decimal):
        return _observe_number(format(value, "f"))
    if isinstance(value, dt.datetime):
        return _observe_timestamp(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _DECIMAL.fullmatch(text):
        return _observe_number(text)
    if _TIMESTAMP.fullmatch(text):
        try:
            return _observe_timestamp(dt.datetime.fromisoformat(text))
        except ValueError:
            return None
    if not _CANDIDATE_PUNCT.search(value):
        return None
    carrier = value.translate(TO_HALF)
    positions = tuple(text_positions(carrier))
    if not positions:
        return None
    bits = 0
    for i in positions:
        bits = bits << 1 | (value[i] in FULL)
    return Observation("s", carrier, bits, positions)


def _observe_number(text: str) -> Observation | None:
    if "." not in text:
        return None
    head, frac = text.split(".", 1)
    if len(frac) < NUMBER_TAIL:
        return None
    choice = _tail_choice(frac[-NUMBER_TAIL:])
    if choice is None:
        return None
    carrier_text = text[:-NUMBER_TAIL].rstrip(".")
    try:
        carrier = number_carrier(float(carrier_text))
    except ValueError:
        return None
    if carrier != carrier_text:  # not a form the embedder writes (e.g. "35.10")
        return None
    return Observation("n", carrier, choice)


def _observe_timestamp(value: dt.datetime) -> Observation | None:
    if value.tzinfo is not None or value.year < 1900 or not value.microsecond or value.microsecond % 1000:
        return None
    return Observation("t", value.replace(microsecond=0).isoformat(sep=" "), value.microsecond // 1000 - 1)


def collect(rows: Iterable[Iterable[Any] | Mapping[str, Any]], *, limit: int = 20_000) -> list[Observation]:
    """The distinct carriers of a leaked table (the first mark read for each), at most `limit` of them.

    Only distinct carriers count: a value repeated in many rows carries the same mark, one piece of evidence."""
    seen: dict[tuple[str, str], Observation] = {}
    for row in rows:
        for value in row.values() if isinstance(row, Mapping) else row:
            found = observe(value)
            if found is not None and (found.kind, found.carrier) not in seen:
                seen[(found.kind, found.carrier)] = found
                if len(seen) >= limit:
                    return list(seen.values())
    return list(seen.values())


@dataclass(frozen=True)
class CandidateScore:
    label: str
    trials: int  # number tails + timestamps + text bits tested
    matches: int
    expected: float  # matches expected by chance
    log10_p: float  # one-sided tail p-value of `matches`, before the correction for several candidates


@dataclass(frozen=True)
class Verdict:
    """`recipient` is None when the file cannot be traced ("no_marks", "too_thin" or "no_candidates")."""

    recipient: str | None
    outcome: str  # identified | too_thin | no_marks | no_candidates
    log10_p: float  # corrected for the number of candidates (Bonferroni); 0 when nobody is named
    observations: int
    scores: list[CandidateScore] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # other candidates whose marks are significant too (collusion)

    @property
    def confidence(self) -> float:
        return 1 - 10**self.log10_p

    def as_json(self) -> dict:
        return {
            "recipient": self.recipient,
            "outcome": self.outcome,
            "confidence": self.confidence,
            "log10_p": self.log10_p,
            "observations": self.observations,
            "also": self.also,
            "candidates": [
                {
                    "label": s.label,
                    "trials": s.trials,
                    "matches": s.matches,
                    "expected": round(s.expected, 3),
                    "log10_p": s.log10_p,
                }
                for s in self.scores
            ],
        }


def _expected(key: str, obs: Observation) -> int:
    digest = _digest(key, obs.kind, obs.carrier)
    if obs.kind == "s":
        bits = 0
        for i in obs.positions:
            bits = bits << 1 | _bit(digest, i)
        return bits
    return int(digest[:8], 16) % CHOICES[obs.kind]


def score(observations: Sequence[Observation], label: str, secret: bytes) -> CandidateScore:
    """How many of the file's marks `secret` predicts, against chance."""
    key = key_of(secret)
    bit_trials = bit_matches = strong_trials = strong_matches = 0
    expected = 0.0
    for obs in observations:
        want = _expected(key, obs)
        if obs.kind == "s":
            width = len(obs.positions)
            bit_trials += width
            bit_matches += width - bin(want ^ obs.mark).count("1")
            expected += width / 2
        else:
            strong_trials += 1
            strong_matches += want == obs.mark
            expected += 1 / CHOICES[obs.kind]
    log10_p = tail_log10(bit_trials, strong_trials, bit_matches + strong_matches)
    return CandidateScore(label, bit_trials + strong_trials, bit_matches + strong_matches, expected, log10_p)


def _log_binom_pmf(n: int, k: int, q: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(q) + (n - k) * math.log1p(-q)


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values)) if top > -math.inf else -math.inf


def tail_log10(bits: int, strong: int, matches: int) -> float:
    """log10 P(A + D ≥ matches) for A ~ Binomial(bits, 1/2) and D ~ Binomial(strong, 1/900): the chance that
    a wrong key predicts that many marks. Timestamps (1/999) are counted as 1/900, which only overstates chance."""
    if matches <= 0:
        return 0.0
    q = 1 / CHOICES["n"]
    top = min(strong, matches + 2000)
    # log P(D ≥ r) for r = 0..top, summed from the top down
    log_pmf = [_log_binom_pmf(strong, r, q) for r in range(top + 1)]
    log_tail = [0.0] * (top + 2)
    log_tail[top + 1] = -math.inf
    for r in range(top, -1, -1):
        log_tail[r] = _logsumexp([log_tail[r + 1], log_pmf[r]])
    terms = []
    # terms more than 20 standard deviations below A's mean are negligible next to those at the mean
    low = max(0, matches - top, int(bits / 2 - 10 * math.sqrt(bits)) - 1)
    for a in range(low, bits + 1):
        need = matches - a
        d_tail = 0.0 if need <= 0 else (log_tail[need] if need <= top else -math.inf)
        if d_tail == -math.inf:
            continue
        terms.append(_log_binom_pmf(bits, a, 0.5) + d_tail)
    if not terms:
        return -math.inf
    return min(0.0, _logsumexp(terms) / math.log(10))


def detect(
    rows: Iterable[Iterable[Any] | Mapping[str, Any]] | Sequence[Observation],
    candidates: Iterable[tuple[str, bytes]],
    *,
    alpha: float = ACCUSE_BELOW,
    limit: int = 20_000,
) -> Verdict:
    """The most likely recipient of a leaked table among `candidates` (label, secret), or why none can be named.

    A candidate is named when the chance that a wrong key predicts as many marks, times the number of candidates,
    is below `alpha`."""
    pool = list(candidates)
    if isinstance(rows, Sequence) and rows and isinstance(rows[0], Observation):
        observations = list(rows)
    else:
        observations = collect(rows, limit=limit)  # type: ignore[arg-type]
    if not pool:
        return Verdict(None, "no_candidates", 0.0, len(observations))
    if not observations:
        return Verdict(None, "no_marks", 0.0, 0)
    scores = sorted((score(observations, label, secret) for label, secret in pool), key=lambda s: s.log10_p)
    correction = math.log10(len(pool))
    significant = [s for s in scores if s.log10_p + correction <= math.log10(alpha)]
    if not significant:
        return Verdict(None, "too_thin", 0.0, len(observations), scores)
    best = significant[0]
    return Verdict(
        best.label,
        "identified",
        min(0.0, best.log10_p + correction),
        len(observations),
        scores,
        [s.label for s in significant[1:]],
    )


# ---- candidates -----------------------------------------------------------------------------------------------------

CandidateSource = Callable[[str | None], Iterable[tuple[str, bytes]]]
candidate_sources: list[CandidateSource] = []


def register_candidate_source(source: CandidateSource) -> CandidateSource:
    """Add a source of (label, secret) for a dataset slug (None: every dataset); usable as a decorator."""
    if source not in candidate_sources:
        candidate_sources.append(source)
    return source


def candidates_for(dataset: str | None) -> list[tuple[str, bytes]]:
    return [pair for source in candidate_sources for pair in source(dataset)]


# ---- reading a leaked file ------------------------------------------------------------------------------------------


class UnreadableFile(ValueError):
    """A leaked file that cannot be read; `code` is missing, unsupported, empty or unreadable."""

    def __init__(self, code: str, reason: str = ""):
        super().__init__(reason or code)
        self.code = code
        self.reason = reason


SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".json", ".geojson", ".jsonl")


def read_rows(path: str | Path) -> Iterator[list[Any]]:
    """The cells of a CSV/TSV, XLSX, Parquet, JSON (list of objects, a records page, GeoJSON) or JSON-lines file,
    row by row, with the types the format keeps (text for CSV). The header is included: it carries no marks."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile("missing")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile("unsupported", suffix)
    if path.stat().st_size == 0:
        raise UnreadableFile("empty")
    try:
        if suffix == ".xlsx":
            yield from _xlsx_rows(path)
        elif suffix == ".parquet":
            yield from _parquet_rows(path)
        elif suffix in (".json", ".geojson", ".jsonl"):
            yield from _json_rows(path)
        else:
            yield from _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    except UnreadableFile:
        raise
    except Exception as exc:  # a leaked file is untrusted input: whatever its parser raises means "unreadable"
        raise UnreadableFile("unreadable", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) from None


def _csv_rows(path: Path, delimiter: str) -> Iterator[list[Any]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("unreadable", "encoding")
    if "\x00" in text:
        raise UnreadableFile("unreadable", "binary")
    yield from csv.reader(text.splitlines(), delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
    finally:
        book.close()


def _parquet_rows(path: Path) -> Iterator[list[Any]]:
    con = duckdb.connect()
    try:
        result = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        while batch := result.fetchmany(10_000):
            yield from (list(r) for r in batch)
    finally:
        con.close()


def _json_rows(path: Path) -> Iterator[list[Any]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        documents = [json.loads(line) for line in text.splitlines() if line.strip()]
    for doc in documents:
        yield from _json_values(doc)


def _json_values(doc: Any) -> Iterator[list[Any]]:
    if isinstance(doc, list):
        for item in doc:
            yield from _json_values(item)
    elif isinstance(doc, dict):
        if doc.get("type") == "FeatureCollection":
            yield from _json_values(doc.get("features") or [])
        elif doc.get("type") == "Feature":
            yield list((doc.get("properties") or {}).values())
        elif isinstance(doc.get("items"), list):
            yield from _json_values(doc["items"])
        else:
            yield [v for v in doc.values() if not isinstance(v, dict | list)]
    else:
        yield [doc]
