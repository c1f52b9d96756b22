"""Field tables and resources after creation, and field categories matched to the classification rules (R2.4)."""

import pytest

from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain
from citydata.errors import Conflict, DomainError, Forbidden
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

F = services.FieldSpec


@pytest.fixture
def draft(department):
    return services.dataset_create(
        by=None,
        department=department("JTJ"),
        slug="taxi",
        data={
            "title": "绵阳市出租车运营信息",
            "description": "全市出租车的车辆、驾驶员和营运里程统计，按月汇总。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get(code="transport")],
        fields=[F("plate", "车牌号", description="车辆号牌")],
        resources=[services.ResourceSpec("营运统计", "CSV")],
    )


def test_field_list_is_replaced_whole_and_checked(draft, user_with_role):
    provider = user_with_role("provider", "JTJ")
    fields = [F("plate", "车牌号", description="号牌"), F("km", "营运里程", type="decimal", unit="公里")]
    seen = draft.version
    updated = services.dataset_fields_set(by=provider, dataset=draft, fields=fields, expected_version=seen)
    assert [(f.name, f.unit) for f in updated.fields.all()] == [("plate", ""), ("km", "公里")]
    assert updated.version == seen + 1
    with pytest.raises(Conflict):
        services.dataset_fields_set(by=provider, dataset=updated, fields=fields, expected_version=seen)
    for bad, words in (
        ([F("1st", "第一")], "字段名"),
        ([F("a", "甲"), F("A", "乙")], "重复"),
        ([F("a", " ")], "中文名称"),
        ([F("a", "甲", type="money")], "类型"),
    ):
        with pytest.raises(DomainError) as caught:
            services.dataset_fields_set(by=provider, dataset=updated, fields=bad, expected_version=updated.version)
        assert words in str(caught.value.message)
    assert AuditEvent.objects.filter(action="dataset.fields").count() == 1
    with pytest.raises(Forbidden):
        services.dataset_fields_set(
            by=user_with_role("provider", "WJW"), dataset=updated, fields=fields, expected_version=updated.version
        )


def test_resources_are_checked_and_a_published_dataset_keeps_one(draft, user_with_role):
    provider = user_with_role("provider", "JTJ")
    with pytest.raises(DomainError) as caught:
        services.resource_add(by=provider, dataset=draft, spec=services.ResourceSpec("实时接口", "API", kind="api"))
    assert caught.value.details == {"field": "url"}
    with pytest.raises(DomainError):
        services.resource_add(
            by=provider, dataset=draft, spec=services.ResourceSpec("流", "MQTT", kind="stream", url="ftp://x")
        )
    stream = services.resource_add(
        by=provider,
        dataset=draft,
        spec=services.ResourceSpec("实时位置", "json", kind="stream", url="wss://data.example.cn/taxi"),
    )
    assert stream.format == "JSON"
    services.dataset_publish(by=provider, dataset=draft)
    services.resource_delete(by=provider, resource=stream)
    with pytest.raises(Conflict):
        services.resource_delete(by=provider, resource=draft.resources.get())


def test_field_category_rules_block_publication_and_report_masking(draft, department, user_with_role):
    provider = user_with_role("provider", "JTJ")
    services.classification_rules_publish(
        by=provider,
        department=department("JTJ"),
        rules=[
            {"field_category": "个人身份信息", "allowed_open_type": "conditional", "masking": "partial"},
            {"field_category": "车辆信息", "allowed_open_type": "open", "masking": "pseudonym"},
        ],
    )
    fields = [
        F("plate", "车牌号", description="号牌", category="车辆信息"),
        F("driver_id", "驾驶员身份证号", description="驾驶员的居民身份证号码", category="个人身份信息"),
    ]
    draft = services.dataset_fields_set(by=provider, dataset=draft, fields=fields, expected_version=draft.version)
    findings = services.field_rule_findings(draft.department, "open", draft.fields.all())
    assert [(f.field, f.blocking) for f in findings] == [("plate", False), ("driver_id", True)]
    assert "假名化" in findings[0].message and "有条件开放" in findings[1].message
    with pytest.raises(DomainError) as caught:
        services.dataset_publish(by=provider, dataset=draft)
    assert caught.value.code == "against_classification_rules" and caught.value.details["fields"] == ["driver_id"]
    draft = services.dataset_update(
        by=provider, dataset=draft, data={"open_type": "conditional"}, expected_version=draft.version
    )
    published = services.dataset_publish(by=provider, dataset=draft)
    with pytest.raises(DomainError):  # once published, it cannot become more open than its fields allow
        services.dataset_update(
            by=provider, dataset=published, data={"open_type": "open"}, expected_version=published.version
        )
    assert Dataset.objects.get(pk=draft.pk).open_type == "conditional"


def test_field_and_resource_pages(client_for, draft):
    client = client_for("provider", "JTJ")
    page = client.get("/manage/datasets/taxi/fields/")
    assert page.status_code == 200 and 'value="plate"' in page.content.decode()
    form = {
        "version": draft.version,
        "f-TOTAL_FORMS": "3",
        "f-INITIAL_FORMS": "1",
        "f-0-name": "plate", "f-0-title": "车牌号", "f-0-type": "string", "f-0-description": "号牌",
        "f-1-name": "km", "f-1-title": "", "f-1-type": "decimal",
        "f-2-name": "", "f-2-title": "", "f-2-type": "string",
    }  # fmt: skip
    missing_title = client.post("/manage/datasets/taxi/fields/", form)
    assert missing_title.status_code == 400 and "请填写中文名称" in missing_title.content.decode()
    form["f-1-title"] = "营运里程"
    assert client.post("/manage/datasets/taxi/fields/", form).status_code == 302
    assert list(Dataset.objects.get(slug="taxi").fields.values_list("name", flat=True)) == ["plate", "km"]
    stale = client.post("/manage/datasets/taxi/fields/", form)
    assert stale.status_code == 400 and "已被他人修改" in stale.content.decode()
    bad = client.post("/manage/datasets/taxi/resources/", {"name": "接口", "kind": "api", "format": "API"})
    assert bad.status_code == 400 and "访问地址" in bad.content.decode()
    ok = client.post(
        "/manage/datasets/taxi/resources/",
        {"name": "接口", "kind": "api", "format": "API", "url": "https://api.example.cn/taxi"},
    )
    assert ok.status_code == 302 and Dataset.objects.get(slug="taxi").resources.count() == 2
    assert client_for("provider", "WJW").get("/manage/datasets/taxi/fields/").status_code == 403


def test_fields_and_resources_through_the_api(client, draft, user_with_role):
    from citydata.accounts import services as account_services

    _, secret = account_services.apikey_create(by=user_with_role("provider", "JTJ"), name="k")
    auth = {"Authorization": f"Bearer {secret}"}
    body = {"version": draft.version, "fields": [{"name": "plate", "title": "车牌号", "category": "车辆信息"}]}
    put = client.put("/api/v1/datasets/taxi/fields", body, content_type="application/json", headers=auth)
    assert put.status_code == 200 and put.json()["fields"][0]["category"] == "车辆信息"
    again = client.put("/api/v1/datasets/taxi/fields", body, content_type="application/json", headers=auth)
    assert again.status_code == 409
    added = client.post(
        "/api/v1/datasets/taxi/resources",
        {"name": "实时", "kind": "stream", "format": "JSON", "url": "wss://x.example.cn/s"},
        content_type="application/json",
        headers=auth,
    )
    assert added.status_code == 201
    rid = added.json()["resources"][-1]["id"]
    assert client.delete(f"/api/v1/datasets/taxi/resources/{rid}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/datasets/taxi/resources/{rid}", headers=auth).status_code == 404
