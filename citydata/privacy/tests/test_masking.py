"""Masking strategies in DuckDB: each one's output, the SQL HMAC against Python's, plan checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import duckdb
import pytest

from citydata.errors import DomainError
from citydata.privacy import masking

COLUMNS = [
    {"name": "姓名", "type": "string"},
    {"name": "身份证号", "type": "string"},
    {"name": "电话", "type": "string"},
    {"name": "地址", "type": "string"},
    {"name": "就诊日期", "type": "date"},
    {"name": "年龄", "type": "integer"},
    {"name": "经度", "type": "decimal"},
    {"name": "备注", "type": "string"},
    {"name": "收入", "type": "decimal"},
]


@pytest.fixture
def table(tmp_path, mianyang_id):
    path = tmp_path / "t.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT * FROM (VALUES
        ('张伟', '{mianyang_id}', '13812345678', '四川省绵阳市涪城区临园路12号3栋2单元501室', DATE '2026-03-07', 35,
         104.712345, '联系人王小明电话13912345678', 1000.0),
        ('欧阳娜娜', '{mianyang_id}', '13987654321', '涪城区临园路88号', DATE '2026-11-30', 41, 104.1, '复诊', 99999.0),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 10.0))
        t("姓名", "身份证号", "电话", "地址", "就诊日期", "年龄", "经度", "备注", "收入")) TO '{path}'"""  # noqa: S608 - test values
    )
    return path


def run(table, plan):
    target = table.with_name("out.parquet")
    columns, applied = masking.apply_plan(table, target, masking.clean_plan(plan, COLUMNS), COLUMNS, key=b"k" * 32)
    rows = duckdb.connect().execute(f"SELECT * FROM '{target}'").fetchall()  # noqa: S608
    return columns, applied, rows


def test_every_strategy_writes_what_its_documentation_says(table, mianyang_id):
    columns, applied, rows = run(
        table,
        [
            {"column": "姓名", "strategy": "partial", "params": {"style": "name"}},
            {"column": "身份证号", "strategy": "partial", "params": {"head": 6, "tail": 4}},
            {"column": "电话", "strategy": "partial", "params": {"head": "3", "tail": "4"}},
            {"column": "地址", "strategy": "generalise", "params": {"to": "district"}},
            {"column": "就诊日期", "strategy": "generalise", "params": {"to": "month"}},
            {"column": "年龄", "strategy": "generalise", "params": {"to": "age_band", "width": 10}},
            {"column": "经度", "strategy": "generalise", "params": {"to": "grid", "step": 0.01}},
            {"column": "备注", "strategy": "redact"},
            {"column": "收入", "strategy": "top_bottom", "params": {"top": 5000}},
        ],
    )
    assert rows[0] == (
        "张*",
        mianyang_id[:6] + "*" * 8 + mianyang_id[-4:],
        "138****5678",
        "四川省绵阳市涪城区",
        "2026-03",
        "30-39",
        104.71,
        "联系人王**电话139****5678",
        1000.0,
    )
    assert rows[1][:4] == ("欧阳**", mianyang_id[:6] + "*" * 8 + mianyang_id[-4:], "139****4321", "涪城区")
    assert rows[1][8] == 5000.0 and rows[2][:8] == (None,) * 8
    assert [c["type"] for c in columns][4:7] == ["string", "string", "decimal"]


def test_keyed_pseudonym_in_sql_is_hmac_sha256_and_stable(table, mianyang_id):
    _c, _a, rows = run(table, [{"column": "身份证号", "strategy": "pseudonym"}])
    expected = "P" + hmac.new(b"k" * 32, mianyang_id.encode(), hashlib.sha256).hexdigest()[:16]
    assert rows[0][1] == rows[1][1] == expected == masking.pseudonym(mianyang_id, b"k" * 32)
    assert masking.dataset_key(1) == masking.dataset_key(1) != masking.dataset_key(2)


def test_suppress_drops_and_date_shift_moves_one_person_by_one_offset(table):
    columns, _a, rows = run(
        table,
        [
            {"column": "姓名", "strategy": "suppress"},
            {"column": "就诊日期", "strategy": "date_shift", "params": {"days": 10, "by": "身份证号"}},
        ],
    )
    assert "姓名" not in [c["name"] for c in columns] and len(rows[0]) == 8
    first, second = rows[0][3], rows[1][3]
    shift = first - dt.date(2026, 3, 7)
    assert abs(shift.days) <= 10 and second - dt.date(2026, 11, 30) == shift  # the same ID, the same offset


def test_birth_year_and_age_band_from_a_resident_id():
    con = duckdb.connect()
    ctx = masking.Context(key=b"", type="string", today=dt.date(2026, 6, 1))
    year = masking.generalise("v", {"to": "year"}, ctx)
    band = masking.generalise("v", {"to": "age_band", "width": 10}, ctx)
    assert con.execute(f"SELECT {year}, {band} FROM (VALUES ('510703199003071234')) t(v)").fetchone() == (1990, "30-39")  # noqa: S608


@pytest.mark.parametrize(
    ("plan", "code"),
    [
        ([{"column": "无此列", "strategy": "suppress"}], "invalid_plan"),
        ([{"column": "姓名", "strategy": "blur"}], "invalid_plan"),
        ([{"column": "姓名", "strategy": "date_shift"}], "invalid_plan"),
        ([{"column": "年龄", "strategy": "partial", "params": {"head": "x"}}], "invalid_plan"),
        ([{"column": "地址", "strategy": "keep"}], "keep_needs_reason"),
        ([{"column": "地址", "strategy": "generalise", "params": {"to": "galaxy"}}], "invalid_plan"),
    ],
)
def test_plans_are_checked(plan, code):
    with pytest.raises(DomainError) as caught:
        masking.clean_plan(plan, COLUMNS)
    assert caught.value.code == code


def test_strategies_are_documented_plug_ins():
    assert {"suppress", "partial", "pseudonym", "generalise", "date_shift", "top_bottom", "redact", "keep"} <= set(
        masking.STRATEGIES
    )
    assert all(s.doc for s in masking.strategies())
