"""Masking strategies: a registry of plug-ins, each turning one column into a de-identified one inside DuckDB.

A masking plan is a list of steps `{"column", "strategy", "params"}`. `apply_plan` writes a new Parquet file from a
version's Parquet in one `COPY (SELECT …)`: every strategy is an SQL expression over the column (suppress drops it),
so a million rows cost one vectorised pass. The keyed pseudonym is HMAC-SHA256 computed in SQL (`sha256` over the
key pads and the value, as RFC 2104 writes it — a test checks it against Python's `hmac`); only free-text redaction
calls Python, through a UDF on the cells that DuckDB first flags as holding a candidate.

A new strategy is one decorated function returning the SQL expression:

    @register(code="round", label=_("取整"), params={"digits": int}, types=("decimal",))
    def round_(column: str, params: dict, ctx: Context) -> str:
        \"\"\"What it does and what survives.\"\"\"
        return f"round({column}, {int(params.get('digits', 0))})"
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from citydata.errors import DomainError
from citydata.privacy import detectors as registry
from citydata.privacy import lexicon
from citydata.privacy.tables import sql_literal

ROW_GROUP_SIZE = 30_720  # as the datastore writes versions (datastore/ingest.py)
NUMERIC = ("integer", "decimal")
TEMPORAL = ("date", "datetime")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Context:
    """What a strategy may use besides its column: the dataset's pseudonym key, the column's stored type, the
    name of the 0-based row number, the reference date of age bands, and other columns' SQL (date shifting)."""

    key: bytes
    type: str
    row: str = "src.__row"
    today: dt.date = field(default_factory=dt.date.today)
    redacted: str = "NULL"  # for `redact`: the column of the texts already redacted in Python, NULL where unchanged


SqlBuilder = Callable[[str, dict, Context], "str | None"]


@dataclass(frozen=True)
class Strategy:
    code: str
    label: Any
    build: SqlBuilder
    doc: str
    params: dict[str, type]
    types: tuple[str, ...]  # stored column types it applies to; empty = any
    output: Callable[[str, dict], str]  # the column's type afterwards


STRATEGIES: dict[str, Strategy] = {}


def register(
    *,
    code: str,
    label: Any,
    params: dict[str, type] | None = None,
    types: tuple[str, ...] = (),
    output: Callable[[str, dict], str] | None = None,
) -> Callable[[SqlBuilder], SqlBuilder]:
    """Register the decorated SQL builder as the masking strategy `code`; its docstring documents it."""

    def wrap(build: SqlBuilder) -> SqlBuilder:
        if code in STRATEGIES:
            raise ValueError(f"masking strategy {code!r} is registered twice")
        STRATEGIES[code] = Strategy(
            code=code,
            label=label,
            build=build,
            doc=inspect.cleandoc(build.__doc__ or ""),
            params=params or {},
            types=types,
            output=output or (lambda _type, _params: "string"),
        )
        return build

    return wrap


def strategies() -> list[Strategy]:
    return list(STRATEGIES.values())


# --- keys --------------------------------------------------------------------------------------------------------


def dataset_key(dataset_id: int) -> bytes:
    """The dataset's pseudonym key: HMAC of its id under CITYDATA_PSEUDONYM_KEY (else the secret key). The same
    for every version, so pseudonyms of one person match across versions; different between datasets, so two
    datasets cannot be joined on them unless the platform does it."""
    base = (settings.PSEUDONYM_KEY or settings.SECRET_KEY).encode()
    return hmac.new(base, f"citydata-pseudonym:{dataset_id}".encode(), hashlib.sha256).digest()


def _hmac_sql(value_sql: str, key: bytes) -> str:
    """HMAC-SHA256 (RFC 2104) of a VARCHAR in DuckDB SQL, as lowercase hex."""
    padded = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in padded).hex()
    outer = bytes(b ^ 0x5C for b in padded).hex()
    return f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode({value_sql}))))"


