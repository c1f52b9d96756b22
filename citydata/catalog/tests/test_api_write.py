"""Provider writes through the API: the same rules and the same department scoping as the pages."""

import pytest

from citydata.accounts import services as account_services
from citydata.catalog.models import Dataset

pytestmark = pytest.mark.django_db

NEW = {
    "department": "JTJ",
    "slug": "bus-lines",
    "title": "绵阳市公交线路",
    "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
    "domains": ["transport"],
    "update_frequency": "monthly",
    "fields": [{"name": "line_name", "title": "线路名称", "description": "线路", "example": "1路"}],
    "resources": [{"name": "线路表", "format": "CSV"}],
}


@pytest.fixture
def key_for(user_with_role, department):
    def make(role, dept=None):
        department("JTJ")
        department("WJW")
        user = user_with_role(role, dept)
        _, secret = account_services.apikey_create(by=user, name="k")
        return {"Authorization": f"Bearer {secret}"}

    return make


def test_provider_creates_edits_and_publishes_through_the_api(client, key_for):
    auth = key_for("provider", "JTJ")
    created = client.post("/api/v1/datasets", NEW, content_type="application/json", headers=auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["fields"][0]["title"] == "线路名称"
    assert client.get("/api/v1/datasets/bus-lines").status_code == 404  # the public does not see drafts
    patched = client.patch(
        "/api/v1/datasets/bus-lines", {"version": body["version"], "title": "绵阳市地面公交线路"},
        content_type="application/json", headers=auth,
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["title"] == "绵阳市地面公交线路"
    stale = client.patch(
        "/api/v1/datasets/bus-lines",
        {"version": body["version"], "title": "旧的"},
        content_type="application/json",
        headers=auth,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    published = client.post("/api/v1/datasets/bus-lines/publish", headers=auth)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert client.get("/api/v1/datasets/bus-lines").status_code == 200


def test_other_departments_and_registered_users_are_refused(client, key_for):
    client.post("/api/v1/datasets", NEW, content_type="application/json", headers=key_for("provider", "JTJ"))
    for auth in (key_for("provider", "WJW"), key_for("registered")):
        assert (
            client.post(
                "/api/v1/datasets", {**NEW, "slug": "x"}, content_type="application/json", headers=auth
            ).status_code
            == 403
        )
        assert client.post("/api/v1/datasets/bus-lines/publish", headers=auth).status_code == 403
        patch = client.patch(
            "/api/v1/datasets/bus-lines", {"version": 1, "title": "改"}, content_type="application/json", headers=auth
        )
        assert patch.status_code == 403 and patch.json()["code"] == "forbidden"
    assert Dataset.objects.get(slug="bus-lines").status == "draft"
    assert client.post("/api/v1/datasets", NEW, content_type="application/json").status_code == 401


def test_api_refuses_a_not_open_entry_without_basis(client, key_for):
    auth = key_for("provider", "JTJ")
    entry = {"code": "JTJ-N1", "name": "涉密设施", "open_type": "closed"}
    refused = client.post("/api/v1/departments/JTJ/inventory", entry, content_type="application/json", headers=auth)
    assert refused.status_code == 400 and refused.json()["details"] == {"field": "legal_basis_name"}
    ok = {**entry, "legal_basis_name": "《中华人民共和国保守国家秘密法》", "legal_basis_article": "第十三条"}
    assert (
        client.post("/api/v1/departments/JTJ/inventory", ok, content_type="application/json", headers=auth).status_code
        == 201
    )
    listed = client.get("/api/v1/departments/JTJ/inventory").json()["items"]
    assert listed[0]["legal_basis_article"] == "第十三条"


def test_unknown_department_or_domain_is_a_clear_4xx(client, key_for):
    auth = key_for("operator")
    bad_dept = client.post(
        "/api/v1/datasets", {**NEW, "department": "ZZZ"}, content_type="application/json", headers=auth
    )
    assert bad_dept.status_code == 400 and bad_dept.json()["code"] == "unknown_department"
    bad_domain = client.post(
        "/api/v1/datasets", {**NEW, "domains": ["nope"]}, content_type="application/json", headers=auth
    )
    assert bad_domain.status_code == 400 and bad_domain.json()["code"] == "unknown_domain"


def test_coverage_is_for_operators(client, key_for):
    assert client.get("/api/v1/catalog/coverage", headers=key_for("provider", "JTJ")).status_code == 403
    body = client.get("/api/v1/catalog/coverage", headers=key_for("operator")).json()
    assert body[0]["department_name"] and "share" in body[0]


def test_departments_endpoint(client, key_for):
    key_for("registered")
    codes = [d["code"] for d in client.get("/api/v1/departments").json()]
    assert "JTJ" in codes and "WJW" in codes


def test_inventory_entry_is_deleted_through_the_api_by_its_own_department(client, key_for):
    auth = key_for("provider", "JTJ")
    entry = {"code": "JTJ-1", "name": "公交线路", "open_type": "open"}
    assert client.post("/api/v1/departments/JTJ/inventory", entry, content_type="application/json", headers=auth)
    other = key_for("provider", "WJW")
    assert client.delete("/api/v1/departments/JTJ/inventory/JTJ-1", headers=other).status_code == 403
    assert client.delete("/api/v1/departments/JTJ/inventory/JTJ-1?version=9", headers=auth).status_code == 409
    assert client.delete("/api/v1/departments/JTJ/inventory/JTJ-1", headers=auth).status_code == 204
    assert client.delete("/api/v1/departments/JTJ/inventory/JTJ-1", headers=auth).status_code == 404
