"""Watermarks in exports: the SQL and Python paths agree, values stay within tolerance, and a shuffled 10% sample
of one recipient's export — in every export format, with columns dropped — names that recipient and nobody else."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import random
import unicodedata
from pathlib import Path

import duckdb
import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from citydata.privacy import watermark

COLUMNS = [
    ("编号", "integer"),
    ("机构", "string"),
    ("金额", "decimal"),
    ("经度", "decimal"),
    ("纬度", "decimal"),
    ("就诊时间", "datetime"),
    ("日期", "date"),
    ("备注", "string"),
]
NAMES = [n for n, _ in COLUMNS]
RECIPIENTS = [(f"授权-{i:02d}", f"grant-secret-{i}".encode()) for i in range(24)]
PLACES = ["绵阳市中心医院(涪城院区)", "游仙区人民医院", "社区卫生服务中心:科学城", "四川省人民医院"]
NOTES = ["复查,血压正常", "首诊(门诊)", "无", "转诊;需随访!", "已缴费", "待复核?", "ok", ""]


def source_rows(count: int = 2000, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, 8, 0)
    return [
        (
            i,
            rng.choice(PLACES),
            round(rng.uniform(10, 5000), 2),
            round(rng.uniform(104.5, 105.0), 6),
            round(rng.uniform(31.3, 31.6), 6),
            start + dt.timedelta(minutes=rng.randint(0, 500_000)),
            dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 365)),
            rng.choice(NOTES) + (f"(第{i % 7}次)" if i % 3 else ""),
        )
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE data (编号 BIGINT, 机构 VARCHAR, 金额 DOUBLE, 经度 DOUBLE, 纬度 DOUBLE, 就诊时间 TIMESTAMP, "
        "日期 DATE, 备注 VARCHAR)"
    )
    connection.executemany("INSERT INTO data VALUES (?, ?, ?, ?, ?, ?, ?, ?)", source_rows())
    yield connection
    connection.close()


def export(con, secret: bytes | None) -> list[tuple]:
    """The rows of one export as the export path would stream them: the SELECT wrapped by `select_marked`."""
    sql = "SELECT * FROM data ORDER BY 编号"
    if secret is not None:
        watermark.bind(con, secret)
        sql = watermark.select_marked(sql, COLUMNS)
    return con.execute(sql).fetchall()


def leak(rows: list[tuple], *, drop: tuple[str, ...] = (), share: float = 0.1, seed: int = 1) -> tuple[list, list]:
    """What a leaker passes on: a shuffled sample of the rows without some columns."""
    keep = [i for i, n in enumerate(NAMES) if n not in drop]
    rng = random.Random(seed)
    sample = rng.sample(rows, max(1, int(len(rows) * share)))
    return [NAMES[i] for i in keep], [[r[i] for i in keep] for r in sample]


def write(path: Path, names: list[str], rows: list[list]) -> Path:
    """The file in the export's own format (as datastore/api.py writes it)."""
    suffix = path.suffix
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(names)
            out.writerows(rows)
    elif suffix == ".xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(names)
        for row in rows:
            sheet.append(row)
        book.save(path)
    elif suffix == ".parquet":
        con = duckdb.connect()
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(names, _duck_types(names), strict=True))
        con.execute(f"CREATE TABLE t ({columns})")
        con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(names))})", rows)  # noqa: S608 - placeholders
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
        con.close()
    elif suffix == ".json":
        items = [
            {n: (v.isoformat() if isinstance(v, dt.date) else v) for n, v in zip(names, r, strict=True)} for r in rows
        ]
        path.write_text(json.dumps({"dataset": "x", "items": items}, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".geojson":
        features = [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {n: (str(v) if isinstance(v, dt.date) else v) for n, v in zip(names, r, strict=True)},
            }
            for r in rows
        ]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


def _duck_types(names: list[str]) -> list[str]:
    duck = {"integer": "BIGINT", "string": "VARCHAR", "decimal": "DOUBLE", "datetime": "TIMESTAMP", "date": "DATE"}
    kinds = dict(COLUMNS)
    return [duck[kinds[n]] for n in names]


# ---- embedding ------------------------------------------------------------------------------------------------------


def test_sql_and_python_paths_mark_identically(con):
    secret = RECIPIENTS[3][1]
    by_sql = export(con, secret)
    by_python = list(watermark.embed(export(con, None), secret, [t for _, t in COLUMNS]))
    assert by_sql == by_python
    assert by_sql != export(con, None)


def test_awkward_values_agree_and_are_left_alone_when_they_cannot_carry_a_mark():
    values = [0.0, -0.0, 1e-05, 1e17, 0.1 + 0.2, 123456789012.5, float("inf"), -7.25, 35.0, None]
    texts = ["é,中😀(文)", "（", "a,b", "中,文" * 200, None, "12:30", "时间:12:30"]
    rows = list(itertools.zip_longest(values, texts, [dt.datetime(1850, 1, 1), dt.datetime(2024, 5, 1, 8, 0, 0, 5)]))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x DOUBLE, s VARCHAR, ts TIMESTAMP)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    watermark.bind(con, b"k")
    columns = [("x", "decimal"), ("s", "string"), ("ts", "datetime")]
    by_sql = con.execute(watermark.select_marked("SELECT * FROM t", columns)).fetchall()
    by_python = list(watermark.embed(rows, b"k", [t for _, t in columns]))
    assert [repr(r) for r in by_sql] == [repr(r) for r in by_python]
    unchanged = {0.0, 1e-05, 1e17, 0.1 + 0.2, 123456789012.5, float("inf")}
    for (x, _, ts), (mx, _, mts) in zip(rows, by_python, strict=True):
        if x in unchanged:
            assert repr(mx) == repr(x)
        assert ts is None or mts == ts  # before 1900 / already a fraction of a second
    assert by_python[5][1] == "12:30"  # no Chinese neighbour: a time stays a time
    assert by_python[6][1][2] in ":：" and by_python[6][1][2:].endswith("12:30")
    assert sum(ch in "，" for ch in by_python[3][1]) > 0 and len(by_python[3][1]) == 600