def pseudonym(value: str, key: bytes, length: int = 16) -> str:
    """The pseudonym SQL writes for `value` (for tests and for looking one up)."""
    return "P" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]


# --- strategies --------------------------------------------------------------------------------------------------


def _text(column: str) -> str:
    return f"trim(CAST({column} AS VARCHAR))"


def _stars(n_sql: str) -> str:
    return f"repeat('*', greatest({n_sql}, 0)::BIGINT)"


@register(code="suppress", label=_("删除字段"))
def suppress(column: str, params: dict, ctx: Context) -> str | None:
    """删除字段. The column is left out of the published version."""
    return None


@register(code="keep", label=_("保留（声明非个人信息）"), params={"reason": str}, output=lambda t, p: t)
def keep(column: str, params: dict, ctx: Context) -> str:
    """保留. The provider declares, with a written reason, that the column is not personal data (an institution's
    address or switchboard number); the gate then does not count it. Not allowed for identity numbers."""
    return column


def _partial_sql(value: str, params: dict) -> str:
    style = params.get("style") or "keep"
    if style == "name":
        compounds = ", ".join(sql_literal(s) for s in sorted(lexicon.COMPOUND_SURNAMES))
        surname = f"CASE WHEN left({value}, 2) IN ({compounds}) THEN 2 ELSE 1 END"
        return f"left({value}, {surname}) || {_stars(f'length({value}) - {surname}')}"
    if style == "email":
        domain = f"regexp_extract({value}, '@(.*)$', 1)"
        return f"CASE WHEN contains({value}, '@') THEN left({value}, 1) || '***@' || {domain} ELSE '***' END"
    if style == "address":
        admin = f"regexp_extract({value}, {sql_literal(DISTRICT_RE)}, 1)"
        return f"{admin} || {_stars(f'length({value}) - length({admin})')}"
    head, tail = int(params.get("head", 1)), int(params.get("tail", 0))
    short = f"length({value}) <= {head + tail}"
    body = f"left({value}, {head}) || {_stars(f'length({value}) - {head + tail}')} || right({value}, {tail})"
    if tail == 0:
        body = f"left({value}, {head}) || {_stars(f'length({value}) - {head}')}"
    return f"CASE WHEN {short} THEN {_stars(f'length({value})')} ELSE {body} END"


@register(code="partial", label=_("部分遮蔽"), params={"head": int, "tail": int, "style": str})
def partial(column: str, params: dict, ctx: Context) -> str:
    """部分遮蔽. Keep `head` characters and `tail` characters, a star for each between: 510703********1234,
    138****5678. `style` name keeps the surname (张*, 欧阳**), email the first letter and the domain
    (z***@example.cn), address the divisions down to the district (四川省绵阳市涪城区******)."""
    value = _text(column)
    return f"CASE WHEN {column} IS NULL OR {value} = '' THEN NULL ELSE {_partial_sql(value, params)} END"


@register(code="pseudonym", label=_("假名化"), params={"length": int})
def pseudonym_sql(column: str, params: dict, ctx: Context) -> str:
    """假名化. `P` + the first `length` (16) hex digits of HMAC-SHA256 of the value under the dataset's key: the
    same value gives the same pseudonym in every version, so counts and joins within the dataset still work,
    and without the key nobody can compute it from a guessed ID."""
    length = max(8, min(int(params.get("length") or 16), 64))
    value = _text(column)
    digest = _hmac_sql(value, ctx.key)
    return f"CASE WHEN {column} IS NULL OR {value} = '' THEN NULL ELSE 'P' || left({digest}, {length}) END"


# Divisions from the start of an address down to the district or county, read in RE2 (DuckDB).
DISTRICT_RE = (
    "^((?:[一-龥]{1,8}?(?:省|自治区|特别行政区))?(?:[一-龥]{1,8}?(?:市|自治州|州|盟|地区))?"
    "(?:[一-龥]{1,8}?(?:区|县|旗|市))?)"
)


