"""Progress toward the annual target (R1.2): month by month, per department and domain, page and API."""

import datetime as dt

import pytest
from django.utils import timezone

from citydata.catalog import queries, services
from citydata.catalog.models import Dataset, Domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(department):
    """Last year (a whole year, whatever today is): three datasets published in January, one in March in another
    department, one the year before, one withdrawn. Returns the year."""
    year = timezone.localdate().year - 1
    jan = timezone.make_aware(dt.datetime(year, 1, 15, 10))
    this_month = timezone.make_aware(dt.datetime(year, 3, 1, 0, 30))  # just past midnight: local time decides
    last_year = timezone.make_aware(dt.datetime(year - 1, 12, 31, 23, 30))
    transport, health = Domain.objects.get(code="transport"), Domain.objects.get(code="health")
    made = []
    for n, (code, when, domains) in enumerate(
        [
            ("JTJ", jan, [transport]),
            ("JTJ", jan, [transport, health]),
            ("JTJ", jan, [transport]),
            ("WJW", this_month, [health]),
            ("WJW", last_year, [health]),
            ("WJW", jan, [health]),
        ]
    ):
        dataset = services.dataset_create(
            by=None,
            department=department(code),
            slug=f"d{n}",
            data={
                "title": f"绵阳市数据{n}",
                "description": "用于统计开放进度的测试数据集，记录逐月发布的数量和所属部门。",
                "update_frequency": "yearly",
            },
            domains=domains,
            fields=[services.FieldSpec("a", "甲", description="说明")],
            resources=[services.ResourceSpec("表", "CSV")],
        )
        made.append(services.dataset_publish(by=None, dataset=dataset, when=when))
    Dataset.objects.filter(pk=made[-1].pk).update(status="withdrawn", withdrawn_reason="数据有误")
    return year


def test_progress_counts_by_month_department_and_domain(catalog):
    result = queries.progress(catalog, default_target=10)
    assert (result.this_year, result.total, result.target, result.share) == (4, 5, 10, 0.5)
    assert len(result.months) == 12
    assert [(m.opened, m.cumulative) for m in result.months[:3]] == [(3, 4), (0, 4), (1, 5)]
    assert result.months[-1].cumulative == 5
    assert [(g.code, g.this_year, g.total) for g in result.departments] == [("JTJ", 3, 3), ("WJW", 1, 2)]
    assert [(g.code, g.this_year, g.total) for g in result.domains] == [("transport", 3, 3), ("health", 2, 3)]
    only_health = queries.progress(catalog, default_target=10, domain="health")
    assert (only_health.this_year, only_health.total) == (2, 3)
    assert queries.progress(catalog, default_target=10, department="WJW").months[0].cumulative == 1


def test_progress_page_and_api(client, catalog, settings):
    settings.ANNUAL_TARGET = 10
    page = client.get("/progress/", {"year": catalog})
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "50%" in text and "目标" in text
    api = client.get("/api/v1/catalog/progress", {"department": "jtj", "year": catalog}).json()
    assert api["this_year"] == 3 and api["departments"] == [
        {"code": "JTJ", "name": "测试部门JTJ", "this_year": 3, "total": 3, "target": None, "share": None}
    ]
    future = client.get("/api/v1/catalog/progress", {"year": catalog + 2})
    assert future.status_code == 400 and future.json()["code"] == "invalid_year"
    assert client.get("/progress/?year=abc").status_code == 400
    assert "/progress/" in client.get("/").content.decode()


def test_progress_query_count_does_not_grow_with_the_catalog(client, catalog, department):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_progress() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/catalog/progress").status_code == 200  # this year: the new datasets count
        return len(captured)

    baseline = queries_for_progress()
    for n in range(6):  # more departments, datasets and domains than before
        dataset = services.dataset_create(
            by=None,
            department=department(f"X{n}"),
            slug=f"more-{n}",
            data={
                "title": f"绵阳市更多数据{n}",
                "description": "用于检查查询次数不随目录增长的测试数据集。",
                "update_frequency": "yearly",
            },
            domains=list(Domain.objects.all()[n : n + 2]),
            fields=[services.FieldSpec("a", "甲", description="说明")],
            resources=[services.ResourceSpec("表", "CSV")],
        )
        services.dataset_publish(by=None, dataset=dataset)
    assert queries_for_progress() == baseline


def test_operators_set_city_and_department_targets(client_for, catalog, department):
    assert client_for("provider", "JTJ").get("/manage/progress/targets/").status_code == 403
    operator = client_for("operator")
    url = f"/manage/progress/targets/?year={catalog}"
    assert operator.get(url).status_code == 200
    bad = operator.post(url, {"year": catalog, "city": "0", "d_JTJ": "6"})
    assert bad.status_code == 400 and "1 至 1000000" in bad.content.decode()
    assert operator.post(url, {"year": catalog, "city": "20", "d_JTJ": "6", "d_WJW": ""}).status_code == 302
    result = queries.progress(catalog, default_target=500)
    assert (result.target, result.share) == (20, 0.25)
    assert [(g.code, g.target, g.share) for g in result.departments] == [("JTJ", 6, 0.5), ("WJW", None, None)]
    jtj = queries.progress(catalog, default_target=500, department="JTJ")
    assert (jtj.target, jtj.share) == (6, 0.5)
    assert operator.post(url, {"year": catalog, "city": "", "d_JTJ": ""}).status_code == 302
    assert queries.progress(catalog, default_target=500).target == 500
    from citydata.security.models import AuditEvent

    assert AuditEvent.objects.filter(action="catalog.targets").count() == 2
