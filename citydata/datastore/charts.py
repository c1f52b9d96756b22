"""Charts over a data version (R7.4): every chart is a records-API query, drawn in the browser by ECharts.

Bar, line and pie charts are one `_group_by` query (a column, or a date column cut into hour/day/month/year)
with one aggregate; scatter charts and maps are the rows themselves, capped. The page shows the same numbers
as a table and gives the records-API address that returns them, so a chart is never the only way to the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.datastore import records
from citydata.datastore.infer import _q
from citydata.datastore.ingest import _literal

KINDS = {
    "bar": gettext_lazy("柱状图"),
    "line": gettext_lazy("折线图"),
    "pie": gettext_lazy("饼图"),
    "scatter": gettext_lazy("散点图"),
    "map": gettext_lazy("坐标地图"),
}
FUNCTIONS = {
    "count": gettext_lazy("行数"),
    "count_distinct": gettext_lazy("去重计数"),
    "sum": gettext_lazy("合计"),
    "avg": gettext_lazy("平均"),
    "min": gettext_lazy("最小"),
    "max": gettext_lazy("最大"),
}
NUMERIC = ("integer", "decimal")
TEMPORAL = ("date", "datetime")
MAX_CATEGORIES = {"bar": 50, "pie": 12, "line": 1000}
MAX_POINTS = 2000
SAMPLE_ROWS = 10_000


@dataclass
class Chart:
    kind: str
    x: str
    bucket: str = ""
    y: str = "count"  # "count" or "function:column"
    y2: str = ""  # the vertical column of a scatter chart
    labels: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    points: list[list[Any]] = field(default_factory=list)  # scatter and map: [x, y, label]
    total_groups: int = 0
    truncated: bool = False
    api_params: dict[str, str] = field(default_factory=dict)

    def as_json(self, titles: dict[str, str]) -> dict[str, Any]:
        """What chart.js draws: plain values only (dates as ISO text)."""
        return {
            "kind": self.kind,
            "x_title": titles.get(self.x, self.x),
            "y_title": self.y_title(titles),
            "labels": [_plain(v) for v in self.labels],
            "values": [_plain(v) for v in self.values],
            "points": [[_plain(v) for v in p] for p in self.points],
        }

    def y_title(self, titles: dict[str, str]) -> str:
        if self.kind == "map":
            return _("坐标分布")
        if self.kind == "scatter":
            return titles.get(self.y2, self.y2)
        function, _sep, column = self.y.partition(":")
        label = str(FUNCTIONS.get(function, function))
        return f"{label}（{titles.get(column, column)}）" if column else label


BUCKET_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _when(value: Any, bucket: str) -> Any:
    """A time bucket's label at its own precision: 2026-03, not 2026-03-01 00:00:00."""
    return value.strftime(BUCKET_FORMATS[bucket]) if bucket and hasattr(value, "strftime") else value


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return float(value) if hasattr(value, "__float__") else str(value)


def options(columns: list[dict], point: dict) -> dict[str, Any]:
    """The choices the chart form offers for a version's columns."""
    kinds = {k: v for k, v in KINDS.items() if k != "map" or point}
    return {
        "kinds": kinds,
        "groupable": [c for c in columns if c["type"] not in ("decimal",)],
        "numeric": [c for c in columns if c["type"] in NUMERIC],
        "functions": FUNCTIONS,
        "buckets": {
            "hour": _("按小时"),
            "day": _("按天"),
            "month": _("按月"),
            "year": _("按年"),
        },
    }


def suggest(path: str, columns: list[dict], point: dict) -> dict[str, str]:
    """A first chart for a version nobody has configured: a map of its points when it has coordinates, else
    a time series when there is a date column, else counts of the first text column with a handful of
    values, else a scatter of two numbers."""
    temporal = [c["name"] for c in columns if c["type"] in TEMPORAL]
    texts = [c["name"] for c in columns if c["type"] == "string"][:20]
    numbers = [c["name"] for c in columns if c["type"] in NUMERIC]
    parts = [f"approx_count_distinct({_q(t)})" for t in texts]
    if temporal:
        parts += [f"min({_q(temporal[0])})", f"max({_q(temporal[0])})"]
    if not parts:
        return {"_chart": "scatter", "_x": numbers[0], "_y": numbers[1]} if len(numbers) >= 2 else {}
    source = f"(SELECT * FROM read_parquet({_literal(path)}) LIMIT {SAMPLE_ROWS})"
    cur = records.connection()
    try:
        row = cur.execute(f"SELECT {', '.join(parts)} FROM {source}").fetchone()
    finally:
        cur.close()
    category = next((t for t, n in zip(texts, row, strict=False) if 2 <= (n or 0) <= 30), "")
    if point:
        return {"_chart": "map", "_x": point["lng"], "_y": point["lat"]}
    if temporal and row[-2] is not None and row[-1] is not None:
        span = (row[-1] - row[-2]).days if hasattr(row[-1] - row[-2], "days") else 0
        bucket = "hour" if span <= 2 else "day" if span <= 92 else "month" if span <= 3660 else "year"
        return {"_chart": "line", "_x": temporal[0], "_bucket": bucket, "_y": "count"}
    if category:
        return {"_chart": "bar", "_x": category, "_y": "count"}
    if len(numbers) >= 2:
        return {"_chart": "scatter", "_x": numbers[0], "_y": numbers[1]}
    return {"_chart": "bar", "_x": texts[0], "_y": "count"} if texts else {}


