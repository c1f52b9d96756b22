"""What search engines read on the catalog pages: schema.org JSON-LD, Open Graph tags and canonical links."""

import datetime as dt
import json
import re

import pytest

from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain
from citydata.catalog.seo import jsonld_script_content

pytestmark = pytest.mark.django_db

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def publish(department, slug: str, title: str, **data) -> Dataset:
    dataset = services.dataset_create(
        by=None,
        department=department,
        slug=slug,
        data={
            "title": title,
            "description": "全市地面公交车辆的实时位置、线路和速度，每 30 秒更新一次，供市民出行查询。",
            "update_frequency": "realtime",
            **data,
        },
        domains=[Domain.objects.get(code="transport")],
        fields=[services.FieldSpec("line", "线路", description="公交线路名称", example="1路")],
        resources=[
            services.ResourceSpec("数据查询接口", "API", kind="api", url=f"/api/v1/datasets/{slug}/records"),
            services.ResourceSpec("全量下载", "csv", url=f"/api/v1/datasets/{slug}/records?_format=csv"),
            services.ResourceSpec("站点图层", "GeoJSON", url="https://gis.example.gov.cn/bus/stops.geojson"),
            services.ResourceSpec("纸质台账扫描件", "PDF"),  # no address: nothing to download
        ],
    )
    return services.dataset_publish(by=None, dataset=dataset, when=dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC))


@pytest.fixture
def bus(department):
    dataset = publish(
        department("JTJ", "绵阳市交通运输局"),
        "bus",
        "绵阳市地面公交实时位置",
        tags=["公交", "实时"],
        temporal_start=dt.date(2024, 1, 1),
        temporal_end=dt.date(2025, 12, 31),
        spatial_coverage="绵阳市主城区",
    )
    Dataset.objects.filter(pk=dataset.pk).update(last_data_update=dt.datetime(2025, 6, 1, 4, tzinfo=dt.UTC))
    return dataset


def jsonld_of(response) -> tuple[str, dict]:
    blocks = JSONLD.findall(response.content.decode())
    assert len(blocks) == 1
    return blocks[0], json.loads(blocks[0])


def test_dataset_page_carries_a_schema_org_dataset_with_every_field(client, bus):
    response = client.get("/datasets/bus/")
    assert response.status_code == 200
    _raw, data = jsonld_of(response)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Dataset"
    assert data["name"] == "绵阳市地面公交实时位置"
    assert data["description"].startswith("全市地面公交车辆")
    assert data["url"] == data["@id"] == "http://testserver/datasets/bus/"
    assert data["identifier"] == "bus"
    assert data["creator"] == {
        "@type": "GovernmentOrganization",
        "name": "绵阳市交通运输局",
        "url": "http://testserver/departments/JTJ/",
    }
    assert data["license"] == {"@type": "CreativeWork", "name": "公共数据开放协议 v1.0"}
    assert data["distribution"] == [
        {
            "@type": "DataDownload",
            "name": "数据查询接口",
            "encodingFormat": "API",
            "contentUrl": "http://testserver/api/v1/datasets/bus/records",
        },
        {
            "@type": "DataDownload",
            "name": "全量下载",
            "encodingFormat": "text/csv",
            "contentUrl": "http://testserver/api/v1/datasets/bus/records?_format=csv",
        },
        {
            "@type": "DataDownload",
            "name": "站点图层",
            "encodingFormat": "application/geo+json",
            "contentUrl": "https://gis.example.gov.cn/bus/stops.geojson",
        },
    ]
    assert data["temporalCoverage"] == "2024-01-01/2025-12-31"
    assert data["spatialCoverage"] == {"@type": "Place", "name": "绵阳市主城区"}
    assert data["keywords"] == ["公交", "实时", "交通出行"]
    assert data["dateModified"] == "2025-06-01T04:00:00Z"  # the data changed after the metadata
    assert data["datePublished"] == "2025-03-01T08:00:00Z"
    assert data["isAccessibleForFree"] is True
    assert data["includedInDataCatalog"]["url"] == "http://testserver/datasets/"


