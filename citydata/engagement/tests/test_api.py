"""The feedback API: reading a dataset's comments, ratings and error reports; posting them with a key; data
requests listed and created; errors in the one shape."""

from __future__ import annotations

import pytest

from citydata.accounts import services as account_services
from citydata.engagement import services
from citydata.engagement.models import Complaint, DataRequest, ErrorReport, Rating
from citydata.engagement.services import common

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyed(client, make_user):
    user = make_user(display_name="开发者")
    _key, secret = account_services.apikey_create(by=user, name="测试")

    def call(method: str, path: str, **kwargs):
        return getattr(client, method)(
            path, HTTP_AUTHORIZATION=f"Bearer {secret}", content_type="application/json", **kwargs
        )

    call.user = user
    return call


def test_reading_feedback_needs_no_key(client, dataset, make_user):
    citizen = make_user(display_name="周市民")
    services.comment_submit(by=citizen, dataset=dataset, body="好用")
    services.rating_set(by=citizen, dataset=dataset, score=4, reason="及时")
    services.error_report_submit(by=citizen, dataset=dataset, problem="第 3 行错误", field_name="stops")
    comments = client.get(f"/api/v1/datasets/{dataset.slug}/comments").json()
    assert comments["items"][0]["body"] == "好用" and comments["items"][0]["author"] == "周市民"
    ratings = client.get(f"/api/v1/datasets/{dataset.slug}/ratings").json()
    assert ratings["summary"] == {"count": 1, "average": 4.0, "distribution": {"5": 0, "4": 1, "3": 0, "2": 0, "1": 0}}
    reports = client.get(f"/api/v1/datasets/{dataset.slug}/error-reports").json()
    item = reports["items"][0]
    assert (item["field_title"], item["status"], item["department"]) == ("站点数", "open", "JTJ")
    assert item["due_at"] and item["overdue"] is False
    assert client.get("/api/v1/datasets/no-such/comments").json()["code"] == "not_found"


def test_posting_with_a_key(keyed, dataset):
    response = keyed("post", f"/api/v1/datasets/{dataset.slug}/comments", data={"body": "接口评论"})
    assert response.status_code == 201 and response.json()["status"] == "published"
    response = keyed("put", f"/api/v1/datasets/{dataset.slug}/rating", data={"score": 5, "reason": "好"})
    assert response.status_code == 200 and Rating.objects.get().user == keyed.user
    response = keyed(
        "post",
        f"/api/v1/datasets/{dataset.slug}/error-reports",
        data={"problem": "坐标偏移", "field_name": "line", "row_ref": "12"},
    )
    assert response.status_code == 201 and response.json()["field_title"] == "线路"
    assert ErrorReport.objects.get().reporter == keyed.user
    response = keyed("post", f"/api/v1/datasets/{dataset.slug}/complaints", data={"description": "含手机号"})
    assert response.status_code == 201 and response.json()["url"].endswith(
        f"/complaints/{Complaint.objects.get().token}/"
    )


def test_posting_errors_have_the_one_shape(client, keyed, dataset, monkeypatch):
    anonymous = client.post(
        f"/api/v1/datasets/{dataset.slug}/comments", data={"body": "x"}, content_type="application/json"
    )
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    bad = keyed("put", f"/api/v1/datasets/{dataset.slug}/rating", data={"score": 6})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    unknown = keyed("post", f"/api/v1/datasets/{dataset.slug}/error-reports", data={"problem": "x", "field_name": "z"})
    assert unknown.status_code == 400 and unknown.json()["details"] == {"field": "field_name"}
    nul = keyed("post", f"/api/v1/datasets/{dataset.slug}/comments", data={"body": "a\u0000b"})
    assert nul.status_code == 422
    monkeypatch.setitem(common.LIMITS, "comment", (1, 5))
    assert keyed("post", f"/api/v1/datasets/{dataset.slug}/comments", data={"body": "一"}).status_code == 201
    limited = keyed("post", f"/api/v1/datasets/{dataset.slug}/comments", data={"body": "二"})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited" and limited["Retry-After"] == "3600"


def test_data_requests_are_listed_filtered_and_created(client, keyed, department, make_user):
    department("JTJ")
    response = keyed(
        "post", "/api/v1/data-requests", data={"title": "出租车上下客点", "department": "jtj", "query": "出租车上下客"}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["department"], body["status"], body["query"]) == ("JTJ", "open", "出租车上下客")
    assert keyed("post", "/api/v1/data-requests", data={"title": "x", "department": "NOPE"}).json()["code"] == (
        "unknown_department"
    )
    for n in range(3):
        DataRequest.objects.create(requester=make_user(), title=f"其他 {n}", status="declined", legal_basis="依据")
    page = client.get("/api/v1/data-requests", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get("/api/v1/data-requests", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    declined = client.get("/api/v1/data-requests", {"status": "declined"}).json()["items"]
    assert {r["legal_basis"] for r in declined} == {"依据"}
    assert client.get("/api/v1/data-requests", {"status": "bogus"}).json()["code"] == "invalid_filter"
    mine = keyed("get", "/api/v1/data-requests?mine=true").json()["items"]
    assert [r["title"] for r in mine] == ["出租车上下客点"]
    one = client.get(f"/api/v1/data-requests/{body['id']}").json()
    assert one["title"] == "出租车上下客点"
    assert client.get("/api/v1/data-requests/999999").status_code == 404
