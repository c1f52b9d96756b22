"""The back-office through its pages: department scoping, the legal-basis rule, coverage, optimistic locking."""

import pytest

from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain, InventoryEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def jtj_draft(department):
    return services.dataset_create(
        by=None,
        department=department("JTJ"),
        slug="jtj-draft",
        data={
            "title": "绵阳市公交线路",
            "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get(code="transport")],
        fields=[services.FieldSpec("line", "线路", description="线路名称")],
        resources=[services.ResourceSpec("线路表", "CSV")],
    )


def test_provider_manages_only_their_own_department(client_for, department, jtj_draft):
    department("WJW")
    client = client_for("provider", "WJW")
    for path in (
        "/manage/departments/JTJ/inventory/",
        "/manage/departments/JTJ/datasets/",
        "/manage/datasets/jtj-draft/",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post("/manage/datasets/jtj-draft/publish/").status_code == 403
    assert client.get("/datasets/jtj-draft/").status_code == 404  # drafts of other departments stay hidden
    assert Dataset.objects.get(slug="jtj-draft").status == "draft"
    own = client_for("provider", "JTJ")
    assert own.get("/manage/datasets/jtj-draft/").status_code == 200
    assert own.post("/manage/datasets/jtj-draft/publish/").status_code == 302
    assert Dataset.objects.get(slug="jtj-draft").status == "published"


def test_not_open_without_basis_is_refused_and_coverage_follows(client_for, department):
    department("JTJ")
    provider = client_for("provider", "JTJ")
    pending = {"code": "JTJ-9", "name": "出租车运营数据", "open_type": "pending", "sensitivity": "general"}
    assert provider.post("/manage/departments/JTJ/inventory/", pending).status_code == 302
    entry = InventoryEntry.objects.get(code="JTJ-9")

    from django.test import Client

    operator = Client()
    from citydata.accounts import services as account_services
    from citydata.accounts.models import User

    boss = User.objects.create_user(email="ops@example.cn", password="Ops-pass-2026")
    account_services.role_grant(by=None, user=boss, role="operator")
    operator.force_login(boss, backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert ">0.0%" in operator.get("/manage/catalog/").content.decode().replace(" ", "")

    closed = {**pending, "open_type": "closed", "version": entry.version}
    refused = provider.post(f"/manage/inventory/{entry.pk}/", closed)
    assert refused.status_code == 400 and "必须填写法律法规或文件依据" in refused.content.decode()
    assert InventoryEntry.objects.get(pk=entry.pk).open_type == "pending"

    opened = {**pending, "open_type": "open", "version": entry.version}
    assert provider.post(f"/manage/inventory/{entry.pk}/", opened).status_code == 302
    assert ">100.0%" in operator.get("/manage/catalog/").content.decode().replace(" ", "")


def test_a_stale_form_gets_a_conflict_message(client_for, jtj_draft):
    client = client_for("provider", "JTJ")
    form = {
        "title": "新标题",
        "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
        "domains": ["transport"],
        "open_type": "open",
        "update_frequency": "monthly",
        "version": jtj_draft.version,
    }
    assert client.post("/manage/datasets/jtj-draft/", form).status_code == 302
    stale = client.post("/manage/datasets/jtj-draft/", {**form, "title": "旧表单的标题"})
    assert stale.status_code == 400 and "已被他人修改" in stale.content.decode()
    assert Dataset.objects.get(slug="jtj-draft").title == "新标题"


def test_withdraw_needs_a_reason(client_for, jtj_draft):
    client = client_for("provider", "JTJ")
    client.post("/manage/datasets/jtj-draft/publish/")
    assert client.post("/manage/datasets/jtj-draft/withdraw/", {"reason": ""}).status_code == 400
    assert client.post("/manage/datasets/jtj-draft/withdraw/", {"reason": "口径调整"}).status_code == 302
    page = client.get("/datasets/jtj-draft/").content.decode()
    assert "口径调整" in page


def test_public_department_page_lists_the_open_list_with_legal_bases(client, department):
    services.inventory_entry_save(
        by=None,
        department=department("GAJ"),
        data={
            "code": "GAJ-N1",
            "name": "户籍人口个人信息",
            "open_type": "closed",
            "legal_basis_name": "《中华人民共和国个人信息保护法》",
            "legal_basis_article": "第十三条",
        },
    )
    page = client.get("/departments/GAJ/").content.decode()
    assert "户籍人口个人信息" in page and "个人信息保护法" in page and "第十三条" in page
    assert client.get("/departments/NOPE/").status_code == 404


def test_edit_forms_carry_one_version_and_domains_changes_are_audited(client_for, jtj_draft):
    from citydata.security.models import AuditEvent

    client = client_for("provider", "JTJ")
    page = client.get("/manage/datasets/jtj-draft/").content.decode()
    assert page.count('name="version"') == 1
    form = {
        "title": "绵阳市公交线路",
        "description": "线路",
        "domains": ["transport", "commerce"],
        "open_type": "open",
        "update_frequency": "monthly",
    }
    missing = client.post("/manage/datasets/jtj-draft/", form)
    assert missing.status_code == 400  # no version, no blind overwrite
    assert client.post("/manage/datasets/jtj-draft/", {**form, "version": jtj_draft.version}).status_code == 302
    event = AuditEvent.objects.filter(action="dataset.update").latest("seq")
    assert event.changes["domains"] == {"before": ["transport"], "after": ["commerce", "transport"]}


def test_an_entry_is_deleted_only_by_its_department_and_only_when_no_dataset_uses_it(client_for, department, jtj_draft):
    department("WJW")
    entry = services.inventory_entry_save(
        by=None, department=department("JTJ"), data={"code": "JTJ-7", "name": "公交线路", "open_type": "open"}
    )
    other = client_for("provider", "WJW")
    assert other.post(f"/manage/inventory/{entry.pk}/delete/", {"version": entry.version}).status_code == 403
    Dataset.objects.filter(pk=jtj_draft.pk).update(inventory_entry=entry)
    own = client_for("provider", "JTJ")
    refused = own.post(f"/manage/inventory/{entry.pk}/delete/", {"version": entry.version})
    assert refused.status_code == 409 and "绵阳市公交线路" in refused.content.decode()
    Dataset.objects.filter(pk=jtj_draft.pk).update(inventory_entry=None)
    stale = own.post(f"/manage/inventory/{entry.pk}/delete/", {"version": entry.version + 1})
    assert stale.status_code == 409 and InventoryEntry.objects.filter(pk=entry.pk).exists()
    assert own.post(f"/manage/inventory/{entry.pk}/delete/", {"version": entry.version}).status_code == 302
    assert not InventoryEntry.objects.filter(pk=entry.pk).exists()
    from citydata.security.models import AuditEvent

    assert AuditEvent.objects.filter(action="inventory.delete", object_id=str(entry.pk)).exists()


def test_city_wording_of_open_types_shows_everywhere(client_for, department, settings):
    settings.OPEN_TYPE_LABELS = {"closed": "禁止开放", "conditional": "受限开放"}
    department("JTJ")
    provider = client_for("provider", "JTJ")
    no_basis = {"code": "JTJ-9", "name": "涉密设施", "open_type": "closed", "sensitivity": "general"}
    refused = provider.post("/manage/departments/JTJ/inventory/", no_basis).content.decode()
    assert "“禁止开放”必须填写" in refused
    assert '<option value="conditional">受限开放</option>' in refused
    english = provider.get("/manage/departments/JTJ/inventory/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "受限开放" not in english
