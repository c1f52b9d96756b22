"""The index beyond datasets: the data-opening standard's page and rules are documents of kind "standard", found by
the same analysis, re-indexed by a task when a rule changes, shown with their label and anchor on the catalog page,
in suggestions and in the API, counted in the kind facet only, and kept out of dataset-only places."""

import importlib
import re
from urllib.parse import unquote, urlsplit

import pytest
from django.core import signing

from citydata.catalog import services as catalog_services
from citydata.catalog.models import StandardRule
from citydata.search import index, sources
from citydata.search.models import SearchClick, SearchDocument, Synonym
from citydata.search.services import CLICK_SALT
from citydata.search.tests.test_search import committed_catalog, slugs  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def standards(committed_catalog):  # noqa: F811
    """The test catalog's datasets and the standard the migrations seed, indexed as a full rebuild does it. (A
    browser test's database is emptied after it, seeded rows too, so they are put back when missing; the catalog is
    built for each test because one of them is such a browser test.)"""
    seed = importlib.import_module("citydata.catalog.migrations.0005_seed_standard")
    for position, (code, kind, params, severity, description) in enumerate(seed.RULES, start=1):
        StandardRule.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "params": params, "severity": severity, "description": description},
            position=position,
        )
    index.reindex_all()


def results(client, q: str, **params) -> list[dict]:
    response = client.get("/api/v1/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_the_standard_is_a_document_per_rule_and_one_for_its_page(standards):
    rules = list(StandardRule.objects.filter(enabled=True))
    documents = SearchDocument.objects.filter(kind="standard")
    assert documents.count() == len(rules) + 1
    page = documents.get(object_id=sources.STANDARD_PAGE)
    assert (page.slug, page.title) == ("", "数据开放标准")
    formats = documents.get(slug="formats")
    assert formats.title == StandardRule.objects.get(code="formats").description
    assert formats.summary == "数据开放标准 · 阻止发布 · 机器可读格式"
    assert formats.department_code == "" and formats.domains == [] and formats.facet_set_id is not None
    assert SearchDocument.objects.filter(kind="dataset").count() == 8  # datasets are indexed as before


def test_rules_are_found_by_the_same_chinese_analysis(client, standards):
    assert results(client, "机器可读")[0]["slug"] == "formats"  # the rule kind's name is a tag
    assert results(client, "jiqi kedu")[0]["slug"] == "formats"  # pinyin
    assert results(client, "摘要")[0]["slug"] == "description"  # a word of the rule's wording
    assert results(client, "jqkd")[0]["slug"] == "formats"  # initials of 机器可读, typed without spaces
    first = results(client, "數據開放標準")[0]  # traditional characters find the page
    assert (first["kind"], first["slug"], first["title"]) == ("standard", "", "数据开放标准")
    Synonym.objects.create(terms="摘要,简介")
    assert results(client, "简介")[0]["slug"] == "description"
    # datasets still come first for what they are about
    assert slugs(client, "公交实时")[0] == "bus-live"


def test_a_changed_rule_is_reindexed_by_a_task_after_commit(
    client, standards, django_capture_on_commit_callbacks, monkeypatch, user_with_role
):
    from citydata.search import signals, tasks

    queued: list[tuple[str, list[int]]] = []

    class Recorder:
        def enqueue(self, kind, ids):
            queued.append((kind, ids))

    real = tasks.index_documents
    monkeypatch.setattr(signals, "inline", False)
    monkeypatch.setattr(tasks, "index_documents", Recorder())
    rule = StandardRule.objects.get(code="formats")
    operator = user_with_role("operator")
    data = {"description": "至少提供一种开放格式，例如逗号分隔值文件。", "severity": "blocking", "enabled": True}
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.standard_rule_save(by=operator, rule=rule, data={**data, "params": rule.params})
    assert queued == [("standard", [rule.pk])]  # the service's queryset update sends no model signal
    assert results(client, "逗号分隔") == []  # not yet: the task does it
    real.call("standard", [rule.pk])
    assert results(client, "逗号分隔")[0]["slug"] == "formats"
    # a disabled rule leaves the index; a new one joins it
    monkeypatch.setattr(signals, "inline", True)
    catalog_services.standard_rule_save(by=operator, rule=rule, data={**data, "enabled": False, "params": {}})
    assert results(client, "逗号分隔") == []
    catalog_services.standard_rule_save(
        by=operator,
        data={
            "code": "tags",
            "kind": "description",
            "description": "标签用领域通用词汇，不超过五个。",
            "severity": "warning",
            "enabled": True,
            "params": {"min_length": 10},
        },
    )
    assert results(client, "标签 词汇")[0]["slug"] == "tags"


def test_the_api_returns_rules_with_their_kind_and_anchor(client, standards):
    body = client.get("/api/v1/search", {"q": "格式"}).json()
    rule = next(item for item in body["items"] if item["kind"] == "standard" and item["slug"] == "formats")
    assert rule["slug"] == "formats" and rule["url"] == "http://testserver/standards/#rule-formats"
    assert rule["department"] == {"code": "", "name": ""} and rule["domains"] == [] and rule["updated"] is None
    assert "<mark>格式</mark>" in rule["highlight"]["title"]
    response = client.get(urlsplit(rule["click_url"]).path + "?" + urlsplit(rule["click_url"]).query)
    assert response.status_code == 302 and response["Location"] == "/standards/#rule-formats"
    assert SearchClick.objects.get().kind == "standard"
    # datasets keep every field they had
    bus = results(client, "公交实时")[0]
    assert bus["kind"] == "dataset" and bus["department"]["code"] == "JTJ" and bus["formats"] == ["CSV"]
    assert bus["url"] == "http://testserver/datasets/bus-live/"


def test_facets_count_rules_only_as_a_kind_and_filters_mean_datasets(client, standards):
    body = client.get("/api/v1/search", {"q": "名称"}).json()  # 名称 is in the rules and in every field title
    kinds = {f["value"]: f["count"] for f in body["facets"]["kind"]}
    assert kinds["standard"] >= 3 and kinds["dataset"] == 8
    assert sum(f["count"] for f in body["facets"]["open_type"]) == 8  # datasets only
    assert "" not in {f["value"] for f in body["facets"]["department"]}
    assert body["total"] == kinds["standard"] + kinds["dataset"]
    only_datasets = client.get("/api/v1/search", {"q": "名称", "kind": "dataset"}).json()
    assert {i["kind"] for i in only_datasets["items"]} == {"dataset"} and only_datasets["total"] == 8
    only_rules = results(client, "名称", kind="standard")
    assert only_rules and {i["kind"] for i in only_rules} == {"standard"}
    filtered = results(client, "名称", department="JTJ")
    assert {(i["kind"], i["department"]["code"]) for i in filtered} == {("dataset", "JTJ")}
    assert {i["kind"] for i in results(client, "名称", sort="views")} == {"dataset"}  # rules have no views
    unknown = client.get("/api/v1/search", {"q": "名称", "kind": "app"})
    assert unknown.status_code == 400 and unknown.json()["details"]["parameter"] == "kind"


def test_the_catalog_page_shows_a_rule_with_its_label_and_links_to_its_anchor(client, standards):
    html = client.get("/datasets/", {"q": "机器可读"}).content.decode()
    card = re.search(r'<article class="card result result-standard">(.*?)</article>', html, re.S)
    assert card and "标准规范" in card.group(1) and "阻止发布" in card.group(1)
    token = re.search(r'href="/search/click/\?t=([^"]+)"', card.group(1)).group(1)
    assert signing.loads(unquote(token), salt=CLICK_SALT)[1:] == ["formats", 1, "p", "standard"]
    response = client.get("/search/click/", {"t": unquote(token)})
    assert response.status_code == 302 and response["Location"] == "/standards/#rule-formats"
    assert 'id="rule-formats"' in client.get("/standards/").content.decode()
    # a filtered search lists datasets only, and the dataset API never lists rules
    assert "result-standard" not in client.get("/datasets/", {"q": "格式", "format": "CSV"}).content.decode()
    listed = client.get("/api/v1/datasets", {"q": "机器可读"}).json()["items"]
    assert all(item["slug"] != "formats" for item in listed)
    suggestions = client.get("/search/suggest/", {"q": "机器可读"}).content.decode()
    assert 'href="/standards/#rule-formats"' in suggestions and "标准规范" in suggestions


def test_click_links_of_other_kinds_cannot_lead_elsewhere(client, standards):
    from citydata.search import services

    for slug in ("../admin", "a b", "//evil.example", "Formats"):
        token = services.click_token(query_id=None, slug=slug, position=1, source="page", kind="standard")
        assert client.get("/search/click/", {"t": token}).status_code == 400, slug
    unknown = services.click_token(query_id=None, slug="formats", position=1, source="page", kind="app")
    assert client.get("/search/click/", {"t": unknown}).status_code == 400
    assert not SearchClick.objects.exists()


def test_sitemap_and_dataset_places_list_no_rules(client, standards):
    def body(path: str) -> str:
        response = client.get(path)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return content.decode()

    for loc in re.findall(r"<loc>([^<]+)</loc>", body("/sitemap.xml")):
        assert "#rule-" not in body(urlsplit(loc).path)  # the sitemap reads the catalog, not the index
    assert "formats" not in {d["slug"] for d in client.get("/api/v1/datasets").json()["items"]}


@pytest.mark.django_db(transaction=True)
def test_a_rule_found_in_chromium_opens_at_its_anchor(live_server, browser, standards):
    page = browser.new_page(locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/datasets/?q=" + "机器可读")
    card = page.locator("article.result-standard").first
    assert "标准规范" in card.inner_text()
    card.locator("h2 a").click()
    page.wait_for_url("**/standards/#rule-formats")
    assert page.locator("#rule-formats").is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "rule-formats"
    assert errors == []
