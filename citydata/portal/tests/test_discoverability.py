"""Discoverability (R7.2): sitemap.xml, robots.txt, and a dataset page's JSON-LD as Chromium reads it."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain
from citydata.portal import sitemaps

pytestmark = pytest.mark.django_db

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def make_datasets(department):
    """`n` datasets of JTJ, published on consecutive days unless `publish` is false."""
    counter = {"n": 0}

    def make(n: int, *, publish: bool = True, code: str = "JTJ") -> list[Dataset]:
        made = []
        for _ in range(n):
            i = counter["n"] = counter["n"] + 1
            dataset = services.dataset_create(
                by=None,
                department=department(code),
                slug=f"ds-{i:03d}",
                data={
                    "title": f"绵阳市停车场泊位信息{i}",
                    "description": "全市公共停车场的位置、泊位总数和收费标准，每日更新，供市民查询。",
                    "update_frequency": "daily",
                },
                domains=[Domain.objects.get_or_create(code="transport", defaults={"name": "交通出行"})[0]],
                fields=[services.FieldSpec("name", "停车场名称", description="名称", example="示例")],
                resources=[services.ResourceSpec("下载", "CSV", url=f"/files/{i}.csv")],
            )
            if publish:
                dataset = services.dataset_publish(by=None, dataset=dataset, when=START + dt.timedelta(days=i))
            made.append(dataset)
        return made

    return make


def fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return b"".join(response.streaming_content)


def entries(xml: bytes, tag: str) -> list[tuple[str, str | None]]:
    root = ET.fromstring(xml)  # noqa: S314 - the platform's own response, not untrusted input
    return [
        (item.findtext("sm:loc", namespaces=NS), item.findtext("sm:lastmod", namespaces=NS))
        for item in root.findall(f"sm:{tag}", NS)
    ]


def dataset_locs(client, sitemap_urls: list[str]) -> list[str]:
    found = []
    for url in sitemap_urls:
        found += [loc for loc, _ in entries(fetch(client, url.removeprefix("http://testserver")), "url")]
    return found


def test_index_lists_the_section_sitemaps_with_their_newest_change(client, make_datasets):
    make_datasets(3)
    index = entries(fetch(client, "/sitemap.xml"), "sitemap")
    assert [loc for loc, _ in index] == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-departments-1.xml",
        "http://testserver/sitemap-datasets-1.xml",
    ]
    newest = (START + dt.timedelta(days=3)).isoformat(timespec="seconds")
    assert all(lastmod == newest for _, lastmod in index)
    pages = entries(fetch(client, "/sitemap-pages.xml"), "url")
    assert [loc for loc, _ in pages] == [
        "http://testserver/",
        "http://testserver/datasets/",
        "http://testserver/progress/",
        "http://testserver/standards/",
    ]
    assert entries(fetch(client, "/sitemap-departments-1.xml"), "url") == [
        ("http://testserver/departments/JTJ/", newest)
    ]


def test_sections_list_every_published_dataset_once_split_at_the_page_limit(
    client, make_datasets, monkeypatch, user_with_role
):
    published = make_datasets(5)
    drafts = make_datasets(2, publish=False)
    withdrawn = services.dataset_withdraw(by=user_with_role("provider", "JTJ"), dataset=published[1], reason="停更")
    Dataset.objects.filter(pk=published[3].pk).update(last_data_update=START + dt.timedelta(days=30))
    monkeypatch.setattr(sitemaps, "URLS_PER_SITEMAP", 2)
    listed = [d for d in published if d.pk != withdrawn.pk]
    # pages go by primary key ranges, so a dataset keeps its page: page n holds keys 2n-1 and 2n
    expected_pages = sorted({(d.pk - 1) // 2 + 1 for d in listed})
    assert len(expected_pages) >= 2

    index = entries(fetch(client, "/sitemap.xml"), "sitemap")
    dataset_pages = [(loc, lastmod) for loc, lastmod in index if "sitemap-datasets-" in loc]
    assert [loc for loc, _ in dataset_pages] == [f"http://testserver/sitemap-datasets-{n}.xml" for n in expected_pages]
    sections = [entries(fetch(client, f"/sitemap-datasets-{n}.xml"), "url") for n in expected_pages]
    assert all(1 <= len(section) <= 2 for section in sections)
    locs = [loc for section in sections for loc, _ in section]
    assert sorted(locs) == sorted(f"http://testserver/datasets/{d.slug}/" for d in listed)  # each exactly once
    assert not {f"http://testserver/datasets/{d.slug}/" for d in [*drafts, withdrawn]} & set(locs)
    # lastmod: ISO 8601 with a time zone, the newer of the metadata and the data update
    lastmods = {loc: dt.datetime.fromisoformat(lastmod) for section in sections for loc, lastmod in section}
    assert all(value.tzinfo is not None for value in lastmods.values())
    assert lastmods[f"http://testserver/datasets/{published[3].slug}/"] == START + dt.timedelta(days=30)
    assert lastmods[f"http://testserver/datasets/{published[0].slug}/"] == START + dt.timedelta(days=1)
    # each index entry carries the newest change of its own page
    assert [dt.datetime.fromisoformat(m) for _, m in dataset_pages] == [
        max(lastmods[loc] for loc, _ in section) for section in sections
    ]
    assert client.get(f"/sitemap-datasets-{expected_pages[-1] + 5}.xml").status_code == 404
    assert client.get("/sitemap-datasets-0.xml").status_code == 404
    assert client.get("/sitemap-departments-99.xml").status_code == 404


def test_an_empty_catalog_still_has_a_valid_sitemap(client):
    index = entries(fetch(client, "/sitemap.xml"), "sitemap")
    assert "http://testserver/sitemap-datasets-1.xml" in [loc for loc, _ in index]
    assert entries(fetch(client, "/sitemap-datasets-1.xml"), "url") == []


def test_sitemap_and_robots_use_the_public_url_when_set(client, make_datasets, settings):
    settings.PUBLIC_URL = "https://data.example.gov.cn"
    make_datasets(1)
    assert "Sitemap: https://data.example.gov.cn/sitemap.xml" in client.get("/robots.txt").content.decode()
    index = entries(fetch(client, "/sitemap.xml"), "sitemap")
    assert all(loc.startswith("https://data.example.gov.cn/sitemap-") for loc, _ in index)
    assert dataset_locs(client, ["/sitemap-datasets-1.xml"]) == ["https://data.example.gov.cn/datasets/ds-001/"]


def test_robots_disallows_private_areas_allows_the_api_docs_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    for prefix in ("/manage/", "/console/", "/workspace/", "/security/", "/account/", "/admin/", "/api/"):
        assert f"Disallow: {prefix}" in lines
    assert "Allow: /api/v1/docs" in lines
    assert lines.index("Allow: /api/v1/docs") < lines.index("Disallow: /api/")  # for first-match crawlers
    assert "Disallow: /" not in lines and "Disallow: /datasets/" not in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def count_queries(client, urls: list[str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            fetch(client, url)  # the sections stream: their queries run while the body is read
    return len(queries)


def test_sitemap_queries_do_not_grow_with_the_number_of_datasets(client, make_datasets, department):
    urls = ["/sitemap.xml", "/sitemap-pages.xml", "/sitemap-departments-1.xml", "/sitemap-datasets-1.xml"]
    make_datasets(5)
    few = count_queries(client, urls)
    make_datasets(45, code="WJW")
    assert Dataset.objects.filter(status="published").count() == 50
    many = count_queries(client, urls)
    assert many == few
    assert few == 5  # index 2 (dataset pages, department pages), pages 1, departments 1, datasets 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_reads_the_dataset_json_ld_without_console_errors(live_server, browser, make_datasets):
    dataset = make_datasets(1)[0]
    Dataset.objects.filter(pk=dataset.pk).update(title="绵阳市停车场</script><script>alert(1)</script>")
    page = browser.new_page(locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.goto(f"{live_server.url}/datasets/{dataset.slug}/")
    data = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert data["@type"] == "Dataset"
    assert data["name"] == "绵阳市停车场</script><script>alert(1)</script>"
    assert data["url"] == f"{live_server.url}/datasets/{dataset.slug}/"
    assert data["distribution"][0]["contentUrl"] == f"{live_server.url}/files/1.csv"
    assert data["creator"]["@type"] == "GovernmentOrganization"
    assert page.locator("link[rel=canonical]").get_attribute("href") == data["url"]
    assert page.locator('meta[property="og:title"]').get_attribute("content") == data["name"]
    assert page.locator("script").count() == 2  # site.js and the JSON-LD: the title added none
    assert problems == []