def _generalised_type(input_type: str, params: dict) -> str:
    to = params.get("to")
    if to == "year":
        return "integer"
    if to in ("grid", "round"):
        return "decimal" if input_type in NUMERIC else "string"
    return "string"


@register(
    code="generalise",
    label=_("泛化"),
    params={"to": str, "width": int, "step": float, "length": int},
    output=_generalised_type,
)
def generalise(column: str, params: dict, ctx: Context) -> str:
    """泛化. `to` says how far: `year` or `month` of a date (or of the birth date in a resident ID), `age_band`
    (ages or birth dates to bands of `width` years, 30-39), `band` (numbers to bands of `width`), `district` (an
    address to its divisions down to the district: 四川省绵阳市涪城区), `grid` (coordinates to a grid of `step`
    degrees, 0.01 ≈ 1 km), `prefix` (the first `length` characters), `star` (every value becomes *)."""
    to = params.get("to") or "star"
    width = max(1, int(params.get("width") or 10))
    value = _text(column)
    if to == "star":
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE '*' END"
    if to == "prefix":
        length = max(0, int(params.get("length") or 2))
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE left({value}, {length}) || '*' END"
    if to == "district":
        return f"nullif(regexp_extract({value}, {sql_literal(DISTRICT_RE)}, 1), '')"
    if to == "grid":
        step = float(params.get("step") or 0.01)
        decimals = max(0, len(f"{step:f}".rstrip("0").split(".")[1]) if "." in f"{step:f}".rstrip("0") else 0)
        number = column if ctx.type in NUMERIC else f"TRY_CAST({value} AS DOUBLE)"
        return f"round(round({number} / {step!r}) * {step!r}, {decimals})"
    date = _as_date(column, ctx)
    if to == "year":
        return f"year({date})"
    if to == "month":
        return f"strftime({date}, '%Y-%m')"
    if to == "age_band":
        if ctx.type in NUMERIC:
            age = f"CAST({column} AS BIGINT)"
        else:
            age = f"date_diff('year', {date}, DATE '{ctx.today.isoformat()}')"
        return _band(age, width)
    if to == "band":
        number = column if ctx.type in NUMERIC else f"TRY_CAST({value} AS DOUBLE)"
        return _band(f"CAST(floor({number}) AS BIGINT)", width)
    raise DomainError(_("泛化方式 %(to)s 无效。") % {"to": to}, code="invalid_plan")


def _band(number_sql: str, width: int) -> str:
    low = f"(floor(({number_sql}) / {width}) * {width})::BIGINT"
    return (
        f"CASE WHEN ({number_sql}) IS NULL THEN NULL ELSE {low}::VARCHAR || '-' || ({low} + {width - 1})::VARCHAR END"
    )


def _as_date(column: str, ctx: Context) -> str:
    """A column as a DATE: dates and timestamps as they are; a resident ID by its birth date (digits 7–14, or
    YYMMDD after 19 for 15-digit IDs); text by trying to parse it."""
    if ctx.type in TEMPORAL:
        return f"CAST({column} AS DATE)"
    value = _text(column)
    from_id = (
        f"CASE WHEN regexp_full_match({value}, '[0-9]{{17}}[0-9Xx]') "
        f"THEN try_strptime(substr({value}, 7, 8), '%Y%m%d') "
        f"WHEN regexp_full_match({value}, '[0-9]{{15}}') THEN try_strptime('19' || substr({value}, 7, 6), '%Y%m%d') END"
    )
    return f"CAST(coalesce({from_id}, TRY_CAST({value} AS TIMESTAMP)) AS DATE)"


