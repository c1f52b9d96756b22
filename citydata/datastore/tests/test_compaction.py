"""Compaction of real-time history: records older than the hot window become rows of a new published Parquet
version, queryable through the records API; the database keeps only the hot records; nothing is lost or
counted twice."""

import datetime as dt

import pytest
from django.utils import timezone

from citydata.catalog.models import Dataset, DatasetField
from citydata.datastore import compaction, services, streams
from citydata.datastore.models import DataVersion, StreamMessage, StreamState
from citydata.datastore.tests.conftest import bus_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(dataset):
    for position, (name, kind) in enumerate([("line_name", "string"), ("speed", "decimal"), ("seats", "integer")]):
        DatasetField.objects.create(dataset=dataset, name=name, title=name, type=kind, position=position)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    dataset.refresh_from_db()
    return dataset


def push(dataset, start: int, count: int, *, received: dt.datetime, plates: int = 3):
    records = [
        {
            "id": f"m-{i}",
            "key": f"川B{10000 + i % plates}",
            "time": (received - dt.timedelta(seconds=count - i)).isoformat(),
            "data": {"line_name": f"{1 + i % 2}路", "speed": 20 + i % 7 + 0.5, "seats": i % 40},
        }
        for i in range(start, start + count)
    ]
    streams.push(by=None, dataset=dataset, records=records)
    StreamMessage.objects.filter(dataset=dataset, message_id__in=[r["id"] for r in records]).update(
        received_at=received
    )


def records(client, **params):
    response = client.get("/api/v1/datasets/bus/records", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_cold_records_become_a_published_version_and_leave_the_database(client, live, settings):
    settings.STREAM_COMPACT_MINUTES = 60
    now = timezone.now()
    push(live, 0, 120, received=now - dt.timedelta(hours=3))
    push(live, 120, 30, received=now - dt.timedelta(minutes=5))  # hot: stays for the live feed
    version = compaction.compact(live, now=now)
    assert version is not None and version.is_current and version.row_count == 120
    assert StreamMessage.objects.filter(dataset=live).count() == 30
    assert StreamState.objects.filter(dataset=live).count() == 3  # the latest state of every key is kept
    page = records(client, _size="5", _sort="-stream_time")
    assert page["total"] == 120
    # the group-by over the archive equals what was pushed: 60 records on each line
    groups = records(client, _group_by="line_name", _agg="count,sum:seats")["items"]
    expected_seats = {line: sum(i % 40 for i in range(120) if f"{1 + i % 2}路" == line) for line in ("1路", "2路")}
    assert {g["line_name"]: (g["count"], g["sum_seats"]) for g in groups} == {
        line: (60, expected_seats[line]) for line in ("1路", "2路")
    }
    types = {c["name"]: c["type"] for c in version.columns}
    assert types == {
        "line_name": "string",
        "speed": "decimal",
        "seats": "integer",
        "stream_key": "string",
        "stream_time": "datetime",
    }
    # a second run later appends the next cold records to the same data, once
    push(live, 150, 10, received=now + dt.timedelta(minutes=30))
    later = now + dt.timedelta(hours=2)
    newer = compaction.compact(live, now=later)
    assert newer.row_count == 160 and StreamMessage.objects.filter(dataset=live).count() == 0
    assert compaction.compact(live, now=later) is None  # nothing left: no new version
    assert records(client, stream_key="川B10001")["total"] == len([i for i in range(160) if i % 3 == 1])


def test_history_older_than_the_retention_leaves_the_archive(client, live, settings):
    settings.STREAM_HISTORY_DAYS = 2
    now = timezone.now()
    push(live, 0, 10, received=now - dt.timedelta(days=5))
    assert compaction.compact(live, now=now - dt.timedelta(days=4)).row_count == 10
    push(live, 10, 5, received=now - dt.timedelta(hours=2))
    assert compaction.compact(live, now=now).row_count == 5  # the 5-day-old rows fell out


def test_compaction_appends_to_an_uploaded_version_keeping_its_column_types(client, live, upload):
    published = upload(bus_csv(20))
    services.version_publish(by=None, version=published)
    now = timezone.now()
    DatasetField.objects.filter(dataset=live, name__in=["载客", "线路"]).update(type="string")  # declared loosely
    streams.push(
        by=None,
        dataset=live,
        records=[
            {"id": "x1", "key": "川B1", "time": now.isoformat(), "data": {"载客": 12, "线路": "9路"}},
            {"id": "x2", "key": "川B2", "time": now.isoformat(), "data": {"载客": "many", "线路": "9路"}},
        ],
    )
    StreamMessage.objects.filter(dataset=live).update(received_at=now - dt.timedelta(hours=2))
    version = compaction.compact(live, now=now)
    types = {c["name"]: c["type"] for c in version.columns}
    assert types["载客"] == "integer"  # the uploaded version's type wins
    assert version.row_count == 22
    rows = records(client, 线路="9路", _sort="stream_key")["items"]
    assert [(r["载客"], r["stream_key"]) for r in rows] == [(12, "川B1"), (None, "川B2")]  # "many" is no integer
    assert records(client, stream_key__isnull="true")["total"] == 20  # the uploaded rows have no stream key


def test_only_the_last_compacted_versions_are_kept(live, settings):
    now = timezone.now()
    for run in range(4):
        push(live, run * 10, 10, received=now + dt.timedelta(hours=run) - dt.timedelta(hours=2))
        compaction.compact(live, now=now + dt.timedelta(hours=run))
    statuses = list(DataVersion.objects.filter(dataset=live).order_by("number").values_list("status", "is_current"))
    assert statuses == [("discarded", False), ("discarded", False), ("ready", False), ("ready", True)]


def test_the_periodic_job_compacts_every_stream_and_reports(live, settings):
    now = timezone.now()
    push(live, 0, 7, received=now - dt.timedelta(hours=2))
    assert compaction.compact_all(now=now) == {"datasets": 1, "records": 7, "failed": 0}
    assert compaction.compact_all(now=now) == {"datasets": 0, "records": 0, "failed": 0}
