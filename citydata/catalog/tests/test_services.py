import pytest
from django.db import IntegrityError, transaction

from citydata.catalog import services
from citydata.catalog.models import Dataset, DatasetStatus, Domain, InventoryEntry
from citydata.errors import Conflict, DomainError, Forbidden
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

CLOSED = {
    "code": "JTJ-0001",
    "name": "涉密道路设施布设信息",
    "open_type": "closed",
    "legal_basis_name": "《中华人民共和国保守国家秘密法》",
    "legal_basis_article": "第十三条",
}


@pytest.fixture
def draft(department):
    return services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={
            "title": "绵阳市地面公交线路信息",
            "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get(code="transport")],
        fields=[services.FieldSpec("line_name", "线路名称", description="公交线路名称", example="1路")],
        resources=[services.ResourceSpec("线路表", "CSV")],
    )


def test_seven_priority_domains_are_seeded():
    assert list(Domain.objects.filter(is_priority=True).values_list("name", flat=True)) == [
        "防疫复工", "卫生健康", "交通出行", "文化教育", "信用服务", "商业服务", "普惠金融",
    ]  # fmt: skip


def test_not_open_entry_needs_a_legal_basis(department, user_with_role):
    provider = user_with_role("provider", "JTJ")
    without = {**CLOSED, "legal_basis_name": ""}
    with pytest.raises(DomainError) as caught:
        services.inventory_entry_save(by=provider, department=department("JTJ"), data=without)
    assert caught.value.details == {"field": "legal_basis_name"} and "依据" in str(caught.value.message)
    no_article = {**CLOSED, "legal_basis_article": " "}
    with pytest.raises(DomainError) as caught:
        services.inventory_entry_save(by=provider, department=department("JTJ"), data=no_article)
    assert caught.value.details == {"field": "legal_basis_article"}
    entry = services.inventory_entry_save(by=provider, department=department("JTJ"), data=CLOSED)
    assert entry.open_type == "closed" and AuditEvent.objects.filter(action="inventory.create").exists()


def test_database_refuses_a_closed_entry_without_basis_even_past_the_service(department):
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryEntry.objects.create(department=department("JTJ"), code="X", name="x", open_type="closed")


def test_stale_edit_is_a_conflict_not_an_overwrite(department, user_with_role):
    provider = user_with_role("provider", "JTJ")
    entry = services.inventory_entry_save(
        by=provider, department=department("JTJ"), data={"code": "A1", "name": "公交线路", "open_type": "open"}
    )
    services.inventory_entry_save(
        by=provider, department=entry.department, entry=entry, data={"name": "新名"}, expected_version=1
    )
    with pytest.raises(Conflict) as caught:
        services.inventory_entry_save(
            by=provider, department=entry.department, entry=entry, data={"name": "旧表单"}, expected_version=1
        )
    assert caught.value.code == "stale_version"
    assert InventoryEntry.objects.get(pk=entry.pk).name == "新名"


def test_provider_cannot_touch_another_departments_catalog(department, user_with_role, draft):
    other = user_with_role("provider", "WJW")
    with pytest.raises(Forbidden):
        services.inventory_entry_save(by=other, department=department("JTJ"), data={**CLOSED, "code": "B"})
    with pytest.raises(Forbidden):
        services.dataset_update(by=other, dataset=draft, data={"title": "改名"}, expected_version=draft.version)
    with pytest.raises(Forbidden):
        services.dataset_publish(by=other, dataset=draft)
    assert Dataset.objects.get(pk=draft.pk).status == DatasetStatus.DRAFT


def test_publish_and_withdraw(user_with_role, draft):
    provider = user_with_role("provider", "JTJ")
    published = services.dataset_publish(by=provider, dataset=draft)
    assert published.status == "published" and published.published_at is not None
    with pytest.raises(DomainError):
        services.dataset_withdraw(by=provider, dataset=published, reason=" ")
    withdrawn = services.dataset_withdraw(by=provider, dataset=published, reason="数据口径调整，待重新发布")
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_reason.startswith("数据口径")


def test_a_dataset_needs_fields_and_resources_before_publishing(department):
    bare = services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={"title": "空数据集", "description": "尚未登记字段", "update_frequency": "yearly"},
        domains=[Domain.objects.get(code="transport")],
    )
    with pytest.raises(DomainError) as caught:
        services.dataset_publish(by=None, dataset=bare)
    assert caught.value.code == "no_fields"


def test_closed_data_is_never_a_dataset(department):
    with pytest.raises(DomainError) as caught:
        services.dataset_create(
            by=None,
            department=department("JTJ"),
            data={"title": "x", "description": "y", "update_frequency": "yearly", "open_type": "closed"},
            domains=[Domain.objects.get(code="transport")],
        )
    assert caught.value.details == {"field": "open_type"}