@register(
    code="date_shift", label=_("日期偏移"), params={"days": int, "by": str}, types=TEMPORAL, output=lambda t, p: t
)
def date_shift(column: str, params: dict, ctx: Context) -> str:
    """日期偏移. Every date moves by a keyed offset of at most ±`days` (30) days. The offset is taken from HMAC of
    the `by` column's value (a person's ID: all dates of one person move together, so intervals survive), or of
    the row when `by` is not given; it is the same in every version."""
    days = max(1, int(params.get("days") or 30))
    by = params.get("by")
    seed = _text(ident(by)) if by else f"CAST({ctx.row} AS VARCHAR)"
    digest = _hmac_sql(f"coalesce({seed}, {sql_literal(column)})", ctx.key)
    offset = f"(CAST(('0x' || left({digest}, 8)) AS BIGINT) % {2 * days + 1} - {days})"
    if ctx.type == "date":
        return f"CAST({column} + to_days(CAST({offset} AS INTEGER)) AS DATE)"
    return f"{column} + to_days(CAST({offset} AS INTEGER))"


@register(
    code="top_bottom",
    label=_("顶底编码"),
    params={"top": float, "bottom": float},
    types=NUMERIC,
    output=lambda t, p: t,
)
def top_bottom(column: str, params: dict, ctx: Context) -> str:
    """顶底编码. Values above `top` become `top` and below `bottom` become `bottom` (the rare very old, very rich
    or very large that would stand out); when not given they are the 1st and 99th percentiles of the column."""
    cast = "BIGINT" if ctx.type == "integer" else "DOUBLE"
    top, bottom = params.get("top"), params.get("bottom")
    expr = column
    if top is not None:
        expr = f"least({expr}, CAST({float(top)!r} AS {cast}))"
    if bottom is not None:
        expr = f"greatest({expr}, CAST({float(bottom)!r} AS {cast}))"
    return expr


@register(code="redact", label=_("遮蔽文本中的个人信息"))
def redact(column: str, params: dict, ctx: Context) -> str:
    """遮蔽文本中的个人信息. For free text (备注): every value a detector finds inside a cell is replaced by its masked
    form (联系人张*，电话138****5678); the rest of the text stays. DuckDB flags the cells holding a candidate; only
    those are read in Python, and their redacted texts are joined back by row."""
    return f"coalesce({ctx.redacted}, CAST({column} AS VARCHAR))"


def _flagged(column: str) -> str:
    value = f"CAST({column} AS VARCHAR)"
    return " OR ".join(f"regexp_matches({value}, {sql_literal(d.flag_pattern)})" for d in registry.detectors())


def redact_text(text: str | None) -> str | None:
    """`text` with every value a detector finds in it replaced by its masked form."""
    from citydata.privacy.scan import find_in_text, mask

    if not text:
        return text
    pieces, last = [], 0
    for span in find_in_text(text):
        pieces.append(text[last : span.start])
        pieces.append(mask(text[span.start : span.end], span.type))
        last = span.end
    pieces.append(text[last:])
    return "".join(pieces)


# --- plans -------------------------------------------------------------------------------------------------------

# Identity numbers may not be kept or only partly masked by a provider's declaration; only the operator's
# override lets one through.
NEVER_KEEP = ("resident_id", "bank_card", "passport", "hk_macau_permit")


