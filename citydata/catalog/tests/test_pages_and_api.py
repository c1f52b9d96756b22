import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citydata.catalog import services
from citydata.catalog.models import Domain
from conftest import data_shared_by_the_module, get_department

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def catalog(django_db_setup, django_db_blocker, tmp_path_factory):
    """A small published catalog over two departments and three domains, built once for the module's tests (see the
    root conftest's data_shared_by_the_module)."""
    with data_shared_by_the_module(django_db_blocker, tmp_path_factory):
        yield _catalog()


def _catalog():
    made = []
    specs = [
        ("JTJ", "transport", "绵阳市地面公交实时位置", "realtime", "open", ("CSV", "JSON")),
        ("JTJ", "transport", "绵阳市停车场泊位信息", "daily", "open", ("CSV",)),
        ("WJW", "health", "绵阳市医疗机构基本信息", "monthly", "open", ("XLSX",)),
        ("WJW", "epidemic", "绵阳市病例详情（脱敏汇总）", "daily", "conditional", ("JSON",)),
    ]
    for i in range(30):
        code, domain, title, freq, open_type, formats = specs[i % len(specs)]
        dataset = services.dataset_create(
            by=None,
            department=get_department(code),
            slug=f"test-{i:02d}",
            data={
                "title": f"{title}{i}",
                "description": f"{title}：名称、位置和联系方式，按月更新，供市民查询。",
                "update_frequency": freq,
                "open_type": open_type,
            },
            domains=[Domain.objects.get(code=domain)],
            fields=[services.FieldSpec("org_name", "机构名称", description="名称", example="示例")],
            resources=[services.ResourceSpec(f"r{i}", fmt) for fmt in formats],
        )
        services.dataset_publish(
            by=None, dataset=dataset, when=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i)
        )
        made.append(dataset)
    draft = services.dataset_create(
        by=None,
        department=get_department("JTJ"),
        slug="jtj-draft",
        data={"title": "未发布的草稿", "description": "草稿", "update_frequency": "yearly"},
        domains=[Domain.objects.get(code="transport")],
    )
    return made, draft


def test_list_pages_newest_first_through_every_dataset(client, catalog):
    seen, url = [], "/api/v1/datasets?limit=7"
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["items"]]
        url = f"/api/v1/datasets?limit=7&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert seen == [f"test-{i:02d}" for i in reversed(range(30))]


def test_facets_count_the_result_set_and_ignore_their_own_filter(client, catalog):
    body = client.get("/api/v1/datasets?domain=transport").json()
    assert {f["value"]: f["count"] for f in body["facets"]["domain"]} == {"transport": 16, "health": 7, "epidemic": 7}
    assert {f["value"]: f["count"] for f in body["facets"]["department"]} == {"JTJ": 16}
    assert {f["value"]: f["count"] for f in body["facets"]["format"]} == {"CSV": 16, "JSON": 8}
    assert len(body["items"]) == 16 and all(i["department"]["code"] == "JTJ" for i in body["items"])


def test_filters_combine(client, catalog):
    body = client.get("/api/v1/datasets?department=WJW&open_type=conditional&limit=100").json()
    assert len(body["items"]) == 7 and {i["open_type"] for i in body["items"]} == {"conditional"}
    assert client.get("/api/v1/datasets?format=xlsx&limit=100").json()["items"][0]["formats"] == ["XLSX"]


def test_sorts(client, catalog):
    from citydata.catalog.models import Dataset

    Dataset.objects.filter(slug="test-03").update(download_count=999)
    assert client.get("/api/v1/datasets?sort=downloads").json()["items"][0]["slug"] == "test-03"
    assert client.get("/api/v1/datasets?sort=popular").status_code == 422


def test_drafts_are_invisible_to_the_public_and_other_departments(client, client_for, catalog):
    assert client.get("/api/v1/datasets/jtj-draft").status_code == 404
    assert client.get("/datasets/jtj-draft/").status_code == 404
    assert "jtj-draft" not in str(client.get("/api/v1/datasets?limit=100").json())
    assert client_for("provider", "WJW").get("/datasets/jtj-draft/").status_code == 404
    assert client_for("provider", "JTJ").get("/datasets/jtj-draft/").status_code == 200


def test_dataset_page_shows_the_field_table_and_counts_the_view(client, catalog):
    page = client.get("/datasets/test-00/").content.decode()
    assert "地面公交实时位置" in page and "机构名称" in page and "org_name" in page
    assert client.get("/api/v1/datasets/test-00").json()["view_count"] == 1


def test_catalog_page_facets_and_sort_links(client, catalog):
    page = client.get("/datasets/?domain=health").content.decode()
    assert "医疗机构基本信息" in page and "地面公交" not in page.split('class="results"')[1]
    assert "sort=downloads" in page and "下一页" not in page


def test_bad_cursor_and_limit_are_4xx(client, catalog):
    assert client.get("/api/v1/datasets?cursor=garbage").status_code == 400
    assert client.get("/api/v1/datasets?cursor=WyJ4IiwgMV0").status_code == 400  # ["x", 1]
    assert client.get("/api/v1/datasets?limit=1000").status_code == 400
    assert client.get("/datasets/?cursor=garbage").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/datasets?limit={n}", "/datasets/?limit={n}"])
def test_list_query_count_does_not_depend_on_page_size(client, catalog, path):
    counts = []
    for n in (3, 25):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path.format(n=n)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_domains_endpoint_counts(client, catalog):
    counts = {d["code"]: d["count"] for d in client.get("/api/v1/domains").json()}
    assert counts["transport"] == 16 and counts["finance"] == 0
