"""Ingest: encodings, formats, type inference, identifier columns, bad rows, limits, provenance."""

import io

import duckdb
import pytest
from openpyxl import Workbook

from citydata.datastore.models import DataVersion
from citydata.datastore.storage import get_storage

pytestmark = pytest.mark.django_db

BUS = (
    "线路,车牌,司机电话,速度,经度,纬度,时间,日期,是否空调,站点编码\n"
    "1路,川B12345,13812345678,35.5,104.7417,31.4640,2026-01-01 08:00:00,2026-01-01,是,0012\n"
    "2路,川B22222,13900001111,20,104.7500,31.4700,2026-01-01 08:01:00,2026-01-02,否,0100\n"
    "3路,川B33333,13700002222,0,104.7600,31.4800,2026-01-01 08:02:00,2026-01-03,是,1000\n"
)


def rows_of(version):
    path = get_storage().local_path(version.data_key)
    return duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')").fetchall()


def test_types_are_inferred_and_identifiers_stay_text(upload):
    version = upload(BUS)
    assert version.status == "ready", version.error
    types = {c["name"]: c["type"] for c in version.columns}
    assert types == {
        "线路": "string",
        "车牌": "string",
        "司机电话": "string",
        "速度": "decimal",
        "经度": "decimal",
        "纬度": "decimal",
        "时间": "datetime",
        "日期": "date",
        "是否空调": "boolean",
        "站点编码": "string",
    }
    assert version.point == {"lng": "经度", "lat": "纬度"}
    assert version.row_count == 3 and version.bad_row_count == 0
    first = rows_of(version)[0]
    assert first[2] == "13812345678" and first[9] == "0012" and first[8] is True
    assert len(version.source_sha256) == 64 and version.source_encoding == "utf-8"
    assert version.source_key == ""  # the raw upload is not kept by default


def test_gbk_with_bom_less_chinese_headers_and_declared_fields(upload, dataset):
    from citydata.catalog.models import DatasetField

    DatasetField.objects.create(dataset=dataset, name="line", title="线路", type="string")
    DatasetField.objects.create(dataset=dataset, name="speed", title="速度", type="integer")
    version = upload("线路,速度\n1路,35\n2路,很快\n3路,40\n", encoding="gbk", policy="quarantine")
    assert version.status == "ready" and version.source_encoding == "gb18030"
    assert version.column_names == ["line", "speed"]
    assert (version.row_count, version.bad_row_count) == (2, 1)
    assert version.bad_rows[0]["line"] == 3 and version.bad_rows[0]["column"] == "speed"
    assert version.bad_rows[0]["reason"] == "值与字段类型不符"


def test_reject_policy_refuses_the_file_and_names_each_bad_line(upload):
    text = "线路,速度\n1路,35\n2路,35,多余\n3路\n4路,40\n"
    version = upload(text)
    assert version.status == "failed" and version.error_code == "bad_rows"
    assert [(b["line"], b["kind"]) for b in version.bad_rows] == [(3, "TOO MANY COLUMNS"), (4, "MISSING COLUMNS")]
    assert version.data_key == "" and "2 行数据有误" in version.error
    quarantined = upload(text, policy="quarantine")
    assert quarantined.status == "ready" and (quarantined.row_count, quarantined.bad_row_count) == (2, 2)


def test_tsv_xlsx_json_jsonl_geojson(upload):
    assert upload("a\tb\n1\tx\n2\ty\n", name="t.tsv").row_count == 2
    book = Workbook()
    sheet = book.active
    sheet.append(["医院", "床位", "更新日期"])
    sheet.append(["市中心医院", 120, "2026-01-05"])
    sheet.append(["市第三人民医院", 80, "2026-01-05"])
    out = io.BytesIO()
    book.save(out)
    xlsx = upload(out.getvalue(), name="beds.xlsx")
    assert xlsx.status == "ready" and {c["name"]: c["type"] for c in xlsx.columns}["床位"] == "integer"
    assert upload('[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]', name="d.json").row_count == 2
    jsonl = upload('{"a": 1}\n{"a": 2, "b": "z"}\n', name="d.jsonl")
    assert jsonl.status == "ready" and jsonl.column_names == ["a", "b"]
    geo = upload(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "科技馆"}, '
        '"geometry": {"type": "Point", "coordinates": [104.74, 31.46]}}]}',
        name="p.geojson",
    )
    assert geo.status == "ready", geo.error
    assert geo.point == {"lng": "lng", "lat": "lat"} and rows_of(geo) == [("科技馆", 104.74, 31.46)]