def clean_plan(plan: list[dict], columns: list[dict]) -> list[dict]:
    """Check a plan against the version's columns: known strategy, one step per column, parameters of the right
    type, the strategy fits the column's type. Returns the plan in column order."""
    by_name = {c["name"]: c for c in columns}
    cleaned: dict[str, dict] = {}
    for step in plan:
        name = str(step.get("column") or "")
        where = {"field": "plan", "column": name}
        if name not in by_name:
            raise DomainError(_("字段 %(c)s 不在这个版本中。") % {"c": name}, code="invalid_plan", details=where)
        code = str(step.get("strategy") or "")
        strategy = STRATEGIES.get(code)
        if strategy is None:
            raise DomainError(_("脱敏方式 %(s)s 无效。") % {"s": code}, code="invalid_plan", details=where)
        column_type = by_name[name].get("type", "string")
        if strategy.types and column_type not in strategy.types:
            raise DomainError(
                _("字段 %(c)s 的类型不能用“%(s)s”。") % {"c": name, "s": strategy.label},
                code="invalid_plan",
                details=where,
            )
        params: dict[str, Any] = {}
        for key, raw in (step.get("params") or {}).items():
            kind = strategy.params.get(key)
            if kind is None or raw in (None, ""):
                continue
            try:
                params[key] = kind(raw) if kind is not str else str(raw)[:200]
            except (TypeError, ValueError):
                raise DomainError(
                    _("字段 %(c)s 的参数 %(p)s 无效。") % {"c": name, "p": key}, code="invalid_plan", details=where
                ) from None
        if code == "keep" and not params.get("reason", "").strip():
            raise DomainError(
                _("保留字段 %(c)s 须写明理由（例如：机构地址，不属于个人信息）。") % {"c": name},
                code="keep_needs_reason",
                details=where,
            )
        if code == "date_shift" and params.get("by") and params["by"] not in by_name:
            raise DomainError(
                _("字段 %(c)s 不在这个版本中。") % {"c": params["by"]}, code="invalid_plan", details=where
            )
        if code == "generalise":
            generalise(ident(name), params, Context(key=b"", type=column_type))  # refuses an unknown `to`
        cleaned[name] = {"column": name, "strategy": code, "params": params, "source": step.get("source", "")}
    order = {c["name"]: i for i, c in enumerate(columns)}
    return sorted(cleaned.values(), key=lambda s: order[s["column"]])


def planned_columns(plan: list[dict], columns: list[dict]) -> list[dict]:
    """The version's columns after the plan: suppressed ones gone, types as the strategies leave them."""
    steps = {s["column"]: s for s in plan}
    out = []
    for column in columns:
        step = steps.get(column["name"])
        if step is None:
            out.append(dict(column))
            continue
        strategy = STRATEGIES[step["strategy"]]
        if strategy.code == "suppress":
            continue
        out.append({**column, "type": strategy.output(column.get("type", "string"), step["params"])})
    return out


def _redact_column(con, reader: str, name: str, alias: str) -> None:
    """Table `alias` (__row, __redacted) of the cells of `name` that hold a candidate, redacted in Python."""
    cursor = con.execute(
        f"SELECT file_row_number, CAST({ident(name)} AS VARCHAR) FROM {reader} WHERE {_flagged(ident(name))}"  # noqa: S608
    )
    rows: list[int] = []
    texts: list[str | None] = []
    while batch := cursor.fetchmany(8192):
        for row, text in batch:
            redacted = redact_text(text)
            if redacted != text:
                rows.append(row)
                texts.append(redacted)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {alias} AS "
        "SELECT unnest($1::BIGINT[]) AS __row, unnest($2::VARCHAR[]) AS __redacted",
        [rows, texts],
    )


