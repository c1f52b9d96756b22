"""`citydata demo` builds a realistic city and a second run changes nothing."""

import pytest
from django.core.management import call_command

from citydata.accounts import demo

pytestmark = pytest.mark.django_db


def test_demo_command_is_idempotent(capsys):
    from django.apps import apps

    from citydata.security.models import AuditHead

    def counts():
        return {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in {"accounts", "security", "catalog"}
        }

    call_command("demo", quiet_logins=True)
    first, head = counts(), AuditHead.objects.get().hash
    call_command("demo", quiet_logins=True)
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