def test_old_excel_xls_files_are_read(upload):
    import datetime as dt

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("床位")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, header in enumerate(["医院", "床位", "更新日期", "急诊"]):
        sheet.write(0, c, header)
    for r, (name, beds, day, er) in enumerate(
        [("市中心医院", 120, dt.date(2026, 1, 5), True), ("市第三人民医院", 80, dt.date(2026, 1, 6), False)], start=1
    ):
        sheet.write(r, 0, name)
        sheet.write(r, 1, beds)
        sheet.write(r, 2, day, date_style)
        sheet.write(r, 3, er)
    out = io.BytesIO()
    book.save(out)
    version = upload(out.getvalue(), name="床位.xls")
    assert version.status == "ready", version.error
    assert {c["name"]: c["type"] for c in version.columns} == {
        "医院": "string",
        "床位": "integer",
        "更新日期": "date",
        "急诊": "boolean",
    }
    assert rows_of(version)[0] == ("市中心医院", 120, dt.date(2026, 1, 5), True)
    broken = upload(b"not an excel file at all", name="坏.xls")
    assert broken.status == "failed" and "xls" in broken.error


def test_unsupported_empty_and_oversized_files_get_clear_messages(upload, settings):
    from citydata.errors import DomainError

    with pytest.raises(DomainError) as caught:
        upload("x", name="data.pdf")
    assert ".pdf" in str(caught.value.message)
    with pytest.raises(DomainError):
        upload(b"", name="empty.csv")
    settings.INGEST_MAX_COLUMNS = 2
    wide = upload("a,b,c\n1,2,3\n")
    assert wide.status == "failed" and wide.error_code == "too_many_columns"
    settings.INGEST_MAX_BYTES = 10
    with pytest.raises(DomainError) as caught:
        upload("a,b\n1,2\n3,4\n")
    assert caught.value.code == "too_large"
    assert DataVersion.objects.filter(status="ready").count() == 0


def test_dates_in_chinese_notations_are_read_as_dates(upload):
    version = upload("日期,时间,备注\n2026/01/05,2026/01/05 08:30:00,甲\n2026/12/31,2026/12/31 23:59:59,乙\n")
    types = {c["name"]: c["type"] for c in version.columns}
    assert types == {"日期": "date", "时间": "datetime", "备注": "string"}, version.error
    assert str(rows_of(version)[1][0]) == "2026-12-31"
    chinese = upload("成立日期\n2001年3月5日\n2019年11月20日\n")
    assert chinese.columns[0]["type"] == "date" and str(rows_of(chinese)[0][0]) == "2001-03-05"
    mixed = upload("a,b\n2026-01-05,2026年1月5日\n2026-02-05,2026年2月5日\n")
    assert [c["type"] for c in mixed.columns] == ["date", "string"]  # one notation per file; the other stays text


def test_values_past_the_sample_never_change_silently(upload, monkeypatch):
    from citydata.datastore import infer

    monkeypatch.setattr(infer, "SAMPLE_ROWS", 3)
    head = "编码,数量,金额,开放,日期\n"
    first = "".join(f"{10 + i},{i},{i}.5,是,2026-01-0{i + 1}\n" for i in range(3))
    later = "0012,3.25,待定,未知,2026年1月5日\n"
    version = upload(head + first + later)
    assert version.status == "ready" and version.bad_row_count == 0, version.bad_rows
    types = {c["name"]: c["type"] for c in version.columns}
    # a leading zero keeps codes as text, a fraction makes a decimal, a word demotes a number or a date
    assert types == {"编码": "string", "数量": "decimal", "金额": "string", "开放": "string", "日期": "string"}
    last = rows_of(version)[-1]
    assert last == ("0012", 3.25, "待定", "未知", "2026年1月5日")


def test_big_versions_are_clustered_by_category_then_time(upload, monkeypatch):
    from citydata.datastore import infer

    monkeypatch.setattr(infer, "CLUSTER_MIN_ROWS", 4)
    text = (
        "线路,时间,速度\n2路,2026-01-01 08:02:00,3\n1路,2026-01-01 08:03:00,4\n"
        "2路,2026-01-01 08:01:00,5\n1路,2026-01-01 08:00:00,6\n"
    )
    version = upload(text)
    assert [(r[0], str(r[1])[-8:]) for r in rows_of(version)] == [
        ("1路", "08:00:00"), ("1路", "08:03:00"), ("2路", "08:01:00"), ("2路", "08:02:00"),
    ]  # fmt: skip


def test_a_file_that_is_utf8_only_in_its_first_megabyte_is_read_as_gbk(upload):
    head = "名称,说明\n" + "".join(f"a{i},ascii\n" for i in range(120_000))  # well past 1 MB of plain ASCII
    text = head + "市图书馆,开放时间调整\n"
    version = upload(text, encoding="gb18030")
    assert version.status == "ready", version.error
    assert version.source_encoding == "gb18030" and version.row_count == 120_001
    assert rows_of(version)[-1] == ("市图书馆", "开放时间调整") and len(version.source_sha256) == 64