def test_dataset_page_has_open_graph_tags_and_a_canonical_link(client, bus):
    html = client.get("/datasets/bus/?utm_source=weixin&from=share").content.decode()
    assert '<link rel="canonical" href="http://testserver/datasets/bus/">' in html
    assert '<meta property="og:url" content="http://testserver/datasets/bus/">' in html
    assert '<meta property="og:title" content="绵阳市地面公交实时位置">' in html
    assert '<meta property="og:type" content="website">' in html
    assert '<meta property="og:site_name" content="绵阳市公共数据开放平台">' in html
    assert '<meta property="og:description" content="全市地面公交车辆的实时位置' in html


def test_a_title_cannot_break_out_of_the_json_ld_block(client, department):
    title = "绵阳市</script><script>alert(1)</script>"
    publish(department("JTJ"), "evil", title, description="摘要里也有 </SCRIPT> 和 <!-- 注释 --> 以及 & 符号。")
    response = client.get("/datasets/evil/")
    raw, data = jsonld_of(response)
    assert data["name"] == title
    assert "</SCRIPT>" in data["description"]
    assert "<" not in raw and ">" not in raw  # so neither </script> nor <!-- can appear in the element
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert html.count("<script") == 2  # site.js and the JSON-LD block, nothing injected


def test_json_ld_content_escapes_what_could_end_the_element():
    text = jsonld_script_content({"a": "</script><!--\u2028&"})
    assert str(text) == '{"a": "\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}'
    assert json.loads(text) == {"a": "</script><!--\u2028&"}


def test_conditional_dataset_says_how_to_get_access(client, department):
    publish(department("JTJ"), "cond", "绵阳市公交刷卡客流统计", open_type="conditional")
    _raw, data = jsonld_of(client.get("/datasets/cond/"))
    assert "isAccessibleForFree" not in data
    assert "在线申请" in data["conditionsOfAccess"]


def test_public_url_setting_makes_every_address_absolute_on_it(client, bus, settings):
    settings.PUBLIC_URL = "https://data.example.gov.cn"
    response = client.get("/datasets/bus/")
    _raw, data = jsonld_of(response)
    assert data["url"] == "https://data.example.gov.cn/datasets/bus/"
    assert data["distribution"][0]["contentUrl"] == "https://data.example.gov.cn/api/v1/datasets/bus/records"
    assert '<link rel="canonical" href="https://data.example.gov.cn/datasets/bus/">' in response.content.decode()


def test_catalog_canonical_keeps_only_the_filters_in_a_fixed_order(client, bus):
    html = client.get(
        "/datasets/?utm_source=baidu&format=csv&sort=views&q=%E5%85%AC%E4%BA%A4&limit=5"
        "&open_type=&frequency=realtime&domain=transport&spm=1.2"
    ).content.decode()
    canonical = "http://testserver/datasets/?domain=transport&amp;format=CSV&amp;frequency=realtime"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    assert '<meta property="og:title" content="数据目录">' in html
    plain = client.get("/datasets/?utm_campaign=x&sort=newest").content.decode()
    assert '<link rel="canonical" href="http://testserver/datasets/">' in plain
    assert "application/ld+json" not in plain


def test_department_page_has_open_graph_tags_and_a_canonical_link(client, bus):
    html = client.get("/departments/jtj/?utm_source=x&limit=10").content.decode()
    assert '<link rel="canonical" href="http://testserver/departments/JTJ/">' in html
    assert '<meta property="og:url" content="http://testserver/departments/JTJ/">' in html
    assert '<meta property="og:title" content="绵阳市交通运输局">' in html
    assert '<meta property="og:description" content="绵阳市交通运输局开放的公共数据集和公共数据开放清单。">' in html
