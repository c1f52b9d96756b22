"""Chinese search: analysis, the way people ask (synonyms, pinyin, typos, traditional characters, mixed
English), the index following the catalog, the API with facets, and the catalog page. The same assertions
run on SQLite (FTS5) and PostgreSQL (tsvector), so passing on both means both backends rank alike."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from django.core import signing

from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain
from citydata.search import analysis, engine
from citydata.search.models import SearchDocument, Synonym
from citydata.search.services import CLICK_SALT
from conftest import data_shared_by_the_module, get_department

pytestmark = pytest.mark.django_db

SPECS = [
    ("bus-live", "JTJ", "transport", "绵阳市地面公交实时位置", "全市公交车辆的实时位置和速度。", ["公交", "实时"]),
    ("bus-stops", "JTJ", "transport", "涪城区公交站点信息", "公交站点名称、位置和途经线路。", ["公交"]),
    ("parking", "JTJ", "transport", "绵阳市公共停车场信息", "停车场位置、泊位数和收费标准。", ["停车"]),
    ("beds", "WJW", "health", "绵阳市医院实时床位", "各医院病区的空余床位，每 5 分钟更新。", ["医疗"]),
    ("clinics", "WJW", "health", "涪城区医疗机构基本信息", "医疗机构名称、地址、等级和联系电话。", ["医疗"]),
    ("credit", "SCJGJ", "credit", "绵阳市企业信用信息", "企业的信用评价、行政许可和行政处罚信息。", ["信用"]),
    ("tax", "SWJ", "credit", "绵阳市纳税信用A级纳税人名单", "纳税信用等级为 A 的纳税人。", ["纳税"]),
    ("air", "HBJ", "ecology", "绵阳市空气质量实时监测", "各站点 PM2.5、PM10 和 AQI 的小时数据。", ["空气"]),
]


def build_catalog():
    """The SPECS published and indexed, and three synonym groups."""
    for i, (slug, dept, domain, title, description, tags) in enumerate(SPECS):
        dataset = services.dataset_create(
            by=None,
            department=get_department(dept),
            slug=slug,
            data={
                "title": title,
                "description": description + "由主管部门按规定维护和更新，欢迎社会各界开发利用。",
                "update_frequency": "daily",
                "tags": tags,
            },
            domains=[Domain.objects.get_or_create(code=domain, defaults={"name": domain, "is_priority": True})[0]],
            fields=[services.FieldSpec("org_name", "机构名称", description="名称", example="示例")],
            resources=[services.ResourceSpec(f"r{i}", "CSV")],
        )
        services.dataset_publish(by=None, dataset=dataset, when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    for terms in ("公交,公共汽车,公车", "医院,医疗机构", "企业,法人"):
        Synonym.objects.get_or_create(terms=terms)
    engine.cache.clear()


@pytest.fixture(scope="module")
def catalog(django_db_setup, django_db_blocker, tmp_path_factory):
    """The catalog, built once for a module's tests (see the root conftest's data_shared_by_the_module)."""
    with data_shared_by_the_module(django_db_blocker, tmp_path_factory):
        build_catalog()
        yield


@pytest.fixture
def committed_catalog(db):
    """The catalog built for one test, for transactional tests: a live server reads only what is committed."""
    build_catalog()


def slugs(client, q: str, **params) -> list[str]:
    response = client.get("/api/v1/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["items"]]


def page_slugs(client, q: str) -> list[str]:
    """The datasets the catalog page lists for `q`, in order (read from the signed result links)."""
    html = client.get("/datasets/", {"q": q}).content.decode()
    tokens = re.findall(r'<h2><a href="/search/click/\?t=([^"]+)"', html)
    return [signing.loads(unquote(t), salt=CLICK_SALT)[1] for t in tokens]


def test_analysis_folds_width_script_and_case_and_cuts_words():
    assert analysis.fold("ＰＭ２.５ 醫院") == "pm2.5 医院"
    assert "公交" in analysis.words("地面公交实时位置") and "实时" in analysis.words("地面公交实时位置")
    assert analysis.words("我想查一下公交") == ["公交"]  # colloquial noise words are stop words
    assert analysis.pinyin_terms(["公交"]) == ["gongjiao", "gj"]
    assert analysis.bigrams("医院床位") == ["医院", "院床", "床位"]
    assert analysis.words("2023年 PM2.5") == ["2023", "年", "pm2", "5"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("公交实时", "bus-live"),
        ("公共汽车位置", "bus-live"),  # a synonym and a word of the title
        ("医院床位", "beds"),
        ("企业信用信息", "credit"),
        ("公交实事", "bus-live"),  # one-character typo
        ("醫院床位", "beds"),  # traditional characters
        ("ＰＭ２.５", "air"),  # full-width English and digits
        ("PM2.5 空气", "air"),
        ("ss", None),  # initials alone too short to mean anything
    ],
)
def test_people_find_the_obvious_dataset_in_the_top_three(client, catalog, query, expected):
    found = slugs(client, query)
    if expected is None:
        return
    assert expected in found[:3], found


def test_pinyin_and_initials_find_chinese_titles(client, catalog):
    assert set(slugs(client, "gongjiao")[:2]) == {"bus-live", "bus-stops"}
    assert slugs(client, "yiyuan chuangwei")[0] == "beds"
    assert "parking" in slugs(client, "tcc")  # 停车场 by its initials
    # runs of words typed without spaces, as initials or full pinyin
    assert slugs(client, "gjss")[0] == "bus-live" and slugs(client, "gongjiaoshishi")[0] == "bus-live"
    # pinyin reaches the Chinese word and its synonyms: yiyuan (医院) also finds 医疗机构
    assert {"beds", "clinics"} <= set(slugs(client, "yiyuan"))


def test_ranking_is_the_documented_formula_and_the_same_on_every_backend(client, catalog):
    results = engine.search("公交实时")
    assert [h.document.slug for h in results.hits] == ["bus-live"]
    top = results.hits[0]
    assert top.parts["短语"] == 8.0 and top.score == round(sum(top.parts.values()), 3)
    # the order of a broader query is fixed by the formula alone, so both databases give this list:
    # 公交 is a larger share of 绵阳市地面公交实时位置's title words than of 涪城区公交站点信息's
    hits = engine.search("公交").hits
    assert [h.document.slug for h in hits] == slugs(client, "公交") == ["bus-live", "bus-stops"]
    assert hits[0].parts["标题覆盖"] > hits[1].parts["标题覆盖"]
    scores = {h.document.slug: h.score for h in engine.search("信用").hits}
    assert set(scores) == {"credit", "tax"} and scores["credit"] > scores["tax"]  # 信用 in tags and title


def test_typos_are_corrected_and_said(client, catalog):
    body = client.get("/api/v1/search", {"q": "医院床味"}).json()
    assert body["items"][0]["slug"] == "beds" and body["did_you_mean"] == "医院床位"


def test_nothing_found_is_an_empty_answer_and_no_input_breaks_the_query(client, catalog):
    assert slugs(client, "完全无关的词语组合") == []
    hostile_queries = [
        '"',
        "公交 AND OR NOT",
        "NEAR(公交 实时)",
        "公交*",
        "title:公交",
        "\\",
        "'; DROP TABLE x;--",
        "(((",
    ]
    for hostile in hostile_queries:
        assert client.get("/api/v1/search", {"q": hostile}).status_code == 200, hostile
    missing = client.get("/api/v1/search", {"q": "  "})
    assert missing.status_code == 400 and missing.json()["details"]["parameter"] == "q"
    assert client.get("/api/v1/search", {"q": "公交", "size": 500}).status_code == 400


def test_facets_count_the_matches_and_filters_narrow_them(client, catalog):
    body = client.get("/api/v1/search", {"q": "信息"}).json()
    departments = {f["value"]: f["count"] for f in body["facets"]["department"]}
    assert departments["JTJ"] >= 2 and departments["WJW"] >= 1
    narrowed = client.get("/api/v1/search", {"q": "信息", "department": "jtj"}).json()
    assert {i["department"]["code"] for i in narrowed["items"]} == {"JTJ"}
    # a facet ignores its own filter, so the other departments still show their counts
    assert {f["value"] for f in narrowed["facets"]["department"]} == set(departments)


def test_paging_visits_every_result_once(client, catalog):
    seen, cursor = [], None
    while True:
        body = client.get("/api/v1/search", {"q": "绵阳市", "size": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["slug"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == body["total"] == 6


def test_explain_is_for_operators(client, client_for, catalog):
    assert client.get("/api/v1/search", {"q": "公交", "explain": "true"}).status_code == 403
    body = client_for("operator").get("/api/v1/search", {"q": "公交", "explain": "true"}).json()
    assert "词:公交" in body["items"][0]["explain"]


def test_the_index_follows_the_catalog(client, catalog, user_with_role):
    staff = user_with_role("provider", "JTJ")
    bus = Dataset.objects.get(slug="bus-live")
    services.dataset_update(
        by=staff, dataset=bus, data={"title": "绵阳市公交车辆GPS轨迹"}, expected_version=bus.version
    )
    assert "bus-live" in slugs(client, "轨迹") and "bus-live" not in slugs(client, "地面")  # only the old title
    services.dataset_withdraw(by=staff, dataset=Dataset.objects.get(slug="bus-live"), reason="数据源调整，暂停开放")
    assert "bus-live" not in slugs(client, "公交")
    assert not SearchDocument.objects.filter(slug="bus-live").exists()


def test_operators_synonyms_apply_at_once(client, catalog):
    assert slugs(client, "泊位") == ["parking"]  # in the description
    assert slugs(client, "车库") == []
    Synonym.objects.create(terms="停车场,车库")
    assert slugs(client, "车库") == ["parking"]


def test_catalog_pages_rank_by_relevance_when_searching(client, catalog):
    assert page_slugs(client, "公交实时") == ["bus-live"]  # result links go through the click counter
    listed = client.get("/api/v1/datasets", {"q": "公共汽车位置"}).json()["items"]
    assert listed[0]["slug"] == "bus-live"


def test_changes_are_indexed_by_a_task_after_commit(
    catalog, django_capture_on_commit_callbacks, monkeypatch, user_with_role
):
    from citydata.search import signals, tasks

    real = tasks.index_documents
    queued: list[tuple[str, list[int]]] = []

    class Recorder:
        def enqueue(self, kind, ids):
            queued.append((kind, ids))

    monkeypatch.setattr(signals, "inline", False)
    monkeypatch.setattr(tasks, "index_documents", Recorder())
    parking = Dataset.objects.get(slug="parking")
    staff = user_with_role("provider", "JTJ")
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_update(
            by=staff, dataset=parking, data={"title": "绵阳市停车泊位"}, expected_version=parking.version
        )
    assert queued == [("dataset", [parking.pk])]  # one task for the transaction, not one per save
    assert SearchDocument.objects.get(slug="parking").title == "绵阳市公共停车场信息"  # not yet: the task does it
    real.call("dataset", [parking.pk])
    assert SearchDocument.objects.get(slug="parking").title == "绵阳市停车泊位"
