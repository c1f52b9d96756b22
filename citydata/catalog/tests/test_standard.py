"""The naming and metadata standard: checked on the edit page, enforced on publish, published as a page."""

import pytest

from citydata.catalog import services, standard
from citydata.catalog.models import Dataset, Domain, StandardRule
from citydata.errors import DomainError

pytestmark = pytest.mark.django_db

GOOD = "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。"


def make(department, title, description=GOOD, formats=("CSV",), field_description="线路名称"):
    return services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={"title": title, "description": description, "update_frequency": "monthly"},
        domains=[Domain.objects.get(code="transport")],
        fields=[services.FieldSpec("line", "线路", description=field_description)],
        resources=[services.ResourceSpec("r", fmt) for fmt in formats],
    )


def test_a_conforming_dataset_has_no_findings_and_publishes(department):
    dataset = make(department, "绵阳市地面公交线路信息")
    assert standard.check(dataset) == []
    assert services.dataset_publish(by=None, dataset=dataset).status == "published"


@pytest.mark.parametrize(
    ("title", "kwargs", "rule"),
    [
        ("地面公交线路信息", {}, "title-area"),
        ("绵阳市公交", {}, "title-length"),
        ("绵阳市地面公交线路信息", {"description": "公交线路"}, "description"),
        ("绵阳市地面公交线路信息", {"field_description": ""}, "fields"),
        ("绵阳市地面公交线路信息", {"formats": ("PDF",)}, "formats"),
    ],
)
def test_blocking_rules_stop_publication_and_say_why(department, title, kwargs, rule):
    dataset = make(department, title, **kwargs)
    with pytest.raises(DomainError) as caught:
        services.dataset_publish(by=None, dataset=dataset)
    assert caught.value.code == "standard_violation"
    assert [f["rule"] for f in caught.value.details["findings"]] == [rule]
    assert Dataset.objects.get(pk=dataset.pk).status == "draft"


def test_warnings_do_not_block(department):
    dataset = make(department, "绵阳市测试公交线路信息")
    findings = standard.check(dataset)
    assert [(f.code, f.blocking) for f in findings] == [("title-words", False)]
    assert services.dataset_publish(by=None, dataset=dataset).status == "published"


def test_rules_are_data(department):
    StandardRule.objects.filter(code="title-area").update(enabled=False)
    dataset = make(department, "地面公交线路信息")
    assert services.dataset_publish(by=None, dataset=dataset).status == "published"


def test_the_edit_page_shows_findings_and_the_standard_page_lists_the_rules(client, client_for, department):
    dataset = make(department, "地面公交线路信息")
    page = client_for("provider", "JTJ").get(f"/manage/datasets/{dataset.slug}/").content.decode()
    assert "阻止发布" in page and "名称应以区域开头" in page
    refused = client_for("provider", "JTJ").post(f"/manage/datasets/{dataset.slug}/publish/")
    assert refused.status_code == 400 and "不符合数据开放标准" in refused.content.decode()
    standard_page = client.get("/standards/").content.decode()
    for rule in StandardRule.objects.filter(enabled=True):
        assert rule.description in standard_page


def test_operators_edit_rules_and_the_change_applies_at_once(client_for, department):
    from citydata.catalog.models import StandardRule
    from citydata.security.models import AuditEvent

    assert client_for("provider", "JTJ").get("/manage/standards/").status_code == 403
    operator = client_for("operator")
    page = operator.get("/manage/standards/")
    assert page.status_code == 200 and "title-length" in page.content.decode()
    rule = StandardRule.objects.get(kind="title_length")
    form = {
        f"{rule.code}-description": "名称 6 至 30 个字。",
        f"{rule.code}-severity": "blocking",
        f"{rule.code}-enabled": "on",
        f"{rule.code}-position": "5",
        f"{rule.code}-param_min": "40",
        f"{rule.code}-param_max": "30",
    }
    refused = operator.post(f"/manage/standards/{rule.code}/", form)
    assert refused.status_code == 400 and "最多字数不能小于最少字数" in refused.content.decode()
    form[f"{rule.code}-param_min"] = "6"
    assert operator.post(f"/manage/standards/{rule.code}/", form).status_code == 302
    rule.refresh_from_db()
    assert rule.params == {"min": 6, "max": 30} and rule.severity == "blocking"
    assert AuditEvent.objects.filter(action="standard.update", object_id=str(rule.pk)).exists()
    assert "名称 6 至 30 个字。" in operator.get("/standards/").content.decode()

    added = operator.post(
        "/manage/standards/",
        {
            "new_kind": "forbidden_words",
            "new-code": "no-slang",
            "new-description": "名称不用口语。",
            "new-severity": "warning",
            "new-enabled": "on",
            "new-position": "50",
            "new-param_words": "啥、咋,整点",
        },
    )
    assert added.status_code == 302
    assert StandardRule.objects.get(code="no-slang").params == {"words": ["啥", "咋", "整点"]}


def test_a_changed_rule_blocks_publication(department, user_with_role):
    from citydata.catalog import services
    from citydata.catalog.models import Domain, StandardRule
    from citydata.errors import DomainError

    operator = user_with_role("operator")
    services.standard_rule_save(
        by=operator,
        data={
            "kind": "forbidden_words",
            "code": "no-test",
            "description": "名称不出现“测试”。",
            "severity": "blocking",
            "enabled": True,
            "params": {"words": "测试"},
        },
    )
    draft = services.dataset_create(
        by=None,
        department=department("JTJ"),
        data={
            "title": "绵阳市测试公交线路",
            "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get(code="transport")],
        fields=[services.FieldSpec("line", "线路", description="线路名称")],
        resources=[services.ResourceSpec("线路表", "CSV")],
    )
    with pytest.raises(DomainError) as caught:
        services.dataset_publish(by=None, dataset=draft)
    assert "测试" in str(caught.value.message)
    rule = StandardRule.objects.get(code="no-test")
    services.standard_rule_save(by=operator, rule=rule, data={**rule.__dict__, "params": rule.params, "enabled": False})
    assert services.dataset_publish(by=None, dataset=draft).status == "published"
