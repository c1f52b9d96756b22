"""Open-list versions: submit, review, publish, and the diff between two versions (R2.3)."""

import pytest

from citydata.catalog import queries, services
from citydata.catalog.models import InventoryEntry, OpenListVersion
from citydata.errors import Conflict, DomainError, Forbidden

pytestmark = pytest.mark.django_db


def entry(department, code, open_type="open", **extra):
    data = {"code": code, "name": f"资源{code}", "open_type": open_type, **extra}
    return services.inventory_entry_save(by=None, department=department, data=data)


@pytest.fixture
def jtj(department):
    dept = department("JTJ")
    entry(dept, "A")
    entry(dept, "B", "conditional")
    return dept


def test_submit_review_publish_and_diff(jtj, user_with_role, client_for):
    provider, operator = user_with_role("provider", "JTJ"), user_with_role("operator")
    first = services.open_list_submit(by=provider, department=jtj, note="首版")
    with pytest.raises(Conflict):
        services.open_list_submit(by=provider, department=jtj)  # one review at a time
    with pytest.raises(Forbidden):
        services.open_list_review(by=provider, version=first, approve=True)
    services.open_list_review(by=operator, version=first, approve=True)

    b = InventoryEntry.objects.get(code="B")
    services.inventory_entry_save(by=provider, department=jtj, entry=b, data={"open_type": "open"})
    entry(jtj, "C", "closed", legal_basis_name="《中华人民共和国数据安全法》", legal_basis_article="第二十一条")
    InventoryEntry.objects.filter(code="A").delete()
    second = services.open_list_submit(by=provider, department=jtj)
    with pytest.raises(DomainError):
        services.open_list_review(by=operator, version=second, approve=False, comment=" ")
    services.open_list_review(by=operator, version=second, approve=True)

    diff = queries.open_list_diff(first, second)
    assert [e["code"] for e in diff.added] == ["C"]
    assert [e["code"] for e in diff.removed] == ["A"]
    assert diff.reclassified == [{"code": "B", "name": "资源B", "before": "有条件开放", "after": "无条件开放"}]

    page = client_for().get("/departments/JTJ/?from=1&to=2").content.decode()
    assert "第 1 版 → 第 2 版" in page and "+ C" in page and "− A" in page and "有条件开放 → 无条件开放" in page


def test_unclassified_entries_block_submission(department):
    dept = department("WJW")
    entry(dept, "X", "pending")
    with pytest.raises(DomainError) as caught:
        services.open_list_submit(by=None, department=dept)
    assert caught.value.code == "unclassified_entries"


def test_operator_returns_a_version_with_comments_through_the_page(jtj, client_for, user_with_role):
    version = services.open_list_submit(by=user_with_role("provider", "JTJ"), department=jtj)
    operator = client_for("operator")
    assert "资源A" in operator.get(f"/manage/open-lists/{version.pk}/").content.decode()
    refused = operator.post(f"/manage/open-lists/{version.pk}/", {"decision": "return", "comment": ""})
    assert refused.status_code == 400
    assert (
        operator.post(
            f"/manage/open-lists/{version.pk}/", {"decision": "return", "comment": "B 的分类依据不足"}
        ).status_code
        == 302
    )
    version.refresh_from_db()
    assert version.status == "returned" and version.review_comment == "B 的分类依据不足"


def test_only_operators_review(jtj, client_for):
    version = services.open_list_submit(by=None, department=jtj)
    client = client_for("provider", "JTJ")
    assert client.get("/manage/open-lists/").status_code == 403
    assert client.post(f"/manage/open-lists/{version.pk}/", {"decision": "approve"}).status_code == 403
    assert OpenListVersion.objects.get(pk=version.pk).status == "submitted"


def test_bad_version_numbers_are_a_400(jtj, client):
    for _ in range(2):
        version = services.open_list_submit(by=None, department=jtj)
        services.open_list_review(by=None, version=version, approve=True)
        entry(jtj, f"Z{version.number}")
    assert client.get("/departments/JTJ/?from=abc").status_code == 400
    assert client.get("/departments/JTJ/?from=9").status_code == 400


def test_open_list_versions_through_the_api(jtj, user_with_role, client, client_for):
    provider, operator = user_with_role("provider", "JTJ"), user_with_role("operator")
    first = services.open_list_submit(by=provider, department=jtj)
    services.open_list_review(by=operator, version=first, approve=True)
    entry(jtj, "C", "closed", legal_basis_name="《中华人民共和国数据安全法》", legal_basis_article="第二十一条")
    second = services.open_list_submit(by=provider, department=jtj)
    services.open_list_review(by=operator, version=second, approve=True)
    services.open_list_submit(by=provider, department=jtj, note="待审")  # not public while in review

    listed = client.get("/api/v1/departments/jtj/open-lists").json()
    assert [(v["number"], v["status"], v["entry_count"]) for v in listed] == [(2, "approved", 3), (1, "approved", 2)]
    detail = client.get("/api/v1/departments/JTJ/open-lists/2").json()
    closed = next(e for e in detail["entries"] if e["code"] == "C")
    assert closed["open_type_label"] == "不予开放" and closed["legal_basis_article"] == "第二十一条"
    diff = client.get("/api/v1/departments/JTJ/open-lists/2/diff/1").json()
    assert (diff["older"], diff["newer"]) == (1, 2) and [e["code"] for e in diff["added"]] == ["C"]
    assert client.get("/api/v1/departments/JTJ/open-lists/3").status_code == 404
    staff = client_for("provider", "JTJ")
    assert [v["number"] for v in staff.get("/api/v1/departments/JTJ/open-lists").json()] == [3, 2, 1]
