"""`citydata demo` builds a realistic city and a second run changes nothing."""

import pytest
from django.core.management import call_command

from citydata.accounts import demo
from conftest import data_shared_by_the_module

pytestmark = pytest.mark.django_db

BIG_ROWS = 5000  # rows of the bus positions, as large as the largest other demo dataset


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, built once for both tests: building it takes about a minute, and both check the state one run of the
    command leaves (see the root conftest's data_shared_by_the_module)."""
    with data_shared_by_the_module(django_db_blocker, tmp_path_factory):
        call_command("demo", quiet_logins=True, big_rows=BIG_ROWS)
        yield


def test_demo_command_is_idempotent(demo_city):
    from django.apps import apps

    from citydata.security.models import AuditHead

    def counts():
        return {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in {"accounts", "security", "catalog", "datastore"}
        }

    first, head = counts(), AuditHead.objects.get().hash
    call_command("demo", quiet_logins=True, big_rows=BIG_ROWS)
    assert counts() == first and AuditHead.objects.get().hash == head
    assert first["accounts.User"] == len(demo.DEMO_USERS)

    from citydata.catalog.models import Dataset, Domain, InventoryEntry

    published = Dataset.objects.filter(status="published")
    assert published.count() >= 500
    assert published.values("department").distinct().count() >= 30
    for domain in Domain.objects.filter(is_priority=True):
        assert published.filter(domains=domain).count() >= 25, domain.name
    assert published.filter(fields__isnull=True).count() == 0
    closed = InventoryEntry.objects.filter(open_type="closed")
    assert closed.count() >= 15 and not closed.filter(legal_basis_name="").exists()
    assert {"open", "conditional", "closed"} <= set(InventoryEntry.objects.values_list("open_type", flat=True))
    for item in (
        "确诊",
        "救助机构",
        "医院实时床位",
        "公交实时位置",
        "停车",
        "文化场馆",
        "企业工商",
        "行政处罚",
        "食品安全",
    ):
        assert published.filter(title__contains=item).exists(), item


def test_demo_datasets_have_contents_in_every_priority_domain(demo_city):
    from citydata.catalog.models import Domain
    from citydata.datastore.models import DataVersion

    current = DataVersion.objects.filter(is_current=True).select_related("dataset")
    assert current.count() >= 60
    for domain in Domain.objects.filter(is_priority=True):
        assert current.filter(dataset__domains=domain).exists(), domain.name
    assert {"gb18030", "utf-8"} <= set(current.values_list("source_encoding", flat=True))
    assert "xlsx" in set(current.values_list("source_format", flat=True))
    bus = current.get(dataset__title__contains="公交实时位置")
    assert bus.row_count == BIG_ROWS and bus.point == {"lng": "lng", "lat": "lat"} and bus.bad_row_count == 0
    sizes = sorted(current.values_list("row_count", flat=True))
    assert sizes[0] <= 12 and sizes[-1] == BIG_ROWS
    assert all(v.bad_row_count == 0 for v in current)