def test_values_stay_within_the_documented_tolerance(con):
    original, marked = export(con, None), export(con, RECIPIENTS[0][1])
    changed = {name: 0 for name in NAMES}
    for before, after in zip(original, marked, strict=True):
        for (name, kind), a, b in zip(COLUMNS, before, after, strict=True):
            if a != b:
                changed[name] += 1
            if kind == "decimal":
                decimals = len(repr(a).split(".")[1].rstrip("0"))
                assert abs(b - a) < 10 ** -(decimals + 2)
                assert round(b, decimals) == a
            elif kind == "datetime":
                assert dt.timedelta(0) < b - a < dt.timedelta(seconds=1)
            elif kind == "string":
                assert unicodedata.normalize("NFKC", b) == unicodedata.normalize("NFKC", a)
                assert len(b) == len(a)
            else:
                assert a == b
    assert changed["编号"] == changed["日期"] == 0
    assert changed["金额"] == changed["就诊时间"] == len(original)
    assert changed["机构"] > 0 and changed["备注"] > 0


def test_marks_are_deterministic_and_differ_between_recipients(con):
    assert export(con, RECIPIENTS[1][1]) == export(con, RECIPIENTS[1][1])
    a, b = export(con, RECIPIENTS[1][1]), export(con, RECIPIENTS[2][1])
    assert sum(x[2] != y[2] for x, y in zip(a, b, strict=True)) > 0.99 * len(a)


def test_embed_streams_row_by_row():
    endless = ((float(i) + 0.5, "备注:第" + str(i)) for i in itertools.count())
    first = list(itertools.islice(watermark.embed(endless, b"k"), 3))
    assert len(first) == 3 and all(repr(x).startswith(f"{i}.500") for i, (x, _) in enumerate(first))


# ---- detection ------------------------------------------------------------------------------------------------------

