"""Fixtures of the engagement tests: published datasets of a department with named feedback staff."""

from __future__ import annotations

import pytest

from citydata.catalog import services as catalog_services
from citydata.catalog.models import Domain

GOOD = {
    "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
    "update_frequency": "monthly",
    "spatial_coverage": "绵阳市全市",
    "contact_name": "数据专员",
    "contact_phone": "0816-2222222",
}


@pytest.fixture
def make_dataset(department):
    """A published dataset (metadata, fields and a resource; no data version)."""

    def make(title: str = "绵阳市地面公交线路信息", *, dept: str = "JTJ", slug: str | None = None):
        domain = Domain.objects.get_or_create(code="transport", defaults={"name": "交通出行", "is_priority": True})[0]
        dataset = catalog_services.dataset_create(
            by=None,
            department=department(dept),
            slug=slug,
            data={"title": title, **GOOD},
            domains=[domain],
            fields=[
                catalog_services.FieldSpec("line", "线路", description="线路名称"),
                catalog_services.FieldSpec("stops", "站点数", "integer", unit="个", description="途经站点数"),
            ],
            resources=[catalog_services.ResourceSpec("线路表", "CSV", url="https://example.cn/lines.csv")],
        )
        catalog_services.dataset_publish(by=None, dataset=dataset)
        dataset.refresh_from_db()
        return dataset

    return make


@pytest.fixture
def dataset(make_dataset):
    return make_dataset(slug="bus-lines")


@pytest.fixture
def feedback_staff(user_with_role, department):
    """The JTJ provider named for 反馈答复 (专人专岗)."""
    from citydata.accounts import services as account_services

    staff = user_with_role("provider", "JTJ")
    account_services.duty_assign(by=None, department=department("JTJ"), stage="feedback", user=staff)
    return staff


@pytest.fixture(autouse=True)
def _deadlines_may_reach_next_year(calendar_ahead):
    """See the root conftest's calendar_ahead."""