def apply_plan(
    source: Path, target: Path, plan: list[dict], columns: list[dict], *, key: bytes, con=None
) -> tuple[list[dict], list[dict]]:
    """Write `source` with the plan applied to `target` (Parquet, zstd). Returns the columns afterwards and the
    plan as applied (top/bottom bounds filled in)."""
    own = con is None
    con = con or duckdb.connect()
    reader = f"read_parquet({sql_literal(str(source))}, file_row_number=true)"
    try:
        types = {c["name"]: c.get("type", "string") for c in columns}
        plan = [dict(s, params=dict(s["params"])) for s in plan]
        for step in plan:  # top/bottom coding without bounds: the 1st and 99th percentiles of the column
            if step["strategy"] == "top_bottom" and not {"top", "bottom"} & set(step["params"]):
                q = ident(step["column"])
                low, high = con.execute(
                    f"SELECT quantile_cont({q}, 0.01), quantile_cont({q}, 0.99) FROM {reader}"  # noqa: S608
                ).fetchone() or (None, None)
                if low is not None and high is not None:
                    cast = int if types[step["column"]] == "integer" else float
                    step["params"].update(bottom=cast(low), top=cast(high))
        steps = {s["column"]: s for s in plan}
        select: list[str] = []
        joins: list[str] = []
        for column in columns:
            name = column["name"]
            step = steps.get(name)  # type: ignore[assignment]
            if step is None:
                select.append(f"src.{ident(name)}")
                continue
            ctx = Context(key=key, type=types[name])
            if step["strategy"] == "redact":
                alias = f"r{len(joins)}"
                _redact_column(con, reader, name, alias)
                joins.append(f" LEFT JOIN {alias} ON {alias}.__row = src.__row")
                ctx = Context(key=key, type=types[name], redacted=f"{alias}.__redacted")
            expr = STRATEGIES[step["strategy"]].build(f"src.{ident(name)}", step["params"], ctx)
            if expr is not None:
                select.append(f"{expr} AS {ident(name)}")
        if not select:
            raise DomainError(_("脱敏方案删除了所有字段，无法生成数据版本。"), code="invalid_plan")
        con.execute(
            f"COPY (SELECT {', '.join(select)} FROM (SELECT *, file_row_number AS __row FROM {reader}) src"  # noqa: S608
            f"{''.join(joins)} ORDER BY src.__row) "
            f"TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
    finally:
        if own:
            con.close()
    return planned_columns(plan, columns), plan


# --- suggestions -------------------------------------------------------------------------------------------------

# What the one-click plan does with a column of each type: identity numbers become pseudonyms (joins still work),
# contact details and names are partly masked, addresses and coordinates generalised.
SUGGESTED: dict[str, tuple[str, dict]] = {
    "resident_id": ("pseudonym", {}),
    "passport": ("pseudonym", {}),
    "hk_macau_permit": ("pseudonym", {}),
    "bank_card": ("partial", {"head": 6, "tail": 4}),
    "mobile": ("partial", {"head": 3, "tail": 4}),
    "landline": ("partial", {"head": 5, "tail": 2}),
    "email": ("partial", {"style": "email"}),
    "person_name": ("partial", {"style": "name"}),
    "address": ("generalise", {"to": "district"}),
    "vehicle_plate": ("partial", {"head": 2, "tail": 1}),
    "coordinates": ("generalise", {"to": "grid", "step": 0.01}),
    "ipv4": ("partial", {"head": 4, "tail": 0}),
    "ipv6": ("partial", {"head": 4, "tail": 0}),
    "uscc": ("keep", {"reason": "统一社会信用代码属于单位信息"}),
}

# How a classification rule's required masking (catalog.Masking) is done for a column of a detected type.
RULE_DEFAULTS: dict[str, dict[str, dict]] = {
    "partial": {
        "resident_id": {"head": 6, "tail": 4},
        "bank_card": {"head": 6, "tail": 4},
        "mobile": {"head": 3, "tail": 4},
        "person_name": {"style": "name"},
        "email": {"style": "email"},
        "address": {"style": "address"},
    },
    "generalise": {
        "resident_id": {"to": "year"},
        "address": {"to": "district"},
        "coordinates": {"to": "grid", "step": 0.01},
        "date": {"to": "year"},
        "datetime": {"to": "year"},
        "integer": {"to": "band", "width": 10},
        "decimal": {"to": "band", "width": 10},
    },
    "date_shift": {"": {"days": 30}},
    "top_bottom": {"": {}},
}


def rule_step(column: dict, masking: str, detected: str | None) -> dict | None:
    """The plan step a classification rule's masking means for this column, or None for a rule that cannot apply
    (date shifting a text column)."""
    strategy = STRATEGIES.get(masking)
    if strategy is None:
        return None
    column_type = column.get("type", "string")
    if strategy.types and column_type not in strategy.types:
        return None
    defaults = RULE_DEFAULTS.get(masking, {})
    params = dict(defaults.get(detected or "", defaults.get(column_type, defaults.get("", {}))))
    if masking == "partial" and not params:
        params = {"head": 1, "tail": 0}
    if masking == "generalise" and not params:
        params = {"to": "star"}
    return {"column": column["name"], "strategy": masking, "params": params, "source": "rule"}
