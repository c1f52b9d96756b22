import re

import pytest
from django.core import mail

from citydata.accounts import demo
from citydata.accounts.models import ApiKey, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data():
    demo.load()


@pytest.mark.parametrize("spec", demo.DEMO_USERS, ids=lambda s: s.email.split("@")[0])
def test_each_demo_login_lands_where_its_role_works(client, demo_data, spec):
    response = client.post("/login/", {"identifier": spec.email, "password": demo.DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == spec.landing
    # and the landing page really is usable by that role
    assert client.get(spec.landing).status_code == 200


def test_demo_users_can_log_in_by_mobile_too(client, demo_data):
    spec = demo.DEMO_USERS[0]
    response = client.post("/login/", {"identifier": spec.mobile, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302


def test_register_in_the_browser_flow(client):
    response = client.post("/register/", {"identifier": "web@example.cn"})
    assert response.status_code == 302 and response["Location"] == "/register/verify/"
    code = re.search(r"验证码是 (\d{6})", mail.outbox[-1].body).group(1)
    response = client.post(
        "/register/verify/",
        {"code": code, "display_name": "网页用户", "password": PASSWORD, "password2": PASSWORD, "agree": "on"},
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert User.objects.get(email="web@example.cn").display_name == "网页用户"
    page = client.get("/account/").content.decode()
    assert "网页用户" in page and "用户中心" in page


def test_register_form_keeps_input_and_explains_errors(client):
    client.post("/register/", {"identifier": "keep@example.cn"})
    response = client.post(
        "/register/verify/", {"code": "12", "display_name": "留着", "password": PASSWORD, "password2": "other"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "两次输入的密码不一致" in page and "请阅读并同意" in page and 'value="留着"' in page


def test_wrong_passwords_lock_with_a_clear_message(client, make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    make_user(email="victim@example.cn")
    for _ in range(2):
        response = client.post("/login/", {"identifier": "victim@example.cn", "password": "nope"})
        assert response.status_code == 400 and "账号或密码错误" in response.content.decode()
    response = client.post("/login/", {"identifier": "victim@example.cn", "password": "nope"})
    page = response.content.decode()
    assert response.status_code == 429
    assert re.search(r"请在 \d{2}:\d{2} 后（约 \d+ 分钟）重试", page)


def test_invalid_resident_id_gets_a_chinese_field_error(client_for):
    client = client_for()
    response = client.post("/account/real-name/", {"real_name": "张三", "resident_id": "110105194912310021"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "身份证号校验位不正确" in page and 'id="id_resident_id_errors"' in page


def test_invalid_credit_code_gets_a_chinese_field_error(client_for):
    client = client_for()
    response = client.post(
        "/account/organisations/", {"name": "测试公司", "uscc": "91350100M000100Y44", "type": "enterprise"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "统一社会信用代码校验位不正确" in page and 'id="id_uscc_errors"' in page


def test_real_name_page_shows_only_the_masked_id(client_for):
    client = client_for()
    response = client.post(
        "/account/real-name/", {"real_name": "张三", "resident_id": "11010519491231002X"}, follow=True
    )
    page = response.content.decode()
    assert "110105********002X" in page and "11010519491231002X" not in page


def test_api_key_secret_is_shown_once(client_for):
    client = client_for()
    response = client.post("/account/api-keys/", {"name": "脚本"})
    assert response.status_code == 201
    secret = re.search(r'id="api-key-secret">([^<]+)<', response.content.decode()).group(1)
    assert secret.startswith("cd_")
    assert secret not in client.get("/account/").content.decode()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    key = ApiKey.objects.get(user=client.user)
    client.post(f"/account/api-keys/{key.prefix}/revoke/")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        ("registered", "/console/", False),
        ("provider", "/console/", False),
        ("operator", "/console/", True),
        ("registered", "/workspace/", False),
        ("provider", "/workspace/", True),
        ("registered", "/security/audit/", False),
        ("operator", "/security/audit/", False),
        ("auditor", "/security/audit/", True),
        ("registered", "/expert/", False),
        ("expert", "/expert/", True),
    ],
)
def test_role_pages_are_closed_to_other_roles(client_for, role, path, allowed):
    client = client_for(role, "JTJ" if role == "provider" else None)
    response = client.get(path)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert "没有" in response.content.decode()


def test_provider_cannot_open_another_departments_page(client_for, department):
    department("WJW")
    client = client_for("provider", "JTJ")
    assert client.get("/manage/departments/JTJ/").status_code == 200
    assert client.get("/manage/departments/WJW/").status_code == 403


def test_operator_adds_staff_then_assigns_a_duty(client_for, department, make_user):
    department("JTJ")
    staff = make_user(email="staff@example.cn")
    client = client_for("operator")
    duty = {"form": "duty", "stage": "publishing", "identifier": "staff@example.cn", "phone": "0816-1234567"}
    refused = client.post("/manage/departments/JTJ/", duty)
    assert refused.status_code == 400 and "必须是本部门人员" in refused.content.decode()
    assert (
        client.post("/manage/departments/JTJ/", {"form": "staff", "identifier": "staff@example.cn"}).status_code == 302
    )
    assert client.post("/manage/departments/JTJ/", duty).status_code == 302
    assert staff.duties.get().stage == "publishing"
    page = client.get("/console/").content.decode()
    assert str(staff) in page


def test_removing_staff_also_removes_their_duties(client_for, department, make_user):
    from citydata.accounts import services
    from citydata.accounts.models import RoleAssignment

    staff = make_user(email="leaver@example.cn")
    services.role_grant(by=None, user=staff, role="provider", department=department("JTJ"))
    services.duty_assign(by=None, department=department("JTJ"), stage="feedback", user=staff)
    client = client_for("operator")
    assignment = RoleAssignment.objects.get(user=staff)
    assert client.post(f"/roles/{assignment.pk}/revoke/").status_code == 302
    assert not staff.duties.exists() and not RoleAssignment.objects.filter(user=staff).exists()
    from citydata.security.models import AuditEvent

    event = AuditEvent.objects.filter(action="role.revoke").latest("seq")
    assert event.changes["duties"] == {"before": ["feedback"], "after": []}


def test_operator_grants_a_platform_role(client_for, make_user):
    person = make_user(email="newauditor@example.cn")
    client = client_for("operator")
    response = client.post("/console/", {"form": "role", "identifier": "newauditor@example.cn", "role": "auditor"})
    assert response.status_code == 302
    assert person.role_assignments.get().role == "auditor"
    unknown = client.post("/console/", {"form": "role", "identifier": "nobody@example.cn", "role": "auditor"})
    assert unknown.status_code == 400 and "没有找到" in unknown.content.decode()


def test_operator_cannot_revoke_their_own_operator_role(client_for):
    from citydata.accounts.models import RoleAssignment

    client = client_for("operator")
    own = RoleAssignment.objects.get(user=client.user)
    assert client.post(f"/roles/{own.pk}/revoke/").status_code == 400
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_provider_cannot_assign_duties_or_add_staff(client_for, make_user):
    make_user(email="staff2@example.cn")
    client = client_for("provider", "JTJ")
    response = client.post(
        "/manage/departments/JTJ/", {"form": "duty", "stage": "publishing", "identifier": "staff2@example.cn"}
    )
    assert response.status_code == 403
    assert (
        client.post("/manage/departments/JTJ/", {"form": "staff", "identifier": "staff2@example.cn"}).status_code == 403
    )
    assert (
        client.post("/console/", {"form": "role", "identifier": "staff2@example.cn", "role": "operator"}).status_code
        == 403
    )
    assert client.post("/console/", {"form": "department", "code": "NEW", "name": "新部门"}).status_code == 403


GARBAGE = [
    "",
    " ",
    "a" * 10000,
    "\x00",
    "<script>",
    "' OR 1=1 --",
    "１３８００１３８０００",
    "😀@例子.中国",
    "@",
    "+86",
]


@pytest.mark.parametrize("value", GARBAGE)
def test_auth_pages_never_fail_on_malformed_input(client, value):
    for path, data in [
        ("/login/", {"identifier": value, "password": value}),
        ("/register/", {"identifier": value}),
        ("/password-reset/", {"identifier": value}),
    ]:
        response = client.post(path, data)
        assert response.status_code < 500, (path, value)
    session = client.session
    session["register_target"] = "x@example.cn"
    session["reset_target"] = "x@example.cn"
    session.save()
    for path in ("/register/verify/", "/password-reset/confirm/"):
        data = {"code": value, "password": value, "password2": value, "display_name": value, "agree": value}
        assert client.post(path, data).status_code < 500, (path, value)


def test_operator_creates_a_department_under_a_parent(client_for, department):
    from citydata.accounts.models import Department

    department("ZGJ", "市政务服务监督管理局")
    client = client_for("operator")
    response = client.post("/console/", {"form": "department", "code": "sjj", "name": "市数据局", "parent": "ZGJ"})
    assert response.status_code == 302 and response["Location"] == "/manage/departments/SJJ/"
    assert Department.objects.get(code="SJJ").parent.code == "ZGJ"
    again = client.post("/console/", {"form": "department", "code": "SJJ", "name": "另一个"})
    assert again.status_code == 400 and "部门编码已存在" in again.content.decode()
    bad = client.post("/console/", {"form": "department", "code": "数据", "name": "x"})
    assert bad.status_code == 400 and "部门编码只能包含" in bad.content.decode()


@pytest.mark.parametrize("path", ["/console/", "/security/audit/"])
def test_list_pages_do_not_query_per_row(client_for, department, make_user, path):
    """N+1 guard: doubling the rows must not add queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from citydata.accounts import services

    client = client_for("operator" if path == "/console/" else "auditor")

    def add_rows(start, count):
        for i in range(start, start + count):
            dept = department(f"D{i:03d}")
            staff = make_user()
            services.role_grant(by=None, user=staff, role="provider", department=dept)
            services.duty_assign(by=None, department=dept, stage="inventory", user=staff)

    add_rows(0, 5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    add_rows(5, 10)
    with CaptureQueriesContext(connection) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_weak_password_errors_are_in_chinese(client):
    client.post("/register/", {"identifier": "weak@example.cn"})
    code = re.search(r"验证码是 (\d{6})", mail.outbox[-1].body).group(1)
    response = client.post("/register/verify/", {"code": code, "password": "1234", "password2": "1234", "agree": "on"})
    page = response.content.decode()
    assert "密码太短，至少需要 8 个字符" in page and "密码不能全是数字" in page and "too short" not in page


def test_get_on_a_post_only_address_gets_a_page(client_for):
    response = client_for().get("/logout/")
    assert response.status_code == 405 and "不支持的操作" in response.content.decode()


def test_refusals_inside_pages_say_why(client_for):
    from citydata.accounts.models import RoleAssignment

    client = client_for("operator")
    own = RoleAssignment.objects.get(user=client.user)
    assert "不能撤销自己的平台运营方角色" in client.post(f"/roles/{own.pk}/revoke/").content.decode()


@pytest.mark.parametrize("spec", demo.DEMO_USERS, ids=lambda s: s.email.split("@")[0])
def test_landing_pages_are_well_formed(client, demo_data, spec):
    client.post("/login/", {"identifier": spec.email, "password": demo.DEMO_PASSWORD})
    page = client.get(spec.landing).content.decode()
    title = re.search(r"<title>(.*?)</title>", page, flags=re.S).group(1)
    assert "<" not in title and len(title) < 100
    assert page.count("<main") == 1 and page.count("</html>") == 1


def test_operator_removes_a_duty(client_for, department, make_user):
    from citydata.accounts import services

    staff = make_user()
    services.role_grant(by=None, user=staff, role="provider", department=department("JTJ"))
    duty = services.duty_assign(by=None, department=department("JTJ"), stage="security", user=staff)
    assert client_for("provider", "JTJ").post(f"/duties/{duty.pk}/remove/").status_code == 403
    assert client_for("operator").post(f"/duties/{duty.pk}/remove/").status_code == 302
    assert not staff.duties.exists()


def test_org_admin_manages_members_but_never_leaves_the_org_without_one(client, make_user):
    from citydata.accounts import services

    admin, member = make_user(), make_user(email="member@example.cn")
    organisation = services.organisation_create(by=admin, name="示范银行", uscc="91350100M000100Y43", type="bank")
    services.organisation_add_member(organisation=organisation, by=admin, identifier="member@example.cn")
    own = organisation.memberships.get(user=admin)
    theirs = organisation.memberships.get(user=member)
    client.force_login(admin, backend="citydata.accounts.backends.MobileOrEmailBackend")
    last = client.post(f"/account/memberships/{own.pk}/", {"action": "drop_admin"})
    assert last.status_code == 400 and "至少需要一名管理员" in last.content.decode()
    assert client.post(f"/account/memberships/{theirs.pk}/", {"action": "make_admin"}).status_code == 302
    assert client.post(f"/account/memberships/{own.pk}/", {"action": "remove"}).status_code == 302
    assert list(organisation.memberships.values_list("user_id", "is_admin")) == [(member.pk, True)]


def test_members_cannot_manage_their_organisation(client, make_user):
    from citydata.accounts import services

    admin, member = make_user(), make_user(email="plain@example.cn")
    organisation = services.organisation_create(by=admin, name="示范公司", uscc="91350100M000100Y43", type="enterprise")
    services.organisation_add_member(organisation=organisation, by=admin, identifier="plain@example.cn")
    client.force_login(member, backend="citydata.accounts.backends.MobileOrEmailBackend")
    own = organisation.memberships.get(user=admin)
    assert client.post(f"/account/memberships/{own.pk}/", {"action": "remove"}).status_code == 403
