"""Conditional data leaves only through a live grant, and then only the granted fields: records, exports,
SQL, pages, charts and real-time feeds alike. Revocation, IP allow-lists and quotas act on the next call."""

import csv
import io

import pytest

from citydata.access import services
from citydata.access.models import GrantUsage, State
from citydata.datastore import metering, streams

RECORDS = "/api/v1/datasets/power/records"
SQL = "/api/v1/datasets/power/query"


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture(autouse=True)
def _pinned_minute(monkeypatch):
    monkeypatch.setattr(metering, "clock", lambda: 1_800_000_000.0)


def _every_door(client, **headers):
    return {
        "records": client.get(RECORDS, **headers),
        "csv": client.get(RECORDS, {"_format": "csv"}, **headers),
        "parquet": client.get(RECORDS, {"_format": "parquet"}, **headers),
        "sql": client.post(SQL, {"sql": "SELECT count(*) FROM data"}, content_type="application/json", **headers),
        "stream": client.get("/api/v1/streams/power/latest", **headers),
        "data page": client.get("/datasets/power/data/", **headers),
        "sql page": client.get("/datasets/power/sql/", {"sql": "SELECT * FROM data"}, **headers),
        "chart page": client.get("/datasets/power/chart/", **headers),
    }


def test_without_a_grant_every_door_is_closed(client, conditional, people, make_user):
    from citydata.accounts.services import apikey_create

    assert {name: r.status_code for name, r in _every_door(client).items()} == dict.fromkeys(_every_door(client), 403)
    client.force_login(people["other"])
    answers = _every_door(client)
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 403)
    assert answers["records"].json()["code"] == "grant_required"
    _key, personal = apikey_create(by=people["other"], name="mine")
    client.logout()
    assert client.get(RECORDS, **bearer(personal)).json()["code"] == "grant_required"
    page = client.get("/datasets/power/")
    assert page.status_code == 200 and "需在线申请" in page.content.decode() and "A1000" not in page.content.decode()


def test_the_grant_key_reads_only_the_granted_fields(client, granted):
    application, grant, secret = granted
    body = client.get(RECORDS, {"_size": "5"}, **bearer(secret)).json()
    assert [c["name"] for c in body["columns"]] == ["户号", "街道", "用电量"]
    assert set(body["items"][0]) == {"户号", "街道", "用电量"} and body["total"] == 30
    for params in ({"户名": "居民1"}, {"_sort": "户名"}, {"_fields": "户名"}, {"_group_by": "户名"}):
        refused = client.get(RECORDS, params, **bearer(secret))
        assert refused.status_code == 400, params
    # _q searches only granted text columns: the name column is out of reach
    assert client.get(RECORDS, {"_q": "居民1"}, **bearer(secret)).json()["total"] == 0
    exported = client.get(RECORDS, {"_format": "csv"}, **bearer(secret))
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0] == ["户号", "街道", "用电量"] and len(rows) == 31 and "居民" not in str(rows)
    star = client.post(SQL, {"sql": "SELECT * FROM data LIMIT 3"}, content_type="application/json", **bearer(secret))
    assert star.status_code == 200 and star.json()["columns"] == ["户号", "街道", "用电量"]
    hidden = client.post(SQL, {"sql": "SELECT 户名 FROM data"}, content_type="application/json", **bearer(secret))
    assert hidden.status_code == 400
    usage = GrantUsage.objects.get(grant=grant)
    assert usage.calls == 4 and usage.rows == 5 + 0 + 30 + 3  # successful reads only: records, _q, CSV, SQL
    application.refresh_from_db()
    assert application.state == State.IN_USE


def test_a_personal_key_of_the_holder_is_not_the_grant_key(client, granted, people):
    from citydata.accounts.services import apikey_create

    _key, personal = apikey_create(by=people["applicant"], name="personal")
    refused = client.get(RECORDS, **bearer(personal))
    assert refused.status_code == 403 and refused.json()["code"] == "grant_key_required"


def test_the_holder_reads_granted_fields_in_the_browser(client, granted, people):
    client.force_login(people["applicant"])
    page = client.get("/datasets/power/data/").content.decode()
    assert "A1000" in page and "居民1" not in page


def test_revocation_takes_effect_on_the_next_call(client, granted, people):
    _application, grant, secret = granted
    assert client.get(RECORDS, **bearer(secret)).status_code == 200
    services.grant_revoke(by=people["reviewer"], grant=grant, reason="超范围使用")
    assert client.get(RECORDS, **bearer(secret)).status_code == 401  # the key itself is dead
    client.force_login(people["applicant"])
    refused = client.get(RECORDS)
    assert (
        refused.status_code == 403
        and refused.json()["code"] == "grant_revoked"
        and "超范围使用" in refused.json()["message"]
    )


def test_suspension_ip_allow_list_and_quotas(client, granted, people):
    _application, grant, secret = granted
    services.grant_limits(
        by=people["reviewer"], grant=grant, rate_per_minute=60, daily_rows=10**6, ip_allowlist=["10.0.0.0/8"]
    )
    assert client.get(RECORDS, **bearer(secret)).json()["code"] == "ip_not_allowed"
    assert client.get(RECORDS, REMOTE_ADDR="10.1.2.3", **bearer(secret)).status_code == 200
    services.grant_limits(by=people["reviewer"], grant=grant, rate_per_minute=3, daily_rows=40, ip_allowlist=[])
    assert client.get(RECORDS, {"_size": "10"}, **bearer(secret)).status_code == 200  # 30 + 10 rows: at 40 now
    over = client.get(RECORDS, **bearer(secret))
    assert over.status_code == 429 and over.json()["code"] == "grant_quota_exceeded"
    services.grant_limits(by=people["reviewer"], grant=grant, rate_per_minute=1, daily_rows=10**6, ip_allowlist=[])
    assert client.get(RECORDS, **bearer(secret)).status_code == 429  # the grant's own per-minute limit
    services.grant_suspend(by=people["reviewer"], grant=grant, reason="核查中")
    assert client.get(RECORDS, **bearer(secret)).json()["code"] == "grant_suspended"


def test_fields_outside_the_grant_never_appear_in_the_live_feed(client, granted, conditional):
    _application, _grant, secret = granted
    streams.push(by=None, dataset=conditional, records=[
        {"id": "m1", "key": "A1000", "data": {"户号": "A1000", "户名": "张三", "用电量": 120}},
    ])  # fmt: skip
    item = client.get("/api/v1/streams/power/latest", **bearer(secret)).json()["items"][0]
    assert item["data"] == {"户号": "A1000", "用电量": 120}


def test_department_staff_still_read_everything(client, conditional, people):
    client.force_login(people["reviewer"])
    body = client.get(RECORDS, {"_size": "1"}).json()
    assert "户名" in body["items"][0]