def build(params, path: str, columns: list[dict], point: dict, *, layout: dict | None = None) -> Chart:
    """The chart `params` ask for (`_chart`, `_x`, `_bucket`, `_y` and any records-API filters), or a
    QueryError naming the parameter that is wrong. `layout` (`records.layout_of`) lets it read the serving copy."""
    types = {c["name"]: c["type"] for c in columns}
    kind = str(params.get("_chart") or "bar")
    if kind not in KINDS or (kind == "map" and not point):
        raise records.QueryError(
            _("不支持的图表类型“%(kind)s”。") % {"kind": kind[:20]}, details={"parameter": "_chart"}
        )
    filters = filters_of(params)
    if kind == "map":
        x, y = point["lng"], point["lat"]
    else:
        x, y = str(params.get("_x") or ""), str(params.get("_y") or "count")
    if x not in types:
        raise records.QueryError(_("请选择横轴（分组）使用的列。"), details={"parameter": "_x"})
    if kind in ("scatter", "map"):
        vertical = y if kind == "map" else (y.partition(":")[2] or y)
        return _points(kind, x, vertical, filters, path, columns, point, types, layout)
    if y in types:
        y = f"sum:{y}"  # a bare numeric column asks for its total
    function, _sep, column = y.partition(":")
    valid = function == "count" or (function == "count_distinct" and column in types) or types.get(column) in NUMERIC
    if function not in FUNCTIONS or not valid:
        raise records.QueryError(
            _("数值请选择“行数”，或某个数字列的合计、平均、最小、最大或去重计数。"), details={"parameter": "_y"}
        )
    bucket = str(params.get("_bucket") or "") if types[x] in TEMPORAL else ""
    if types[x] in TEMPORAL and bucket not in records.BUCKETS:
        bucket = "day" if types[x] == "date" else "hour"
    if types[x] == "decimal":
        raise records.QueryError(_("小数列不能作为分组，请选择文本、整数或日期列。"), details={"parameter": "_x"})
    group = records.group_name(x, bucket)
    ordered = kind == "line" or (types[x] in TEMPORAL)
    api_params = {
        **filters,
        "_group_by": f"{x}:{bucket}" if bucket else x,
        "_agg": y,
        "_sort": group if ordered else f"-{records.aggregate_name(function, column)}",
        "_size": str(MAX_CATEGORIES[kind]),
    }
    query = records.parse(api_params, columns, point, max_size=max(MAX_CATEGORIES.values()))
    page = records.run_groups(query, path, columns, point, layout=layout)
    return Chart(
        kind=kind,
        x=x,
        bucket=bucket,
        y=y,
        labels=[_when(row[0], bucket) for row in page.rows],
        values=[row[1] for row in page.rows],
        total_groups=page.total or 0,
        truncated=(page.total or 0) > len(page.rows),
        api_params=api_params,
    )


def _points(kind, x, y, filters, path, columns, point, types, layout) -> Chart:
    if y not in types or types[x] not in NUMERIC or types[y] not in NUMERIC:
        raise records.QueryError(_("散点图的横轴和纵轴都应是数字列。"), details={"parameter": "_y"})
    texts = [c["name"] for c in columns if c["type"] == "string"]
    label = next((n for n in texts if "name" in n), texts[0] if texts else "")
    fields = [x, y, *([label] if label else [])]
    api_params = {
        **filters,
        f"{x}__isnull": "false",
        f"{y}__isnull": "false",
        "_fields": ",".join(fields),
        "_size": str(MAX_POINTS),
    }
    query = records.parse(api_params, columns, point, max_size=MAX_POINTS)
    page = records.run(query, path, columns, point, row_count=0, layout=layout)
    return Chart(
        kind=kind,
        x=x,
        y2=y,
        points=[list(row) for row in page.rows],
        total_groups=page.total or 0,
        truncated=page.next_cursor is not None,
        api_params=api_params,
    )


def filters_of(params) -> dict[str, str]:
    """The records-API filters among a chart's parameters (column filters, `_q`, `_bbox`, `_near`)."""
    return {k: v for k, v in params.items() if not k.startswith("_") or k in ("_q", "_bbox", "_near")}


def titles(columns: list[dict]) -> dict[str, str]:
    return {c["name"]: c.get("title") or c["name"] for c in columns}
