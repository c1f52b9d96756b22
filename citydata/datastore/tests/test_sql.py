"""Read-only SQL: what it answers, and every way out it refuses (writes, ATTACH, COPY, files, extensions,
settings, several statements, other tables, functions off the list), with time and row limits."""

import pytest

from citydata.catalog.models import Dataset
from citydata.datastore import services, sql
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

ESCAPES = [
    ("DELETE FROM data", "not_select"),
    ("INSERT INTO data VALUES (1)", "not_select"),
    ("CREATE TABLE t AS SELECT * FROM data", "not_select"),
    ("DROP VIEW data", "not_select"),
    ("UPDATE data SET 速度 = 0", "not_select"),
    ("ATTACH '/tmp/evil.db' AS evil", "not_select"),
    ("COPY data TO '/tmp/out.csv'", "not_select"),
    ("COPY (SELECT 1) TO '/tmp/out.csv'", "not_select"),
    ("EXPORT DATABASE '/tmp/dump'", "not_select"),
    ("INSTALL httpfs", "not_select"),
    ("LOAD httpfs", "not_select"),
    ("SET enable_external_access = true", "not_select"),
    ("PRAGMA database_list", "not_select"),
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("SELECT * FROM data; DROP VIEW data", "multiple_statements"),
    ("SELECT * FROM read_csv('/etc/passwd')", "table_function"),
    ("SELECT * FROM read_parquet('/tmp/other.parquet')", "table_function"),
    ("SELECT * FROM glob('/*')", "table_function"),
    ("SELECT * FROM duckdb_settings()", "table_function"),
    ("SELECT * FROM '/etc/passwd'", "table"),
    ("SELECT * FROM main.data", "table"),
    ("SELECT * FROM information_schema.tables", "table"),
    ("SELECT * FROM other_table", "table"),
    ("SHOW TABLES", "table_ref"),
    ("SELECT getenv('HOME')", "function"),
    ("SELECT current_setting('threads')", "function"),
    ("SELECT read_text('/etc/passwd')", "function"),
    ("SELECT * FROM data WHERE 线路 IN (SELECT * FROM read_csv('/etc/passwd'))", "table_function"),
    ("WITH x AS (SELECT * FROM read_json('/etc/hosts')) SELECT * FROM x", "table_function"),
    ("", "empty"),
]


@pytest.fixture
def parquet(dataset, upload):
    version = upload("线路,速度\n1路,30\n2路,40\n1路,50\n")
    services.version_publish(by=None, version=version)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    from citydata.datastore.storage import get_storage

    return str(get_storage().local_path(version.data_key))


@pytest.mark.parametrize(("text", "reason"), ESCAPES)
def test_every_escape_is_refused_with_a_reason(parquet, text, reason):
    with pytest.raises(sql.SqlRefused) as caught:
        sql.run(text, parquet)
    assert caught.value.details["reason"] == reason, caught.value.message


def test_selects_answer_within_limits(parquet):
    result = sql.run("WITH t AS (SELECT 线路, avg(速度) AS v FROM data GROUP BY 1) SELECT * FROM t ORDER BY 1", parquet)
    assert result.columns == ["线路", "v"] and result.rows == [("1路", 40.0), ("2路", 40.0)]
    capped = sql.run("SELECT * FROM data", parquet, max_rows=2)
    assert len(capped.rows) == 2 and capped.truncated
    slow = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 500000000) SELECT count(*) FROM r"
    with pytest.raises(sql.SqlRefused) as caught:
        sql.run(slow, parquet, timeout_ms=300)
    assert caught.value.code == "sql_timeout"


def test_runtime_sandbox_holds_even_past_the_checks(parquet, monkeypatch):
    """With the parse checks switched off, the locked-down connection still refuses files and settings."""
    monkeypatch.setattr(sql, "check", lambda text: None)
    for text in ("SELECT * FROM read_csv('/etc/passwd')", "COPY data TO '/tmp/x.csv'", "SET threads = 8"):
        with pytest.raises(sql.SqlRefused) as caught:
            sql.run(text, parquet)
        assert caught.value.code == "sql_error", text


def test_api_and_page(client, parquet):
    ok = client.post(
        "/api/v1/datasets/bus/query", {"sql": "SELECT count(*) AS n FROM data"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["rows"] == [[3]] and ok.json()["columns"] == ["n"]
    infinite = client.post(
        "/api/v1/datasets/bus/query",
        {"sql": "SELECT 1.0 / 0 AS x, 'nan'::DOUBLE AS y"},
        content_type="application/json",
    )
    assert b"Infinity" not in infinite.content and b"NaN" not in infinite.content  # not JSON: null instead
    assert infinite.json()["rows"] == [[None, None]]
    refused = client.post(
        "/api/v1/datasets/bus/query", {"sql": "SELECT * FROM read_csv('/etc/passwd')"}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "sql_refused"
    assert AuditEvent.objects.filter(action="sql.refused").count() == 1
    page = client.get("/datasets/bus/sql/", {"sql": "SELECT 线路, count(*) FROM data GROUP BY 1 ORDER BY 1"})
    assert page.status_code == 200 and "1路" in page.content.decode()
    bad = client.get("/datasets/bus/sql/", {"sql": "DROP VIEW data"})
    assert bad.status_code == 400 and "只允许查询" in bad.content.decode()
