"""Quotas (per IP without a key, per key with one; database and Redis counters) and call logs."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from citydata.accounts import services as account_services
from citydata.catalog.models import Dataset
from citydata.datastore import metering, services
from citydata.datastore.models import ApiCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_data(dataset, upload):
    version = upload("线路,速度\n1路,30\n2路,40\n3路,50\n")
    services.version_publish(by=None, version=version)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    return version


def test_anonymous_callers_are_limited_per_ip_and_keys_get_more(
    client, open_data, settings, user_with_role, monkeypatch
):
    monkeypatch.setattr(metering, "clock", lambda: 1_800_000_030.0)  # mid-window, whenever the test runs
    settings.RATE_ANON_PER_MINUTE, settings.RATE_KEY_PER_MINUTE = 3, 6
    ip = {"REMOTE_ADDR": "10.9.8.7"}
    assert [client.get("/api/v1/datasets/bus/records", **ip).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/datasets/bus/records", **ip)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) == 31 and "API 密钥" in refused.json()["message"]
    assert client.get("/api/v1/datasets/bus/records", REMOTE_ADDR="10.9.8.8").status_code == 200  # another IP
    _, secret = account_services.apikey_create(by=user_with_role("registered"), name="k")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}", **ip}
    statuses = [client.get("/api/v1/datasets/bus/records", **auth).status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]


def test_every_call_is_logged_with_rows_bytes_status_and_caller(client, open_data, user_with_role):
    _, secret = account_services.apikey_create(by=user_with_role("registered"), name="k")
    client.get("/api/v1/datasets/bus/records", {"速度__gt": "35"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    csv_response = client.get("/api/v1/datasets/bus/records", {"_format": "csv"})
    body = b"".join(csv_response.streaming_content)
    client.get("/api/v1/datasets/bus/records", {"速度__gt": "fast"})
    client.get("/api/v1/datasets/nothing/records")
    calls = list(ApiCall.objects.order_by("id"))
    assert [(c.dataset, c.status, c.rows, c.format) for c in calls] == [
        ("bus", 200, 2, "json"),
        ("bus", 200, 3, "csv"),
        ("bus", 400, 0, "json"),
        ("nothing", 404, 0, "json"),
    ]
    assert calls[0].api_key_id is not None and calls[0].params == {"速度__gt": "35"} and calls[0].bytes > 0
    assert calls[1].bytes == len(body) and calls[1].version == 1 and calls[1].ip == "127.0.0.1"
    assert all(abs(timezone.now() - c.created_at) < dt.timedelta(minutes=1) for c in calls)
    assert Dataset.objects.get(slug="bus").download_count == 1


def test_old_logs_and_counters_are_pruned(open_data, settings):
    settings.CALL_LOG_DAYS = 180
    old = ApiCall.objects.create(dataset="bus", status=200, created_at=timezone.now() - dt.timedelta(days=181))
    recent = ApiCall.objects.create(dataset="bus", status=200, created_at=timezone.now() - dt.timedelta(days=179))
    metering.check(metering.Caller("ip:1.2.3.4", 10, None, None, "1.2.3.4"), now=1_000_000)
    assert metering.prune() == {"calls": 1, "counters": 1}
    assert not ApiCall.objects.filter(pk=old.pk).exists() and ApiCall.objects.filter(pk=recent.pk).exists()


def test_redis_counters_give_the_same_answers(settings, redis_url):
    settings.RATE_LIMIT_BACKEND = "redis"
    settings.RATE_LIMIT_REDIS_URL = redis_url
    metering._redis = None
    caller = metering.Caller(f"ip:{uuid.uuid4().hex}", 2, None, None, None)
    metering.check(caller, now=2_000_000.5)
    metering.check(caller, now=2_000_001)
    with pytest.raises(metering.TooManyRequests) as caught:
        metering.check(caller, now=2_000_010)
    assert caught.value.details["retry_after"] == 31  # the window ends at 2,000,040
    metering.check(caller, now=2_000_060)  # a new window
    metering._redis = None


def test_a_nul_in_a_query_body_is_logged_visibly_not_refused_by_the_database(client, open_data):
    """PostgreSQL refuses NUL in text and JSON columns; the call log and the audit trail must still be written."""
    response = client.post(
        "/api/v1/datasets/bus/query", {"sql": "SELECT 1\x00; DROP TABLE x"}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    logged = ApiCall.objects.get(format="sql")
    assert logged.status == 400 and logged.params["sql"] == "SELECT 1\\x00; DROP TABLE x"
