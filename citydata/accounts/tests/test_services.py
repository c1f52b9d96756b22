import re

import pytest
from django.core import mail
from django.test import RequestFactory

from citydata.accounts import authz, protect, services
from citydata.accounts.messaging import sms_outbox
from citydata.accounts.models import ApiKey, LoginAttempt, User, VerificationCode
from citydata.errors import Conflict, DomainError, Forbidden, TooManyRequests
from citydata.security.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def last_code_in_mail() -> str:
    return re.search(r"验证码是 (\d{6})", mail.outbox[-1].body).group(1)


def last_code_in_sms() -> str:
    return re.search(r"验证码是 (\d{6})", sms_outbox[-1][1]).group(1)


def login_request(ip="10.0.0.1"):
    request = RequestFactory().post("/login/")
    request.client_ip = ip
    request.session = {}
    return request


def test_register_by_email_with_code():
    services.code_send(identifier="New.User@Example.CN", purpose="register")
    assert mail.outbox[-1].to == ["new.user@example.cn"]
    user = services.user_register(
        identifier="new.user@example.cn", code=last_code_in_mail(), password=PASSWORD, display_name="新用户"
    )
    assert user.email == "new.user@example.cn"
    assert user.password.startswith("argon2")
    assert AuditEvent.objects.filter(action="user.register", object_id=str(user.pk)).exists()
    # the code is single-use
    with pytest.raises(DomainError):
        services.user_register(identifier="new.user@example.cn", code=last_code_in_mail(), password=PASSWORD)


def test_the_platform_hashes_passwords_with_argon2_at_its_full_cost():
    """The tests hash with Argon2 at its least cost (see the root conftest); the platform's setting is the real one."""
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.utils.module_loading import import_string

    from citydata import settings as platform_settings

    assert import_string(platform_settings.PASSWORD_HASHERS[0]) is Argon2PasswordHasher


def test_register_by_mobile_sends_sms():
    services.code_send(identifier="+86 139-0000-1111", purpose="register")
    assert sms_outbox[-1][0] == "13900001111"
    user = services.user_register(identifier="13900001111", code=last_code_in_sms(), password=PASSWORD)
    assert user.mobile == "13900001111" and user.email is None


def test_wrong_codes_are_counted_and_exhaust_the_code():
    services.code_send(identifier="a@example.cn", purpose="register")
    good = last_code_in_mail()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(services.CODE_MAX_ATTEMPTS):
        with pytest.raises(DomainError) as caught:
            services.user_register(identifier="a@example.cn", code=wrong, password=PASSWORD)
        assert caught.value.code == "code_wrong"
    assert VerificationCode.objects.get(target="a@example.cn").attempts == services.CODE_MAX_ATTEMPTS
    with pytest.raises(DomainError) as caught:
        services.user_register(identifier="a@example.cn", code=good, password=PASSWORD)
    assert caught.value.code == "code_exhausted"
    assert not User.objects.filter(email="a@example.cn").exists()


def test_weak_password_does_not_burn_the_code():
    services.code_send(identifier="b@example.cn", purpose="register")
    with pytest.raises(DomainError) as caught:
        services.user_register(identifier="b@example.cn", code=last_code_in_mail(), password="12345678")
    assert caught.value.code == "weak_password"
    services.user_register(identifier="b@example.cn", code=last_code_in_mail(), password=PASSWORD)


def test_code_resend_is_throttled(settings):
    settings.CODE_RESEND_SECONDS = 60
    services.code_send(identifier="c@example.cn", purpose="register")
    with pytest.raises(TooManyRequests) as caught:
        services.code_send(identifier="c@example.cn", purpose="register")
    assert caught.value.details["retry_after"] > 0


def test_registered_address_cannot_register_again(make_user):
    make_user(email="taken@example.cn")
    with pytest.raises(Conflict):
        services.code_send(identifier="TAKEN@example.cn", purpose="register")


