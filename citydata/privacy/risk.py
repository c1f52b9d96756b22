"""Re-identification risk of a version (GB/T 37964): k-anonymity over the declared quasi-identifiers, l-diversity of
a declared sensitive column, and the least generalisation of the quasi-identifiers that reaches the thresholds.

Every measure is one DuckDB GROUP BY over the version's Parquet. The proposal walks a ladder of generalisations per
quasi-identifier (numbers: bands of 5, 10, 20 then *; dates: month, year, *; addresses: district, *; other text: *),
trying combinations in order of how much they generalise in total and, among those that reach the thresholds,
keeping the one with the most classes (the most information). Ladders are short, so at most a few hundred queries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from citydata.privacy import masking
from citydata.privacy.masking import Context, ident
from citydata.privacy.tables import sql_literal

SMALLEST_SHOWN = 5
MAX_QUASI_IDENTIFIERS = 6
MAX_TRIES = 800


@dataclass
class Risk:
    k: int | None
    l: int | None  # noqa: E741 - the measure's name
    rows: int
    classes: int
    smallest: list[dict] = field(default_factory=list)  # [{values: {column: value}, count, distinct}]


def _expr(column: dict, step: dict | None) -> str:
    q = ident(column["name"])
    if step is None:
        return q
    return masking.STRATEGIES[step["strategy"]].build(q, step["params"], Context(key=b"", type=column["type"]))  # type: ignore[return-value]


def measure(
    path: Path,
    columns: list[dict],
    quasi: list[str],
    sensitive: str = "",
    steps: dict[str, dict] | None = None,
    con=None,
) -> Risk:
    """k (size of the smallest class of rows equal on every quasi-identifier) and l (fewest distinct values of the
    sensitive column in a class), with the smallest classes, after the generalisation `steps` if given."""
    steps = steps or {}
    by_name = {c["name"]: c for c in columns}
    exprs = [f"{_expr(by_name[q], steps.get(q))} AS {ident(q)}" for q in quasi]
    distinct = f", count(DISTINCT {ident(sensitive)}) AS d" if sensitive else ", NULL AS d"
    source = f"read_parquet({sql_literal(str(path))})"
    own = con is None
    con = con or duckdb.connect()
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE classes AS "  # noqa: S608
            f"SELECT {', '.join(ident(q) for q in quasi)}, count(*) AS n{distinct} "
            f"FROM (SELECT {', '.join(exprs)}{', ' + ident(sensitive) if sensitive else ''} FROM {source}) "
            f"GROUP BY ALL"
        )
        k, l_value, rows, classes = con.execute("SELECT min(n), min(d), sum(n), count(*) FROM classes").fetchone() or (
            None,
            None,
            0,
            0,
        )
        smallest = [
            {
                "values": dict(zip(quasi, (str(v) if v is not None else "" for v in row[:-2]), strict=True)),
                "count": row[-2],
                "distinct": row[-1],
            }
            for row in con.execute(
                f"SELECT * FROM classes ORDER BY n, d NULLS LAST LIMIT {SMALLEST_SHOWN}"  # noqa: S608
            ).fetchall()
        ]
        return Risk(k=k, l=l_value if sensitive else None, rows=int(rows or 0), classes=classes, smallest=smallest)
    finally:
        if own:
            con.close()


def _ladder(con, source: str, column: dict) -> list[dict | None]:
    """The generalisations tried for one quasi-identifier, least first (None = as it is)."""
    name, kind = column["name"], column["type"]
    if kind in masking.NUMERIC:
        bands = [{"column": name, "strategy": "generalise", "params": {"to": "band", "width": w}} for w in (5, 10, 20)]
        return [None, *bands, {"column": name, "strategy": "generalise", "params": {"to": "star"}}]
    if kind in masking.TEMPORAL:
        return [
            None,
            {"column": name, "strategy": "generalise", "params": {"to": "month"}},
            {"column": name, "strategy": "generalise", "params": {"to": "year"}},
            {"column": name, "strategy": "generalise", "params": {"to": "star"}},
        ]
    ladder: list[dict | None] = [None]
    q = ident(name)
    district = f"regexp_extract(CAST({q} AS VARCHAR), {sql_literal(masking.DISTRICT_RE)}, 1)"
    share = con.execute(
        f"SELECT avg(CASE WHEN {district} <> '' AND length({district}) < length(CAST({q} AS VARCHAR)) "  # noqa: S608
        "THEN 1 ELSE 0 END) "
        f"FROM {source} WHERE {q} IS NOT NULL"
    ).fetchone()[0]
    if share and share > 0.5:
        ladder.append({"column": name, "strategy": "generalise", "params": {"to": "district"}})
    ladder.append({"column": name, "strategy": "generalise", "params": {"to": "star"}})
    return ladder


def propose(path: Path, columns: list[dict], quasi: list[str], sensitive: str, *, min_k: int, min_l: int) -> dict:
    """The least generalisation of the quasi-identifiers that reaches k ≥ min_k (and l ≥ min_l with a sensitive
    column): {steps, k, l, classes, reached}. `reached` is False when even * everywhere does not (fewer rows than
    k, or too few distinct sensitive values)."""
    by_name = {c["name"]: c for c in columns}
    source = f"read_parquet({sql_literal(str(path))})"
    con = duckdb.connect()
    try:
        ladders = [_ladder(con, source, by_name[q]) for q in quasi]
        combos = sorted(itertools.product(*(range(len(ladder)) for ladder in ladders)), key=lambda c: (sum(c), max(c)))
        best: tuple[int, tuple[int, ...], Risk] | None = None
        level_of_best = None
        for tries, combo in enumerate(combos):
            if tries >= MAX_TRIES or (level_of_best is not None and sum(combo) > level_of_best):
                break
            tried = {
                q: ladders[i][level] for i, (q, level) in enumerate(zip(quasi, combo, strict=True)) if ladders[i][level]
            }
            risk = measure(path, columns, quasi, sensitive, tried, con=con)  # type: ignore[arg-type]
            reached = (risk.k or 0) >= min_k and (not sensitive or (risk.l or 0) >= min_l)
            if reached and (best is None or risk.classes > best[0]):
                best = (risk.classes, combo, risk)
                level_of_best = sum(combo)
        if best is None:
            return {"steps": [], "k": None, "l": None, "classes": 0, "reached": False}
        _classes, combo, risk = best
        steps = [ladders[i][level] for i, level in enumerate(combo) if ladders[i][level]]
        return {"steps": steps, "k": risk.k, "l": risk.l, "classes": risk.classes, "reached": True}
    finally:
        con.close()
