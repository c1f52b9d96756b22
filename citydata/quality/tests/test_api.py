"""The quality API: a dataset's quality is what its page shows; runs for operators; tasks for departments."""

import datetime as dt

import pytest
from django.utils import timezone

from citydata.catalog.models import Dataset
from citydata.quality import queries
from citydata.quality.models import RectificationTask

pytestmark = pytest.mark.django_db


def test_dataset_quality_is_the_same_in_the_api_and_the_page(client, make_dataset):
    dataset = make_dataset(contact_name="", csv="线路,站点数,开通日期\n1路,3,1880-01-01\n")
    body = client.get(f"/api/v1/datasets/{dataset.slug}/quality").json()
    assert body["assessed"] and body["score"] == queries.dataset_quality(dataset)["score"]
    assert {b["family"] for b in body["breakdown"]} == {
        "metadata",
        "format",
        "service",
        "content",
        "timeliness",
        "privacy",
    }
    checks = [f["check"] for f in body["findings"]]
    assert {"content.capacity", "content.ranges", "metadata.contact"} <= set(checks)
    gains = [f["gain"] for f in body["findings"]]
    assert gains == sorted(gains, reverse=True)  # what to fix first comes first
    page = client.get(f"/datasets/{dataset.slug}/quality/").content.decode()
    assert f'<strong id="score-value">{body["score"]}</strong>' in page
    for item in body["breakdown"]:
        row = f'<tr data-family="{item["family"]}"><td>{item["label"]}</td>'
        cells = f'<td class="num">{item["weight"]}%</td><td class="num">{item["score"]}<'
        assert row + cells in page
    for finding in body["findings"]:
        assert f'id="finding-{finding["check"]}"' in page and finding["message"] in page
    # the public dataset page shows the badge with the same score
    detail = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert f"数据质量 {body['score']} 分" in detail


def test_unknown_or_draft_datasets_are_404(client, department):
    from citydata.catalog import services as catalog_services
    from citydata.quality.tests.conftest import transport

    draft = catalog_services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={
            "title": "绵阳市草稿数据",
            "description": "草稿的摘要文字足够长足够长足够长。",
            "update_frequency": "daily",
        },
        domains=[transport()],
    )
    assert client.get(f"/api/v1/datasets/{draft.slug}/quality").status_code == 404
    response = client.get("/api/v1/datasets/nope/quality")
    assert response.status_code == 404 and response.json()["code"]


def test_the_check_catalogue(client):
    body = client.get("/api/v1/quality/checks").json()
    assert {
        "metadata.naming",
        "format.openness",
        "service.links",
        "content.ranges",
        "timeliness.stale",
        "privacy.personal_data",
    } <= {c["code"] for c in body}
    assert all(c["fix"] and c["explanation"] for c in body)


def test_runs_through_the_api_are_for_operators(client_for, make_dataset):
    make_dataset()
    provider = client_for("provider", "JTJ")
    response = provider.post("/api/v1/quality/runs", {"scope": "all"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    operator = client_for("operator")
    response = operator.post(
        "/api/v1/quality/runs", {"scope": "department", "department": "NOPE"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "unknown_department"
    response = operator.post(
        "/api/v1/quality/runs", {"scope": "department", "department": "JTJ"}, content_type="application/json"
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    run_id = response.json()["id"]
    from citydata.quality import services

    services.run_execute(run_id=run_id)
    body = operator.get(f"/api/v1/quality/runs/{run_id}").json()
    assert body["status"] == "done" and body["datasets_checked"] == 1


def test_tasks_through_the_api(client_for, make_dataset):
    dataset = make_dataset()
    Dataset.objects.filter(pk=dataset.pk).update(
        update_frequency="daily", last_data_update=timezone.now() - dt.timedelta(days=9)
    )
    from citydata.quality import services

    services.run_start(by=None, run_now=True)
    task = RectificationTask.objects.get()
    other = client_for("provider", "WJW")
    assert other.get("/api/v1/quality/tasks").json()["items"] == []
    response = other.post(f"/api/v1/quality/tasks/{task.pk}/fixed", {"note": "x"}, content_type="application/json")
    assert response.status_code == 404
    own = client_for("provider", "JTJ")
    items = own.get("/api/v1/quality/tasks?status=open").json()["items"]
    assert [i["id"] for i in items] == [task.pk] and items[0]["check"] == "timeliness.stale"
    response = own.post(f"/api/v1/quality/tasks/{task.pk}/fixed", {"note": "还没改"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert own.get("/api/v1/quality/tasks").status_code == 200
    assert own.get("/api/v1/quality/tasks?limit=0").status_code == 400
