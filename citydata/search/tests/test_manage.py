"""Operators' search page: synonyms edited in the UI (validated, audited, used at once) and query analytics
that show what people looked for and did not find."""

import pytest

from citydata.search.models import SearchQuery, Synonym
from citydata.search.tests.test_search import catalog, committed_catalog, slugs  # noqa: F401 - the shared fixtures
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_only_operators_manage_search(client, client_for):
    assert client.get("/manage/search/").status_code == 302
    assert client_for("provider", "JTJ").get("/manage/search/").status_code == 403
    assert client_for("operator").get("/manage/search/").status_code == 200


def test_synonyms_are_added_edited_and_removed_in_the_page(client, client_for, catalog):  # noqa: F811
    operator = client_for("operator")
    assert slugs(client, "车库") == []
    response = operator.post("/manage/search/", {"terms": "停车场，车库", "active": "1"})
    assert response.status_code == 302
    added = Synonym.objects.get(terms="停车场,车库")
    assert slugs(client, "车库") == ["parking"]  # at once
    assert AuditEvent.objects.filter(action="search.synonym_save").exists()
    operator.post(f"/manage/search/synonyms/{added.pk}/", {"terms": "停车场,车库"})  # unticked: inactive
    assert slugs(client, "车库") == []
    operator.post(f"/manage/search/synonyms/{added.pk}/", {"delete": "1"})
    assert not Synonym.objects.filter(pk=added.pk).exists()


@pytest.mark.parametrize(
    ("terms", "message"),
    [("车库", "至少填写两个词"), ("停车场," + "车库" * 11, "每个词不超过 20 个字"), ("公交,公共汽车,公车", "已经存在")],
)
def test_bad_synonyms_are_refused_with_the_reason(client_for, catalog, terms, message):  # noqa: F811
    Synonym.objects.get_or_create(terms="公交,公共汽车,公车")
    response = client_for("operator").post("/manage/search/", {"terms": terms, "active": "1"})
    assert response.status_code == 400 and message in response.content.decode()
    assert terms in response.content.decode()  # what was typed stays in the form


def test_searches_are_logged_and_zero_result_ones_stand_out(client, client_for, catalog):  # noqa: F811
    client.get("/api/v1/search", {"q": "公交实时"})
    client.get("/datasets/", {"q": "公交实时"})
    client.get("/datasets/", {"q": "共享单车"})
    client.get("/api/v1/search", {"q": "公交实时", "cursor": "Mg"})  # a next page is not a new search
    assert list(SearchQuery.objects.order_by("id").values_list("text", "results", "source")) == [
        ("公交实时", 1, "api"),
        ("公交实时", 1, "page"),
        ("共享单车", 0, "page"),
    ]
    page = client_for("operator").get("/manage/search/").content.decode()
    zero = page.split("<h3>没有结果的搜索</h3>")[1]
    assert "共享单车" in zero and "公交实时" not in zero
    # an empty result suggests what others found
    empty = client.get("/datasets/", {"q": "共享单车"}).content.decode()
    assert "大家常搜" in empty and "公交实时" in empty


def test_the_catalog_page_marks_the_words_and_says_how_it_read_a_typo(client, catalog):  # noqa: F811
    page = client.get("/datasets/", {"q": "医院床味"}).content.decode()
    assert "已按“医院床位”搜索" in page
    assert "<mark>医院</mark>" in page and "<mark>床位</mark>" in page
    hostile = client.get("/datasets/", {"q": "<script>alert(1)</script>"})
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.content.decode()


def test_suggestions_as_you_type_are_marked_titles(client, catalog):  # noqa: F811
    fragment = client.get("/search/suggest/", {"q": "gongjiao"}).content.decode()
    assert "/datasets/bus-live/" in fragment and "/datasets/bus-stops/" in fragment
    assert "<html" not in fragment  # a fragment for htmx, not a page
    assert client.get("/search/suggest/", {"q": ""}).content.decode().strip() == ""
    assert "<mark>医院</mark>" in client.get("/search/suggest/", {"q": "医院"}).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_catalog_search_box_suggests_while_typing_in_chromium(live_server, browser, committed_catalog):  # noqa: F811
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/datasets/")
    page.locator("#q").press_sequentially("gongjiao", delay=30)
    page.wait_for_selector("#suggestions .suggestions a[href='/datasets/bus-live/']")
    page.click("#suggestions a[href='/datasets/bus-live/']")
    page.wait_for_url("**/datasets/bus-live/")
    assert errors == []