def test_login_locks_after_repeated_failures(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = make_user(email="lock@example.cn")
    for left in (2, 1):
        with pytest.raises(services.LoginFailed) as caught:
            services.user_login(request=login_request(), identifier="lock@example.cn", password="wrong")
        assert caught.value.details["attempts_left"] == left
    with pytest.raises(services.LoginLocked) as caught:
        services.user_login(request=login_request(), identifier="lock@example.cn", password="wrong")
    assert "锁定" in str(caught.value.message) and "重试" in str(caught.value.message)
    # even the right password is refused while locked, and the attempt is not counted
    with pytest.raises(services.LoginLocked):
        services.user_login(request=login_request(), identifier="lock@example.cn", password=PASSWORD)
    assert LoginAttempt.objects.filter(identifier=f"user:{user.pk}").count() == 3
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert actions.count("user.login_failed") == 3 and actions.count("user.locked") == 1


def test_lock_covers_the_account_whichever_identifier_is_typed(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    make_user(email="both@example.cn", mobile="13600001111")
    for identifier in ("both@example.cn", "13600001111", "+86 136 0000 1111"):
        with pytest.raises(DomainError):
            services.user_login(request=login_request(), identifier=identifier, password="wrong")
    with pytest.raises(services.LoginLocked):
        services.user_login(request=login_request(), identifier="BOTH@example.cn", password=PASSWORD)


def test_login_lock_expires(make_user, settings):
    import datetime as dt

    from django.utils import timezone

    settings.LOGIN_MAX_FAILURES = 2
    make_user(email="expire@example.cn")
    for _ in range(2):
        with pytest.raises(DomainError):
            services.user_login(request=login_request(), identifier="expire@example.cn", password="wrong")
    past = timezone.now() - dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1)
    LoginAttempt.objects.update(created_at=past)
    assert services.user_login(request=login_request(), identifier="expire@example.cn", password=PASSWORD)


def test_ip_lock_covers_every_account(make_user, settings):
    settings.LOGIN_IP_MAX_FAILURES = 3
    for i in range(3):
        with pytest.raises(DomainError):
            services.user_login(request=login_request("10.9.9.9"), identifier=f"nobody{i}@example.cn", password="x")
    user = make_user(email="innocent@example.cn")
    with pytest.raises(services.LoginLocked) as caught:
        services.user_login(request=login_request("10.9.9.9"), identifier=user.email, password=PASSWORD)
    assert caught.value.details["scope"] == "ip"
    assert services.user_login(request=login_request("10.1.1.1"), identifier=user.email, password=PASSWORD) == user


def test_password_reset_unlocks_and_changes_password(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = make_user(mobile="13700001234")
    for _ in range(2):
        with pytest.raises(DomainError):
            services.user_login(request=login_request(), identifier="13700001234", password="wrong")
    services.code_send(identifier="13700001234", purpose="reset")
    services.password_reset(identifier="13700001234", code=last_code_in_sms(), password="New-pass-2026")
    assert services.user_login(request=login_request(), identifier="137 0000 1234", password="New-pass-2026") == user


def test_password_reset_answers_the_same_for_unknown_accounts(make_user, settings):
    settings.CODE_RESEND_SECONDS = 60
    make_user(email="real@example.cn")
    outcomes = []
    for identifier in ("real@example.cn", "ghost@example.cn"):
        services.code_send(identifier=identifier, purpose="reset")
        with pytest.raises(TooManyRequests):
            services.code_send(identifier=identifier, purpose="reset")
        with pytest.raises(DomainError) as caught:
            services.password_reset(identifier=identifier, code="000000", password=PASSWORD)
        outcomes.append((caught.value.code, caught.value.status))
    assert outcomes[0] == outcomes[1]
    assert [m.to for m in mail.outbox] == [["real@example.cn"]]  # nothing goes to an unknown address


def test_codes_per_address_are_capped_per_day(settings):
    for _ in range(services.CODE_DAILY_LIMIT):
        services.code_send(identifier="flood@example.cn", purpose="register")
    with pytest.raises(TooManyRequests) as caught:
        services.code_send(identifier="flood@example.cn", purpose="register")
    assert caught.value.code == "code_daily_limit"


def test_real_name_is_encrypted_and_masked(make_user):
    user = make_user()
    services.user_set_real_name(user=user, by=user, real_name="张三", resident_id="11010519491231002x")
    user.refresh_from_db()
    assert user.resident_id_masked == "110105********002X"
    assert "11010519491231002X" not in user.resident_id_encrypted
    assert protect.decrypt(user.resident_id_encrypted) == "11010519491231002X"
    event = AuditEvent.objects.get(action="user.set_real_name")
    assert "11010519491231002X" not in str(event.changes)


def test_same_resident_id_cannot_be_claimed_twice(make_user):
    first, second = make_user(), make_user()
    services.user_set_real_name(user=first, by=first, real_name="张三", resident_id="11010519491231002X")
    with pytest.raises(Conflict):
        services.user_set_real_name(user=second, by=second, real_name="李四", resident_id="11010519491231002X")


def test_invalid_resident_id_is_refused_with_field(make_user):
    user = make_user()
    with pytest.raises(DomainError) as caught:
        services.user_set_real_name(user=user, by=user, real_name="张三", resident_id="110105194912310021")
    assert caught.value.details == {"field": "resident_id"}
    assert "校验位" in str(caught.value.message)


def test_someone_else_cannot_set_my_real_name(make_user):
    me, other = make_user(), make_user()
    with pytest.raises(Forbidden):
        services.user_set_real_name(user=me, by=other, real_name="张三", resident_id="11010519491231002X")


def test_organisation_creator_becomes_admin_and_can_add_members(make_user):
    admin, member, outsider = make_user(), make_user(email="m@example.cn"), make_user()
    organisation = services.organisation_create(
        by=admin, name="示范科技有限公司", uscc="91350100M000100Y43", type="enterprise"
    )
    assert authz.has_role(admin, authz.ORG_ADMIN)
    services.organisation_add_member(organisation=organisation, by=admin, identifier="m@example.cn")
    assert organisation.memberships.filter(user=member, is_admin=False).exists()
    with pytest.raises(Forbidden):
        services.organisation_add_member(organisation=organisation, by=outsider, identifier=outsider.email)


def test_duplicate_credit_code_is_a_conflict(make_user):
    user = make_user()
    services.organisation_create(by=user, name="甲公司", uscc="91350100M000100Y43", type="enterprise")
    with pytest.raises(Conflict):
        services.organisation_create(by=make_user(), name="乙公司", uscc="91350100m000100y43", type="enterprise")


def test_only_operators_grant_roles(user_with_role, make_user):
    operator, provider, target = user_with_role("operator"), user_with_role("provider", "JTJ"), make_user()
    with pytest.raises(Forbidden):
        services.role_grant(by=provider, user=target, role="auditor")
    services.role_grant(by=operator, user=target, role="auditor")
    assert authz.has_role(target, "auditor")
    event = AuditEvent.objects.filter(action="role.grant").latest("seq")
    assert event.actor_id == operator.pk and event.actor_role == "operator"


def test_provider_role_needs_a_department(user_with_role, make_user):
    with pytest.raises(DomainError):
        services.role_grant(by=user_with_role("operator"), user=make_user(), role="provider")


def test_provider_scope_is_their_department(user_with_role, department):
    provider = user_with_role("provider", "JTJ")
    assert authz.can(provider, "department.workspace", department("JTJ"))
    assert not authz.can(provider, "department.workspace", department("WJW"))
    assert not authz.can(provider, "department.manage")
    assert not authz.can(provider, "audit.view")


def test_every_registered_rule_refuses_anonymous_and_inactive_users(make_user):
    from django.contrib.auth.models import AnonymousUser

    inactive = make_user(is_active=False)
    for action in authz.RULES:
        assert not authz.can(AnonymousUser(), action), action
        assert not authz.can(inactive, action), action


def test_api_key_lifecycle(make_user):
    user = make_user()
    key, secret = services.apikey_create(by=user, name="小程序")
    assert secret.startswith("cd_") and key.digest != secret and secret not in key.digest
    assert services.apikey_authenticate(secret) == user
    assert services.apikey_authenticate(secret + "x") is None
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    with pytest.raises(Forbidden):
        services.apikey_revoke(by=make_user(), key=key)
    services.apikey_revoke(by=user, key=key)
    assert services.apikey_authenticate(secret) is None
    assert [e.action for e in AuditEvent.objects.filter(object_type="accounts.apikey").order_by("seq")] == [
        "apikey.create",
        "apikey.revoke",
    ]


def test_codes_per_ip_are_capped_per_hour(settings):
    settings.CODE_IP_HOURLY_LIMIT = 3
    for i in range(3):
        services.code_send(identifier=f"pump{i}@example.cn", purpose="register", ip="10.7.7.7")
    with pytest.raises(TooManyRequests) as caught:
        services.code_send(identifier="pump9@example.cn", purpose="register", ip="10.7.7.7")
    assert caught.value.code == "code_ip_limit"
    services.code_send(identifier="pump9@example.cn", purpose="register", ip="10.8.8.8")
