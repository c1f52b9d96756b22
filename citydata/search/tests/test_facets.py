"""Facet counts over every match of a search, not only the ranked window; filters narrowing the match before the
window is taken; estimates, flagged, beyond the exact-count cap. The window and the cap are made small here so eight
datasets behave like a broad query over a large catalog."""

import re
from urllib.parse import unquote

import pytest
from django.core import signing

from citydata.catalog import services
from citydata.catalog.models import Dataset
from citydata.search import engine
from citydata.search.models import FacetSet, SearchDocument
from citydata.search.services import CLICK_SALT
from citydata.search.tests.test_search import catalog  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db


def counts(body: dict, facet: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in body["facets"][facet]}


def test_facets_count_every_match_beyond_the_ranked_window(client, catalog, monkeypatch):  # noqa: F811
    monkeypatch.setattr(engine, "WINDOW", 2)
    body = client.get("/api/v1/search", {"q": "绵阳市"}).json()  # six of the eight titles
    assert len(body["items"]) == 2 or body["next_cursor"] is None  # the window ranks two
    assert body["total"] == 6 and body["total_exact"] and not body["facets_estimated"]
    assert counts(body, "department") == {"JTJ": 2, "WJW": 1, "SCJGJ": 1, "SWJ": 1, "HBJ": 1}
    assert counts(body, "domain") == {"transport": 2, "health": 1, "credit": 2, "ecology": 1}
    assert counts(body, "format") == {"CSV": 6} and counts(body, "kind") == {"dataset": 6}
    # the catalog page counts the same way
    page = client.get("/datasets/", {"q": "绵阳市"}).content.decode()
    assert '<span class="count">6</span>' in page  # CSV: all six, though two are ranked


def test_a_filter_narrows_the_match_before_the_window(client, catalog, monkeypatch):  # noqa: F811
    monkeypatch.setattr(engine, "WINDOW", 2)
    ranked = client.get("/api/v1/search", {"q": "绵阳市"}).json()["items"]
    departments = {"bus-live": "JTJ", "parking": "JTJ", "beds": "WJW", "credit": "SCJGJ", "tax": "SWJ", "air": "HBJ"}
    outside = next(slug for slug in departments if slug not in {i["slug"] for i in ranked})
    code = departments[outside]
    filtered = client.get("/api/v1/search", {"q": "绵阳市", "department": code}).json()
    assert outside in {i["slug"] for i in filtered["items"]}  # found though the unfiltered window left it out
    assert {i["department"]["code"] for i in filtered["items"]} == {code}
    assert filtered["total"] == list(departments.values()).count(code) and filtered["total_exact"]
    # each facet ignores its own filter: the other departments keep their counts, other facets count this one's
    assert counts(filtered, "department") == {"JTJ": 2, "WJW": 1, "SCJGJ": 1, "SWJ": 1, "HBJ": 1}
    assert sum(counts(filtered, "open_type").values()) == filtered["total"]
    page = client.get("/datasets/", {"q": "绵阳市", "department": code}).content.decode()
    tokens = re.findall(r'<h2><a href="/search/click/\?t=([^"]+)"', page)
    assert outside in {signing.loads(unquote(t), salt=CLICK_SALT)[1] for t in tokens}  # the page lists it too


def test_beyond_the_cap_counts_are_estimated_and_said_to_be(client, catalog, monkeypatch):  # noqa: F811
    monkeypatch.setattr(engine, "FACET_EXACT", 2)
    body = client.get("/api/v1/search", {"q": "绵阳市"}).json()
    assert body["facets_estimated"] and body["total"] == 6 and body["total_exact"]
    assert 4 <= sum(counts(body, "kind").values()) <= 8  # a sample of every third match, scaled to six
    filtered = client.get("/api/v1/search", {"q": "绵阳市", "department": "JTJ", "size": 1}).json()
    assert filtered["facets_estimated"]
    page = client.get("/datasets/", {"q": "绵阳市"}).content.decode()
    assert "抽样估算" in page and '<span class="count">约' in page


def test_a_document_keeps_its_facet_combination_up_to_date(client, catalog, user_with_role):  # noqa: F811
    parking = Dataset.objects.get(slug="parking")
    before = SearchDocument.objects.get(slug="parking").facet_set
    assert (before.kind, before.department_code, before.formats) == ("dataset", "JTJ", ["CSV"])
    services.dataset_update(
        by=user_with_role("operator"),
        dataset=parking,
        data={"update_frequency": "monthly"},
        expected_version=parking.version,
    )
    after = SearchDocument.objects.get(slug="parking").facet_set
    assert after.frequency == "monthly" and after.pk != before.pk
    assert FacetSet.objects.filter(pk=before.pk).exists()  # combinations are never changed, only added
    body = client.get("/api/v1/search", {"q": "停车"}).json()
    assert counts(body, "frequency") == {"monthly": 1}