FORMATS = [".csv", ".xlsx", ".parquet", ".json", ".geojson"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_shuffled_ten_percent_sample_names_its_recipient_in_every_format(con, tmp_path, suffix):
    label, secret = RECIPIENTS[11]
    names, rows = leak(export(con, secret), drop=("编号", "经度"), share=0.1, seed=len(suffix))
    path = write(tmp_path / f"leak{suffix}", names, rows)
    verdict = watermark.detect(watermark.read_rows(path), RECIPIENTS)
    assert verdict.outcome == "identified" and verdict.recipient == label
    assert verdict.log10_p < -50 and verdict.also == []
    assert verdict.scores[0].matches == verdict.scores[0].trials
    assert all(s.log10_p > -6 for s in verdict.scores[1:])


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_unwatermarked_file_accuses_nobody(con, tmp_path, suffix):
    names, rows = leak(export(con, None), share=1.0)
    verdict = watermark.detect(watermark.read_rows(write(tmp_path / f"open{suffix}", names, rows)), RECIPIENTS)
    assert verdict.recipient is None and verdict.outcome in ("too_thin", "no_marks")


def test_other_recipients_are_not_accused(con):
    names, rows = leak(export(con, RECIPIENTS[0][1]), share=0.1)
    verdict = watermark.detect(rows, RECIPIENTS[1:])
    assert verdict.recipient is None and verdict.outcome == "too_thin"
    assert min(s.log10_p for s in verdict.scores) > -6


@pytest.mark.parametrize(
    "drop",
    [
        ("金额", "经度", "纬度", "就诊时间"),  # text only
        ("机构", "备注", "就诊时间"),  # numbers only
        ("金额", "经度", "纬度", "机构", "备注"),  # timestamps only
    ],
)
def test_each_channel_alone_is_enough(con, drop):
    label, secret = RECIPIENTS[5]
    names, rows = leak(export(con, secret), drop=drop, share=0.1, seed=3)
    verdict = watermark.detect([dict(zip(names, r, strict=True)) for r in rows], RECIPIENTS)
    assert verdict.recipient == label


def test_rounding_to_the_published_precision_removes_the_marks(con):
    names, rows = leak(export(con, RECIPIENTS[4][1]), drop=("机构", "备注", "就诊时间"), share=0.5)
    published = {"金额": 2, "经度": 6, "纬度": 6}  # rounding each column back to its published precision
    rounded = [[round(v, published[n]) if n in published else v for n, v in zip(names, r, strict=True)] for r in rows]
    verdict = watermark.detect(rounded, RECIPIENTS)
    assert verdict.recipient is None and verdict.scores[0].matches <= 1  # what is left looks like a mark by chance


def test_two_merged_exports_name_both():
    rows = source_rows(400, seed=9)
    merged = list(watermark.embed(rows[:200], RECIPIENTS[7][1])) + list(watermark.embed(rows[200:], RECIPIENTS[8][1]))
    verdict = watermark.detect(merged, RECIPIENTS)
    assert {verdict.recipient, *verdict.also} == {RECIPIENTS[7][0], RECIPIENTS[8][0]}


def test_a_few_cells_are_too_thin_to_accuse(con):
    _, rows = leak(export(con, RECIPIENTS[2][1]), drop=("机构", "备注", "就诊时间", "经度", "纬度"), share=0.001)
    assert len(rows) == 2
    verdict = watermark.detect(rows, RECIPIENTS)
    assert verdict.outcome == "too_thin" and verdict.scores[0].label == RECIPIENTS[2][0]


def test_tail_probability_matches_a_direct_computation():
    def direct(bits: int, strong: int, k: int) -> float:
        q = 1 / 900
        total = 0.0
        for a in range(bits + 1):
            for d in range(strong + 1):
                if a + d >= k:
                    total += math.comb(bits, a) * 0.5**bits * math.comb(strong, d) * q**d * (1 - q) ** (strong - d)
        return total

    for bits, strong, k in [(0, 10, 1), (0, 10, 3), (20, 0, 15), (12, 8, 9), (40, 30, 30), (5, 5, 0)]:
        assert watermark.tail_log10(bits, strong, k) == pytest.approx(math.log10(direct(bits, strong, k)), abs=1e-9)
    assert watermark.tail_log10(0, 20_000, 20_000) < -50_000


# ---- the command ----------------------------------------------------------------------------------------------------


@pytest.fixture
def grants():
    def source(dataset):
        return RECIPIENTS if dataset in (None, "health") else []

    watermark.register_candidate_source(source)
    yield source
    watermark.candidate_sources.remove(source)


def test_cli_names_the_recipient_in_chinese_and_json(con, tmp_path, grants, capsys):
    label, secret = RECIPIENTS[17]
    names, rows = leak(export(con, secret), drop=("备注",), share=0.1)
    path = write(tmp_path / "外泄.csv", names, rows)
    call_command("trace-leak", str(path), dataset="health")
    out = capsys.readouterr().out
    assert f"最可能的接收方：{label}，置信度 > 99.9999%" in out and "比对 24 个接收方" in out
    call_command("trace-leak", str(path), json=True)
    payload = json.loads(capsys.readouterr().out)
    assert payload["recipient"] == label and payload["outcome"] == "identified" and payload["confidence"] == 1.0
    assert len(payload["candidates"]) == 24 and payload["candidates"][0]["label"] == label


def test_cli_says_when_it_cannot_tell(con, tmp_path, grants, capsys):
    names, rows = leak(export(con, None), share=0.2)
    call_command("trace-leak", str(write(tmp_path / "open.xlsx", names, rows)))
    assert "无法判断" in capsys.readouterr().out
    names, rows = leak(export(con, RECIPIENTS[0][1]), drop=("机构", "备注", "经度", "纬度", "就诊时间", "金额"))
    call_command("trace-leak", str(write(tmp_path / "ids.csv", names, rows)), json=True)
    assert json.loads(capsys.readouterr().out)["outcome"] == "no_marks"


def test_cli_errors(tmp_path, grants):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("trace-leak", str(tmp_path / "missing.csv"))
    (tmp_path / "报告.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        call_command("trace-leak", str(tmp_path / "报告.pdf"))
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CommandError, match="文件是空的"):
        call_command("trace-leak", str(tmp_path / "empty.csv"))
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("trace-leak", str(tmp_path / "broken.parquet"))
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("trace-leak", str(tmp_path / "broken.xlsx"))
    (tmp_path / "ok.csv").write_text("a\n1.5\n")
    with pytest.raises(CommandError, match="没有可比对的接收方"):
        call_command("trace-leak", str(tmp_path / "ok.csv"), dataset="other")
