"""The access API: the caller's applications and grants, a grant's usage, and incremental sync."""

import io

from citydata.access.models import State
from citydata.datastore import services as data_services

from .conftest import CSV


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_applicants_see_their_applications_and_grants(client, granted, people):
    application, grant, secret = granted
    client.force_login(people["applicant"])
    mine = client.get("/api/v1/applications").json()["items"]
    assert [a["number"] for a in mine] == [application.number]
    assert mine[0]["state"] == State.GRANTED and mine[0]["items"][0]["fields"] == ["户号", "街道", "用电量"]
    assert [h["to_state"] for h in mine[0]["history"]][-2:] == ["signed", "granted"]
    client.get("/api/v1/datasets/power/records", **bearer(secret))
    grants = client.get("/api/v1/grants").json()
    assert grants[0]["id"] == grant.pk and grants[0]["usage"][0]["calls"] == 1
    assert grants[0]["key_prefix"] == grant.api_key.prefix


def test_others_cannot_see_an_application_or_grant(client, granted, people):
    application, grant, _secret = granted
    client.force_login(people["other"])
    assert client.get(f"/api/v1/applications/{application.number}").status_code == 404
    assert client.get(f"/api/v1/grants/{grant.pk}").status_code == 404
    assert client.get(f"/api/v1/grants/{grant.pk}/usage").status_code == 404
    client.force_login(people["reviewer"])  # the providing department sees both
    assert client.get(f"/api/v1/applications/{application.number}").status_code == 200
    assert client.get(f"/api/v1/grants/{grant.pk}/usage").status_code == 200


def test_changes_since_a_version_for_routine_feeds(client, granted, conditional):
    _application, _grant, secret = granted
    lines = CSV.splitlines()
    changed = [lines[0], *lines[2:], "A2000,新户,游仙,2026-12,999"]  # A1000 gone, A2000 new
    changed[5] = changed[5].rsplit(",", 1)[0] + ",1"  # one row's consumption corrected
    version = data_services.version_upload(
        by=None, dataset=conditional, stream=io.BytesIO(("\n".join(changed) + "\n").encode()),
        filename="v2.csv", run_now=True,
    )  # fmt: skip
    data_services.version_publish(by=None, version=version)
    body = client.get("/api/v1/datasets/power/changes", {"since": 1}, **bearer(secret)).json()
    assert body["version"] == 2 and body["columns"] == ["户号", "街道", "用电量"]
    assert sorted(r["户号"] for r in body["added"]) == sorted(["A2000", changed[5].split(",")[0]])
    assert sorted(r["户号"] for r in body["removed"]) == sorted(["A1000", changed[5].split(",")[0]])
    assert "户名" not in body["added"][0]
    paged = client.get("/api/v1/datasets/power/changes", {"since": 1, "_size": 1}, **bearer(secret)).json()
    assert len(paged["added"]) == 1 and paged["next"] == "1"
    none = client.get("/api/v1/datasets/power/changes", {"since": 2}, **bearer(secret)).json()
    assert none["added"] == none["removed"] == []
    bad = client.get("/api/v1/datasets/power/changes", {"since": 9}, **bearer(secret))
    assert bad.status_code == 400 and bad.json()["details"]["version"] == 2
    assert client.get("/api/v1/datasets/power/changes", {"since": 1}).status_code == 403
