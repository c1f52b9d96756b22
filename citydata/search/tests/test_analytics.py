"""Query analytics: result links count clicks by position through a signed redirect (page and API), operators
read click-through and clicks by position, and thin searches offer related searches."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import signing

from citydata.search import services
from citydata.search.models import SearchClick, SearchQuery
from citydata.search.tests.test_search import catalog, slugs  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_api_results_link_through_the_click_counter_with_their_position(client, catalog):  # noqa: F811
    body = client.get("/api/v1/search", {"q": "信息", "size": 2}).json()
    logged = SearchQuery.objects.get(text="信息", source="api")
    second = body["items"][1]
    response = client.get(_local(second["click_url"]))
    assert response.status_code == 302 and response["Location"] == f"/datasets/{second['slug']}/"
    click = SearchClick.objects.get()
    assert (click.query, click.slug, click.position, click.source) == (logged, second["slug"], 2, "api")
    # the next page is not a new search: its clicks keep their position in the ranking
    page_two = client.get("/api/v1/search", {"q": "信息", "size": 2, "cursor": body["next_cursor"]}).json()
    client.get(_local(page_two["items"][0]["click_url"]))
    assert SearchClick.objects.latest("id").position == 3
    assert SearchQuery.objects.filter(text="信息").count() == 1


def test_page_results_link_through_the_click_counter_without_javascript(client, catalog):  # noqa: F811
    html = client.get("/datasets/", {"q": "公交"}).content.decode()
    links = re.findall(r'<h2><a href="(/search/click/\?t=[^"]+)"', html)
    assert len(links) == 2 and "<script>" not in html
    response = client.get(links[0].replace("&amp;", "&"))
    assert response.status_code == 302 and response["Location"] == "/datasets/bus-live/"
    assert SearchClick.objects.get().query.source == "page"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_click_links_cannot_be_forged_or_sent_elsewhere(client, catalog):  # noqa: F811
    forged = signing.dumps([None, "bus-live", 1, "p"], salt="another-salt")
    assert client.get("/search/click/", {"t": forged}).status_code == 400
    assert client.get("/search/click/", {"t": "https://evil.example/"}).status_code == 400
    assert client.get("/search/click/").status_code == 400
    assert not SearchClick.objects.exists()
    # the signed value names a dataset, never an address: the redirect only leads to a dataset page
    token = services.click_token(query_id=None, slug="//evil.example", position=1, source="page")
    assert client.get("/search/click/", {"t": token}).status_code == 400


def test_an_old_link_still_leads_to_its_dataset_but_is_not_counted(client, catalog, monkeypatch):  # noqa: F811
    token = services.click_token(query_id=None, slug="parking", position=1, source="page")
    monkeypatch.setattr(services, "CLICK_MAX_AGE", -1)
    response = client.get("/search/click/", {"t": token})
    assert response.status_code == 302 and response["Location"] == "/datasets/parking/"
    assert not SearchClick.objects.exists()


def test_operators_see_click_through_by_position_and_zero_result_queries(client, client_for, catalog):  # noqa: F811
    for _ in range(2):
        body = client.get("/api/v1/search", {"q": "公交"}).json()
    client.get(_local(body["items"][0]["click_url"]))
    client.get(_local(body["items"][1]["click_url"]))
    client.get("/api/v1/search", {"q": "量子计算机"})
    operator = client_for("operator")
    html = operator.get("/manage/search/").content.decode()
    assert "按位置的点击" in html and 'id="clicks"' in html
    from citydata.search import queries

    report = queries.query_report()
    top = {row["text"]: row for row in report["top"]}
    assert top["公交"]["n"] == 2 and top["公交"]["clicked"] == 1 and top["公交"]["ctr"] == 0.5
    assert [p["clicks"] for p in report["positions"][:3]] == [1, 1, 0]
    assert [z["text"] for z in report["zero"]] == ["量子计算机"]
    # zero-result searches still feed the engagement app's data-request backlog
    assert "量子计算机" in operator.get("/manage/feedback/backlog/").content.decode()


def test_empty_and_thin_searches_offer_related_searches(client, catalog):  # noqa: F811
    client.get("/api/v1/search", {"q": "医院床位"})  # someone found something with a shared word
    body = client.get("/api/v1/search", {"q": "医院挂号"}).json()
    assert body["total"] < 3 and "医院床位" in body["related"]
    empty = client.get("/api/v1/search", {"q": "停车收费二维码"}).json()
    assert empty["items"] == [] or empty["partial"]
    client.get("/datasets/", {"q": "公交站点"})
    page = client.get("/datasets/", {"q": "公交卡余额"}).content.decode()
    assert "相关搜索" in page and 'href="?q=%E5%85%AC%E4%BA%A4%E7%AB%99%E7%82%B9"' in page
    assert client.get("/api/v1/search", {"q": "绵阳市"}).json()["related"] == []  # found enough
