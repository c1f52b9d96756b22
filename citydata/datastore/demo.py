"""Demo contents: generated rows for the demo catalog's datasets, ingested through the normal path.

Deterministic (seeded by slug) and plausible for Mianyang: real district names, coordinates inside each
district, value ranges taken from each field's example, dates in the last years. Sizes run from a few
rows to a few hundred thousand (the bus positions). Sources are written as UTF-8 CSV, GBK CSV and XLSX,
so the demo exercises every reader, then uploaded, ingested and published like any provider's file.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
import string
import tempfile
from pathlib import Path

from citydata.accounts.identifiers import uscc_check_char
from citydata.catalog import demo_catalog as content
from citydata.catalog.models import Dataset, DatasetStatus, Domain
from citydata.datastore import services
from citydata.datastore.models import DataVersion

# Approximate centres (lng, lat) of Mianyang's districts and counties.
CENTRES = {
    "涪城区": (104.740, 31.463),
    "游仙区": (104.770, 31.485),
    "安州区": (104.567, 31.535),
    "江油市": (104.745, 31.778),
    "三台县": (105.094, 31.095),
    "盐亭县": (105.389, 31.208),
    "梓潼县": (105.170, 31.642),
    "北川羌族自治县": (104.468, 31.617),
    "平武县": (104.555, 32.409),
    "高新区": (104.680, 31.450),
}
CITY = (104.741, 31.464)
STREETS = ("城厢", "工区", "朝阳", "南山", "城郊", "石塘", "青义", "小枧", "丰谷", "富乐", "涪城", "普明")
ROADS = ("剑南路", "临园路", "长虹大道", "绵兴路", "涪城路", "安昌路", "科创园路", "九洲大道", "跃进路", "花园路")
LINES = tuple(f"{n}路" for n in (1, 2, 3, 5, 6, 8, 9, 10, 12, 15, 16, 19, 20, 21, 28, 36, 51, 60, 61, 88))

TARGET_DATASETS = 60
BIG_ROWS = 300_000


def _district_of(dataset: Dataset) -> str:
    return next((d for d in content.DISTRICTS if dataset.title.startswith(d)), "")


def _number(example: str) -> float | None:
    try:
        return float(example)
    except ValueError:
        return None


def _uscc(rng: random.Random) -> str:
    body = "915107" + "".join(rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(11))
    return body + uscc_check_char(body)


def _value(field, i: int, rng: random.Random, district: str, stem: str):
    name, title, kind, _unit, _description, example = field
    centre = CENTRES.get(district, CITY)
    if name in ("lng", "longitude"):
        return f"{centre[0] + rng.uniform(-0.06, 0.06):.5f}"
    if name in ("lat", "latitude"):
        return f"{centre[1] + rng.uniform(-0.04, 0.04):.5f}"
    if kind == "integer":
        base = _number(example) or 50
        return str(rng.randint(0, max(10, int(base * 2))))
    if kind == "decimal":
        base = _number(example) or 100.0
        return f"{rng.uniform(0, max(base * 2, 1)):.2f}"
    if kind == "date":
        return (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1030))).isoformat()
    if kind == "datetime":
        moment = dt.datetime(2026, 10, 1) + dt.timedelta(seconds=rng.randint(0, 58 * 86400))
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    place = district or rng.choice(content.DISTRICTS)
    if "phone" in name or "电话" in title or "热线" in title:
        return f"0816-{rng.randint(2200000, 2399999)}"
    if name == "district" or title == "所属区县":
        return place
    if name == "unified_credit_code":
        return _uscc(rng)
    if name == "address" or "地址" in title:
        return f"{place}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
    if name in ("org_name", "name") or title.endswith("名称"):
        return f"{place.removesuffix('羌族自治县')}{rng.choice(STREETS)}{stem}{i + 1}"
    if "、" in example:
        parts = example.split("、")
        return "、".join(rng.sample(parts, rng.randint(1, len(parts))))
    if re.fullmatch(r"[A-Z]+-\d+", example):
        prefix, digits = example.split("-")
        return f"{prefix}-{rng.randint(1, 10 ** len(digits) - 1):0{len(digits)}d}"
    return example or f"{stem}{i + 1}"


def _bus_rows(rng: random.Random, count: int):
    """Positions of 400 buses on 20 lines, every 30 seconds from 06:00 on one day."""
    vehicles = [(f"MY-{n:05d}", LINES[n % len(LINES)]) for n in range(1, 401)]
    start = dt.datetime(2026, 11, 20, 6, 0, 0)
    routes = {line: (CITY[0] + rng.uniform(-0.05, 0.05), CITY[1] + rng.uniform(-0.03, 0.03)) for line in LINES}
    for i in range(count):
        vehicle, line = vehicles[i % len(vehicles)]
        step = i // len(vehicles)
        lng0, lat0 = routes[line]
        yield (
            vehicle,
            line,
            f"{lng0 + 0.0004 * (step % 60) + rng.uniform(-0.0005, 0.0005):.5f}",
            f"{lat0 + 0.0003 * (step % 45) + rng.uniform(-0.0005, 0.0005):.5f}",
            f"{max(0.0, rng.gauss(24, 9)):.1f}",
            (start + dt.timedelta(seconds=30 * step)).strftime("%Y-%m-%d %H:%M:%S"),
        )


def _chosen(limit: int) -> list[tuple[Dataset, content.Theme]]:
    """One published open dataset per theme (city-wide, or the first district), the priority domains first,
    until `limit`."""
    by_title = {}
    for theme in content.THEMES:
        by_title[theme.title] = theme
    picked: dict[str, tuple[Dataset, content.Theme]] = {}
    published = Dataset.objects.filter(status=DatasetStatus.PUBLISHED, open_type="open").order_by("slug")
    priority = list(Domain.objects.filter(is_priority=True).values_list("code", flat=True))
    ordered = sorted(
        published.prefetch_related("domains"),
        key=lambda d: (not any(dm.code in priority for dm in d.domains.all()), d.slug),
    )
    for dataset in ordered:
        district = _district_of(dataset)
        theme = by_title.get(dataset.title.removeprefix(district).removeprefix("绵阳市"))
        if theme is None or theme.title in picked:
            continue
        picked[theme.title] = (dataset, theme)
        if len(picked) >= limit:
            break
    return list(picked.values())


def _write(path: Path, header: list[str], rows, *, fmt: str) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("数据")
        sheet.append(header)
        for row in rows:
            sheet.append(list(row))
        book.save(path)
        return
    encoding = "gbk" if fmt == "gbk" else "utf-8"
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def load(*, limit: int = TARGET_DATASETS, big_rows: int = BIG_ROWS) -> dict[str, int]:
    """Give demo datasets contents. Idempotent: a dataset that has a current version is left alone."""
    done = set(DataVersion.objects.filter(is_current=True).values_list("dataset_id", flat=True))
    created = {"data_versions": 0, "rows": 0}
    with tempfile.TemporaryDirectory(prefix="citydata-demo-") as work:
        for index, (dataset, theme) in enumerate(_chosen(limit)):
            if dataset.pk in done:
                continue
            rng = random.Random(f"data:{dataset.slug}")
            header = [field[1] for field in theme.fields]  # Chinese headers, matched back to the fields by title
            stem = theme.title.removesuffix("信息").removesuffix("名录").removesuffix("统计")[:6]
            if "公交实时位置" in theme.title:
                rows, fmt = list(_bus_rows(rng, big_rows)), "csv"
            else:
                count = rng.choice((3, 12, 40, 150, 600, 2500)) if not theme.per_district else rng.randint(5, 120)
                if "实时" in theme.title:
                    count = 5000
                district = _district_of(dataset)
                rows = [[_value(f, i, rng, district, stem) for f in theme.fields] for i in range(count)]
                fmt = "gbk" if index % 10 == 3 else "xlsx" if index % 10 == 7 else "csv"
            suffix = "xlsx" if fmt == "xlsx" else "csv"
            path = Path(work) / f"{dataset.slug}.{suffix}"
            _write(path, header, rows, fmt=fmt)
            with open(path, "rb") as stream:
                version = services.version_upload(
                    by=None, dataset=dataset, stream=stream, filename=f"{dataset.title}.{suffix}", run_now=True
                )
            if version.status != "ready":
                raise RuntimeError(f"demo data for {dataset.slug} failed: {version.error}")
            services.version_publish(by=None, version=version)
            created["data_versions"] += 1
            created["rows"] += version.row_count
    return created
