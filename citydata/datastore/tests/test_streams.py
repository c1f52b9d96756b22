"""Real-time streams: idempotent pushes by the department, latest state per key, history, and a live
Server-Sent Events feed that delivers records pushed while a client listens."""

import datetime as dt
import http.client
import json
import threading
import time

import pytest

from citydata.accounts import services as account_services
from citydata.catalog.models import Dataset, DatasetField
from citydata.datastore import streams
from citydata.datastore.models import StreamMessage, StreamState

pytestmark = pytest.mark.django_db


def bus(i: int, plate: str = "川B10001", minute: int = 0, speed: float = 30.0) -> dict:
    return {"id": f"m-{i}", "key": plate, "time": f"2026-11-28T08:{minute:02d}:00+08:00", "data": {"speed": speed}}


@pytest.fixture
def live(dataset):
    DatasetField.objects.create(dataset=dataset, name="speed", title="速度", type="decimal")
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    dataset.refresh_from_db()
    return dataset


def test_pushes_are_idempotent_and_the_newest_state_wins(live, user_with_role):
    provider = user_with_role("provider", "JTJ")
    first = streams.push(by=provider, dataset=live, records=[bus(1, minute=5), bus(2, "川B10002", minute=5)])
    assert (first.accepted, first.duplicates, first.state_updates) == (2, 0, 2)
    again = streams.push(by=provider, dataset=live, records=[bus(1, minute=5), bus(3, minute=1, speed=99)])
    assert (again.accepted, again.duplicates, again.state_updates) == (1, 1, 0)  # the late record is history only
    assert StreamMessage.objects.count() == 3
    assert StreamState.objects.get(key="川B10001").payload == {"speed": 30.0}
    streams.push(by=provider, dataset=live, records=[bus(4, minute=9, speed=12)])
    assert [s["data"] for s in streams.latest(live)] == [{"speed": 12}, {"speed": 30.0}]
    assert Dataset.objects.get(pk=live.pk).last_data_update is not None


def test_bad_records_refuse_the_batch_naming_the_record(live, user_with_role):
    provider = user_with_role("provider", "JTJ")
    from citydata.errors import DomainError, Forbidden

    for records, words in [
        ([bus(1), {"id": "x", "key": "k", "data": {"colour": "red"}}], "colour"),
        ([{"id": "", "key": "k", "data": {"speed": 1}}], "id"),
        ([{"id": "a", "key": "k", "data": {"speed": 1}, "time": "昨天"}], "ISO 8601"),
        ([], "非空"),
    ]:
        with pytest.raises(DomainError) as caught:
            streams.push(by=provider, dataset=live, records=records)
        assert words in str(caught.value.message)
    assert not StreamMessage.objects.exists()
    with pytest.raises(Forbidden):
        streams.push(by=user_with_role("provider", "WJW"), dataset=live, records=[bus(1)])


def test_push_and_read_over_the_api(client, live, user_with_role):
    _, secret = account_services.apikey_create(by=user_with_role("provider", "JTJ"), name="k")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = {"records": [bus(1), bus(2, "川B10002")]}
    pushed = client.post("/api/v1/streams/bus/records", body, content_type="application/json", **auth)
    assert pushed.status_code == 200 and pushed.json()["accepted"] == 2
    assert client.post("/api/v1/streams/bus/records", body, content_type="application/json").status_code == 401
    latest = client.get("/api/v1/streams/bus/latest", {"key": "川B10002"}).json()
    assert [i["key"] for i in latest["items"]] == ["川B10002"]
    history = client.get("/api/v1/streams/bus/history", {"since": 0, "_size": 1}).json()
    assert len(history["items"]) == 1 and history["next"] is not None
    rest = client.get("/api/v1/streams/bus/history", {"since": history["next"]}).json()
    assert [i["id"] for i in rest["items"]] == ["m-2"]


def test_feed_delivers_records_pushed_while_listening(live, user_with_role):
    provider = user_with_role("provider", "JTJ")
    streams.push(by=provider, dataset=live, records=[bus(1)])
    feed = streams.feed(live, since=0, seconds=5, poll=0.01)
    assert next(feed).startswith("retry:")
    streams.push(by=provider, dataset=live, records=[bus(2, minute=1, speed=41)])
    event = next(feed)
    assert event.startswith("id: ") and "event: record" in event and '"speed": 41' in event
    # a reconnecting client resumes after its last event id and gets nothing twice
    last = int(event.split("\n")[0][4:])
    resumed = streams.feed(live, since=last, seconds=0, poll=0.01)
    assert [e for e in resumed if e.startswith("id:")] == []


