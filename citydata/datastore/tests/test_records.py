"""Records API: every operator, sorts, keyset paging, exports with the same counts, access rules."""

import csv
import datetime as dt
import io
import json

import duckdb
import pytest
from openpyxl import load_workbook

from citydata.catalog.models import Dataset
from citydata.datastore import services
from citydata.datastore.tests.conftest import bus_csv

pytestmark = pytest.mark.django_db


def get(client, **params):
    return client.get("/api/v1/datasets/bus/records", params)


def items(client, **params):
    response = get(client, **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_filters_compare_with_duckdb_directly(client, published):
    from citydata.datastore.storage import get_storage

    path = get_storage().local_path(published.data_key)
    con = duckdb.connect()

    def direct(where: str) -> int:
        return con.execute(f"SELECT count(*) FROM read_parquet('{path}') WHERE {where}").fetchone()[0]

    cases = [
        ({"线路": "1路"}, "线路 = '1路'"),
        ({"线路__not": "1路"}, "线路 <> '1路'"),
        ({"速度__gt": "30"}, "速度 > 30"),
        ({"速度__gte": "30.5"}, "速度 >= 30.5"),
        ({"速度__lt": "10"}, "速度 < 10"),
        ({"速度__lte": "9.5"}, "速度 <= 9.5"),
        ({"线路__in": "1路,3路"}, "线路 IN ('1路', '3路')"),
        ({"线路__notin": "1路,3路"}, "线路 NOT IN ('1路', '3路')"),
        ({"车牌__contains": "1002"}, "contains(车牌, '1002')"),
        ({"车牌__startswith": "川B1001"}, "starts_with(车牌, '川B1001')"),
        ({"速度__isnull": "true"}, "速度 IS NULL"),
        ({"线路__isnull": "false"}, "线路 IS NOT NULL"),
        ({"载客__between": "10,20"}, "载客 BETWEEN 10 AND 20"),
        ({"时间__gte": "2026-01-10T00:00:00"}, "时间 >= TIMESTAMP '2026-01-10 00:00:00'"),
        ({"线路": "2路", "速度__gt": "20"}, "线路 = '2路' AND 速度 > 20"),
    ]
    for params, where in cases:
        body = items(client, _size=1000, **params)
        assert body["total"] == direct(where) == len(body["items"]), params
        assert body["total"] > 0, params


def test_geo_and_text_filters(client, published):
    body = items(client, _bbox="104.70,31.44,104.71,31.445")
    assert body["total"] == 6 and all(104.70 <= r["经度"] <= 104.71 for r in body["items"])
    near = items(client, _near="104.70,31.44,300")
    assert near["total"] >= 1 and near["items"][0]["车牌"] == "川B10000"
    assert items(client, _q="川B1004")["total"] == 10  # 川B1004x


def test_sorting_and_keyset_paging_visit_every_row_once(client, published):
    seen = []
    params = {"_sort": "-速度,线路", "_size": 7}
    body = items(client, **params)
    while True:
        seen += [r["车牌"] for r in body["items"]]
        if not body["next"]:
            break
        body = items(client, _next=body["next"], **params)
    assert len(seen) == len(set(seen)) == 50
    speeds = [r["速度"] for r in items(client, _sort="-速度", _size=50)["items"]]
    present = [s for s in speeds if s is not None]
    assert present == sorted(present, reverse=True) and speeds[-1] is None  # NULLs last
    fields = items(client, _fields="车牌,速度", _size=1)
    assert list(fields["items"][0]) == ["车牌", "速度"] and [c["name"] for c in fields["columns"]] == ["车牌", "速度"]


def test_bad_parameters_are_400_naming_the_problem(client, published):
    for params, word in [
        ({"无此列": "1"}, "无此列"),
        ({"速度__like": "1"}, "like"),
        ({"速度__gt": "快"}, "速度__gt"),
        ({"时间__gt": "昨天"}, "日期时间"),
        ({"速度__contains": "1"}, "文本列"),
        ({"载客__between": "1"}, "between"),
        ({"_sort": "无此列"}, "排序"),
        ({"_size": "100000"}, "_size"),
        ({"_next": "garbage"}, "_next"),
        ({"_bbox": "1,2,3"}, "_bbox"),
        ({"_near": "104,31,0"}, "半径"),
        ({"_format": "pdf"}, "pdf"),
        ({"_offset": "2000000"}, "_offset"),
    ]:
        response = get(client, **params)
        assert response.status_code == 400, (params, response.content)
        assert word in response.json()["message"], (params, response.json())


def test_exports_hold_the_same_rows_in_every_format(client, published):
    params = {"线路__in": "1路,2路"}
    expected = items(client, _size=1000, **params)["total"]
    text = get(client, _format="csv", _bom="1", **params)
    body = b"".join(text.streaming_content).decode()
    assert body.startswith("\ufeff线路,") and len(list(csv.reader(io.StringIO(body)))) == expected + 1
    book = load_workbook(io.BytesIO(b"".join(get(client, _format="xlsx", **params).streaming_content)))
    assert book.active.max_row == expected + 1
    parquet = b"".join(get(client, _format="parquet", **params).streaming_content)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM read_parquet(?)", [_temp(parquet)])
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == expected
    geo = json.loads(b"".join(get(client, _format="geojson", **params).streaming_content))
    assert len(geo["features"]) == expected and geo["features"][0]["geometry"]["type"] == "Point"


def _temp(data: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".parquet", delete=False) as handle:
        handle.write(data)
    return handle.name


def test_new_version_switches_atomically_and_the_old_stays_readable(client, published, upload):
    newer = upload("线路,车牌\n99路,川B99999\n")
    assert items(client)["version"] == 1  # uploaded but not published: readers still get version 1
    services.version_publish(by=None, version=newer)
    now = items(client)
    assert now["version"] == 2 and now["total"] == 1
    assert items(client, _version="1")["total"] == 50
    assert Dataset.objects.get(slug="bus").last_data_update is not None


def test_remembered_counts_belong_to_one_version_file(client, published, upload):
    from citydata.datastore import records

    # small pages so the total needs a count; the second call is answered from the remembered count
    first = items(client, 线路="1路", _size="2")
    assert first["total"] == 10 and items(client, 线路="1路", _size="2")["total"] == 10
    assert any("count(*)" in sql for sql, _args in records.counts.items)
    newer = upload(bus_csv(100))  # twice the rows: the same filter must count 20 in the new file
    services.version_publish(by=None, version=newer)
    assert items(client, 线路="1路", _size="2")["total"] == 20
    assert items(client, 线路="1路", _size="2", _version="1")["total"] == 10


def test_big_versions_are_rewritten_clustered_and_old_tokens_ask_for_a_restart(
    client, published, upload, monkeypatch, tmp_path
):
    from citydata.datastore import infer, ingest
    from citydata.datastore.storage import get_storage

    monkeypatch.setattr(infer, "CLUSTER_MIN_ROWS", 10)  # what 100,000 rows trigger in production
    version = upload(bus_csv(60))
    services.version_publish(by=None, version=version)
    version.refresh_from_db()
    assert version.cluster_keys == ["线路", "时间"] and version.data_key.endswith("-c.parquet")
    path = get_storage().local_path(version.data_key)
    in_file = duckdb.connect().execute(f"SELECT 线路, 时间 FROM read_parquet('{path}')").fetchall()
    assert in_file == sorted(in_file, key=lambda r: (r[0] is None, r[0] or "", r[1]))  # clustered, NULLs last
    assert items(client)["total"] == 60 and len(items(client, 线路="2路")["items"]) == 12
    first = items(client, _size="7")
    # the file is swapped again (as it was once after the ingest): a token of the old file is refused
    ingest._cluster_version(version.pk, ["载客"], tmp_path, duckdb.connect())
    stale = client.get("/api/v1/datasets/bus/records", {"_next": first["next"]})
    assert stale.status_code == 400 and stale.json()["details"]["parameter"] == "_next"
    # every row is still there once, and the file-order copy goes at the next cleanup
    seen, token = [], None
    while True:
        page = items(client, _size="25", **({"_next": token} if token else {}))
        seen += [row["车牌"] for row in page["items"]]
        token = page["next"]
        if not token:
            break
    assert sorted(seen) == sorted(f"川B{10000 + i}" for i in range(60))
    # the file-order file, the first clustered file and the serving copy that mirrored it
    assert services.cleanup(grace=dt.timedelta(0))["files_removed"] == 3


def test_drafts_and_conditional_data_are_not_served_to_the_public(client, client_for, dataset, upload):
    version = upload(bus_csv(3))
    services.version_publish(by=None, version=version)
    assert get(client).status_code == 404  # draft dataset
    assert client_for("provider", "WJW").get("/api/v1/datasets/bus/records").status_code == 404
    staff = client_for("provider", "JTJ")
    assert staff.get("/api/v1/datasets/bus/records").status_code == 200
    Dataset.objects.filter(pk=dataset.pk).update(status="published", open_type="conditional")
    assert staff.get("/api/v1/datasets/bus/records").status_code == 200
    other = client_for("provider", "WJW")  # the same client, now logged in as another department
    refused = other.get("/api/v1/datasets/bus/records")
    assert refused.status_code == 403 and refused.json()["code"] == "grant_required"
    other.logout()
    assert get(other).status_code == 403


def test_group_by_with_aggregates_and_time_buckets(client, published):
    from citydata.datastore.storage import get_storage

    path = get_storage().local_path(published.data_key)
    expected = (
        duckdb.connect()
        .execute(
            f"SELECT 线路, count(*), count(DISTINCT 车牌), sum(载客), avg(速度), max(速度) FROM read_parquet('{path}') "
            "GROUP BY 1 ORDER BY 1 NULLS LAST"
        )
        .fetchall()
    )
    body = items(client, _group_by="线路", _agg="count,count_distinct:车牌,sum:载客,avg:速度,max:速度")
    assert body["total"] == len(expected) == 5
    got = [tuple(r.values()) for r in body["items"]]
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    assert [c["type"] for c in body["columns"]] == ["string", "integer", "integer", "integer", "decimal", "decimal"]
    daily = items(client, _group_by="时间:day", _sort="-count", _size=3)
    assert len(daily["items"]) == 3 and daily["columns"][0]["name"] == "时间_day"
    assert daily["items"][0]["count"] >= daily["items"][1]["count"]
    filtered = items(client, _group_by="线路", 线路__in="1路,2路")
    assert [r["线路"] for r in filtered["items"]] == ["1路", "2路"]
    for params in ({"_group_by": "无"}, {"_group_by": "线路:day"}, {"_group_by": "线路", "_agg": "sum:线路"}):
        assert get(client, **params).status_code == 400, params


def test_public_data_page_filters_sorts_pages_and_offers_downloads(client, published):
    page = client.get("/datasets/bus/data/")
    text = page.content.decode()
    assert page.status_code == 200 and "共 50 行" in text and "川B10000" in text
    assert "_format=csv" in text and "_format=geojson" in text and "curl" in text
    added = client.get("/datasets/bus/data/", {"_fcol": "线路", "_fop": "in", "_fval": "1路,2路"})
    assert added.status_code == 302 and "%E7%BA%BF%E8%B7%AF__in=" in added["Location"]
    filtered = client.get(added["Location"]).content.decode()
    assert "共 20 行" in filtered and "线路__in" in filtered
    sorted_page = client.get("/datasets/bus/data/", {"_sort": "-载客"}).content.decode()
    assert "↓" in sorted_page and "下一页" in sorted_page
    bad = client.get("/datasets/bus/data/", {"速度__gt": "快"})
    assert bad.status_code == 400 and "应为数字" in bad.content.decode()
    detail = client.get("/datasets/bus/").content.decode()
    assert "数据预览" in detail and "川B10000" in detail and "/datasets/bus/data/" in detail


def test_pages_of_a_clustered_file_read_by_position_equal_the_general_query(
    client, dataset, upload, monkeypatch, settings
):
    """A filter on the first cluster key, sorted either way on the second, is read by position from
    the file's layout; every page, token and total must be what the general query gives, ties and NULLs included."""
    from citydata.datastore import infer, records

    monkeypatch.setattr(infer, "CLUSTER_MIN_ROWS", 10)
    settings.RATE_ANON_PER_MINUTE = 10**6  # a few hundred pages in a minute
    rows = ["线路,车牌,时间"]
    for i in range(90):
        hour = "" if i % 11 == 0 else f"2026-01-0{1 + i % 3} 08:0{i % 4}:00"  # many ties, some NULLs
        rows.append(f"{['1路', '2路', '3路'][i % 3 // 2]},川B{10000 + i},{hour}")
    version = upload("\n".join(rows) + "\n")
    services.version_publish(by=None, version=version)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    version.refresh_from_db()
    layout = version.layout
    assert layout["file"] == version.data_key and set(layout["zones"]) == {"1路", "2路"}

    def pages(**params):
        out, token = [], None
        while True:
            body = items(client, **params, **({"_next": token} if token else {}))
            out.append((body["items"], body["total"], body["next"]))
            token = body["next"]
            if not token or "_offset" in params:
                return out

    used = []
    real_slice = records._slice
    monkeypatch.setattr(records, "_slice", lambda *a: used.append(page := real_slice(*a)) or page)
    cases = [
        {"线路": line, "_size": size, **sort}
        for line in ("1路", "2路", "4路")
        for size in ("1", "4", "7", "100")
        for sort in ({"_sort": "时间"}, {"_sort": "-时间"}, {"_sort": "-时间", "_fields": "车牌"})
    ] + [{"线路": "1路", "_size": "5", "_offset": "3", "_sort": "-时间"}]
    by_position = [pages(**case) for case in cases]
    assert len(used) >= len(cases) and all(p is not None for p in used)
    monkeypatch.setattr(records, "layout_of", lambda version: {})
    assert [pages(**case) for case in cases] == by_position
    # descending: the newest first, ties by position backwards, NULLs last
    first = by_position[cases.index({"线路": "1路", "_size": "100", "_sort": "-时间"})][0][0]
    times = [row["时间"] for row in first]
    filled = [t for t in times if t is not None]
    assert filled == sorted(filled, reverse=True) and times[len(filled) :] == [None] * (len(times) - len(filled))


def test_the_serving_copy_answers_every_query_as_the_parquet_file_does(
    client, published, monkeypatch, settings, caplog
):
    """Row queries and aggregates read the version's DuckDB serving copy; each answer, page by page with its
    tokens and totals, must be the one the Parquet file gives. A copy that is missing or unreadable is skipped."""
    from citydata.datastore import records
    from citydata.datastore.storage import get_storage

    settings.RATE_ANON_PER_MINUTE = 10**6
    published.refresh_from_db()
    native = published.layout["native"]
    assert published.layout["file"] == published.data_key and native.endswith(".duckdb")

    def walk(**params):
        out, token = [], None
        for _ in range(30):
            body = items(client, **params, **({"_next": token} if token else {}))
            out.append(body)
            token = body["next"]
            if not token or "_offset" in params or "_group_by" in params:
                break
        return out

    cases = [
        {"_size": "7"},
        {"_size": "9", "_offset": "13"},
        {"线路": "1路", "_size": "4"},
        {"线路__in": "1路,3路", "_sort": "-时间,车牌", "_size": "6"},
        {"速度__gte": "20", "速度__lt": "50.5", "_sort": "速度", "_size": "5"},
        {"速度__isnull": "true", "_fields": "车牌,时间"},
        {"车牌__contains": "1001", "_sort": "-车牌"},
        {"车牌__startswith": "川B1002", "_size": "3"},
        {"时间__between": "2026-01-03,2026-01-09", "_sort": "时间", "_size": "4"},
        {"线路__notin": "1路", "载客__not": "3", "_size": "11"},
        {"_q": "川B1003", "_size": "5"},
        {"_bbox": "104.70,31.44,104.75,31.47", "_sort": "-载客", "_size": "4"},
        {"_near": "104.72,31.45,2000", "_size": "5"},
        {"_group_by": "线路", "_agg": "count,avg:速度,max:时间"},
        {"_group_by": "时间:day", "_agg": "count_distinct:线路,sum:载客", "_sort": "-count", "_size": "5"},
    ]
    served = []
    real = records.served_table
    monkeypatch.setattr(records, "served_table", lambda *a, **k: served.append(table := real(*a, **k)) or table)
    from_copy = [walk(**case) for case in cases]
    assert served and all(t is not None and t.endswith(".t") for t in served)
    assert all(len(pages[0]["items"]) > 0 for pages in from_copy), "every case must match rows"
    monkeypatch.setattr(records, "served_table", lambda *a, **k: None)
    assert [walk(**case) for case in cases] == from_copy

    # a copy that is not there, or is not a database, is skipped: the Parquet file answers
    monkeypatch.setattr(records, "served_table", real)
    records._layouts.items.clear()
    path = get_storage().local_path(native)
    expected = items(client, 线路="2路", _sort="-时间")
    for broken in (None, b"not a database"):
        path.unlink(missing_ok=True)
        if broken is not None:
            path.write_bytes(broken)
        records._engines.clear()  # a fresh process: nothing attached yet
        assert records.served_table(published.layout) is None
        assert items(client, 线路="2路", _sort="-时间") == expected
    # a database that is not the copy it should be: the query fails there, the file answers, the fault is logged
    path.unlink()
    duckdb.connect(str(path)).execute("CREATE TABLE t (x INTEGER)").close()
    records._engines.clear()
    with caplog.at_level("WARNING", logger="citydata.datastore.records"):
        assert items(client, 线路="2路", _sort="-时间") == expected
    assert "failed where its Parquet file did not" in caplog.text


def test_serving_copies_beyond_the_kept_number_are_detached_and_attached_again(published, upload, monkeypatch):
    from citydata.datastore import records

    monkeypatch.setattr(records, "ATTACHED_KEPT", 1)
    records._engines.clear()
    second = upload(bus_csv(12))  # a second version of the same dataset, with its own copy
    layouts = []
    for version in (published, second):
        version.refresh_from_db()
        layouts.append(version.layout)
    assert layouts[0]["native"] != layouts[1]["native"]
    engine = records._engine(False)
    tables = [records.served_table(layout) for layout in layouts]
    assert len(engine.attached) == 1 and tables[0] != tables[1]
    # the first copy was detached; asking for it again attaches it again, and it answers
    assert records.served_table(layouts[0]) == tables[0] and len(engine.attached) == 1
    cur = records.connection()
    try:
        assert cur.execute(f"SELECT count(*) FROM {tables[0]}").fetchone()[0] == 50
    finally:
        cur.close()
