"""Classification rules (分级分类细则): versioned data, enforced on inventory entries, shown publicly."""

import pytest

from citydata.catalog import services
from citydata.catalog.models import ClassificationRuleSet
from citydata.errors import DomainError, Forbidden

pytestmark = pytest.mark.django_db

RULES = [
    {"sensitivity": "general", "allowed_open_type": "open", "masking": "none"},
    {"sensitivity": "important", "allowed_open_type": "conditional", "masking": "partial"},
    {"sensitivity": "core", "allowed_open_type": "closed", "masking": "suppress"},
    {"field_category": "个人身份信息", "allowed_open_type": "conditional", "masking": "pseudonym"},
]


def test_rules_are_versioned_and_enforced_on_the_inventory(department, user_with_role):
    jtj = department("JTJ")
    provider = user_with_role("provider", "JTJ")
    first = services.classification_rules_publish(by=provider, department=jtj, rules=RULES, note="首版")
    data = {"code": "A", "name": "车辆轨迹", "open_type": "open", "sensitivity": "important"}
    with pytest.raises(DomainError) as caught:
        services.inventory_entry_save(by=provider, department=jtj, data=data)
    assert caught.value.code == "against_classification_rules" and "第 1 版" in str(caught.value.message)
    assert services.inventory_entry_save(by=provider, department=jtj, data={**data, "open_type": "conditional"})

    looser = [{**r, "allowed_open_type": "open"} if r.get("sensitivity") == "important" else r for r in RULES]
    second = services.classification_rules_publish(by=provider, department=jtj, rules=looser)
    assert (first.number, second.number) == (1, 2)
    assert ClassificationRuleSet.objects.get(pk=first.pk).rules[1]["allowed_open_type"] == "conditional"  # kept
    assert services.inventory_entry_save(by=provider, department=jtj, data={**data, "code": "B"})


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], "empty_rules"),
        ([{"sensitivity": "general", "field_category": "x", "allowed_open_type": "open"}], "invalid_rule"),
        ([{"sensitivity": "secret", "allowed_open_type": "open"}], "invalid_rule"),
        ([{"sensitivity": "general", "allowed_open_type": "pending"}], "invalid_rule"),
        ([{"sensitivity": "general", "allowed_open_type": "open", "masking": "blur"}], "invalid_rule"),
        ([RULES[0], RULES[0]], "duplicate_rule"),
    ],
)
def test_bad_rules_are_refused(department, rules, code):
    with pytest.raises(DomainError) as caught:
        services.classification_rules_publish(by=None, department=department("JTJ"), rules=rules)
    assert caught.value.code == code


def test_other_departments_cannot_publish_rules(department, user_with_role):
    with pytest.raises(Forbidden):
        services.classification_rules_publish(
            by=user_with_role("provider", "WJW"), department=department("JTJ"), rules=RULES
        )


def test_pages(client, client_for, department):
    department("JTJ")
    provider = client_for("provider", "JTJ")
    form = {
        "general_type": "open", "general_masking": "none",
        "important_type": "conditional", "important_masking": "partial",
        "core_type": "closed", "core_masking": "suppress",
        "cat1_name": "个人身份信息", "cat1_type": "conditional", "cat1_masking": "pseudonym",
        "note": "首版",
    }  # fmt: skip
    assert provider.post("/manage/departments/JTJ/classification/", form).status_code == 302
    page = client.get("/departments/JTJ/classification/").content.decode()
    assert "第 1 版" in page and "个人身份信息" in page and "假名化" in page and "重要数据" in page
    assert client.get("/departments/JTJ/classification/?v=x").status_code == 400
    assert client_for("provider", "WJW").get("/manage/departments/JTJ/classification/").status_code == 403