@pytest.mark.django_db(transaction=True)
def test_an_sse_client_receives_pushed_records_over_http(live_server, dataset, user_with_role, settings):
    from citydata.catalog.models import Domain  # noqa: F401 - the dataset fixture made sure domains exist

    DatasetField.objects.get_or_create(dataset=dataset, name="speed", defaults={"title": "速度", "type": "decimal"})
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    settings.SSE_MAX_SECONDS = 3  # the server side ends soon after the test, before the database goes away
    provider = user_with_role("provider", "JTJ")
    host, port = live_server.url.removeprefix("http://").split(":")
    received: list[str] = []

    def listen() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=15)
        conn.request("GET", "/api/v1/streams/bus/events", headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        assert response.getheader("Content-Type").startswith("text/event-stream")
        buffer = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "event: record" not in buffer:
            chunk = response.read1(4096).decode()
            if not chunk:
                break
            buffer += chunk
        received.append(buffer)
        conn.close()

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1.0)  # let the client subscribe first: it should see only what is pushed afterwards
    streams.push(by=provider, dataset=Dataset.objects.get(pk=dataset.pk), records=[bus(7, minute=3, speed=52)])
    listener.join(timeout=15)
    assert received and "event: record" in received[0]
    payload = json.loads(received[0].split("data: ", 1)[1].split("\n", 1)[0])
    assert payload["key"] == "川B10001" and payload["data"] == {"speed": 52} and payload["id"] == "m-7"


def test_history_is_pruned_but_the_latest_state_stays(live, user_with_role, settings):
    streams.push(by=user_with_role("provider", "JTJ"), dataset=live, records=[bus(1)])
    StreamMessage.objects.update(received_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert streams.prune(days=7) == 1
    assert not StreamMessage.objects.exists() and StreamState.objects.get().payload == {"speed": 30.0}


def test_simulator_pushes_buses_the_map_page_lists_them(client, live, settings):
    from django.core.management import call_command

    for name, title, kind in (("vehicle_no", "车辆编号", "string"), ("line_name", "线路", "string"),
                              ("lng", "经度", "decimal"), ("lat", "纬度", "decimal"),
                              ("updated_at", "更新时间", "datetime")):  # fmt: skip
        DatasetField.objects.get_or_create(dataset=live, name=name, defaults={"title": title, "type": kind})
    Dataset.objects.filter(pk=live.pk).update(title="绵阳市地面公交实时位置", update_frequency="realtime")
    call_command("simulate", ticks=2, interval=0)
    assert StreamState.objects.filter(dataset=live).count() == 30 and StreamMessage.objects.count() == 60
    page = client.get("/datasets/bus/live/").content.decode()
    assert 'id="live-map"' in page and "MY-00001" in page and 'data-lng="lng"' in page
    assert "/datasets/bus/live/" in client.get("/datasets/bus/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_live_bus_map_moves_in_chromium(live_server, browser, dataset, user_with_role, settings):
    settings.SSE_MAX_SECONDS = 2  # the browser reconnects with Last-Event-ID, as it would in production
    for name, kind in (("lng", "decimal"), ("lat", "decimal"), ("line_name", "string")):
        DatasetField.objects.get_or_create(dataset=dataset, name=name, defaults={"title": name, "type": kind})
    Dataset.objects.filter(pk=dataset.pk).update(status="published", update_frequency="realtime")
    provider = user_with_role("provider", "JTJ")

    def position(i: int, lng: float) -> dict:
        return {"id": f"p{i}", "key": "MY-00001", "time": f"2026-11-28T08:00:0{i}+08:00",
                "data": {"lng": lng, "lat": 31.46, "line_name": "1路"}}  # fmt: skip

    streams.push(by=provider, dataset=Dataset.objects.get(pk=dataset.pk), records=[position(1, 104.70)])
    page = browser.new_page()
    page.goto(live_server.url + "/datasets/bus/live/")
    marker = page.locator("circle.marker[data-key='MY-00001']")
    marker.wait_for(timeout=10000)
    before = float(marker.get_attribute("cx"))
    page.wait_for_timeout(1500)  # the page has subscribed to the live feed
    streams.push(by=provider, dataset=Dataset.objects.get(pk=dataset.pk), records=[position(2, 104.80)])
    page.wait_for_function(
        "x => Number(document.querySelector(\"circle.marker[data-key='MY-00001']\").getAttribute('cx')) > x + 100",
        arg=before,
        timeout=10000,
    )
    after = float(marker.get_attribute("cx"))
    assert after > before + 100  # 0.1° east is about 400 of the map's 1000 units
