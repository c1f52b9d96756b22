"""Every write to accounts: registration, login, passwords, real-name details, organisations,
departments, duties, roles and API keys. Each one authorises, changes state in one transaction
and records an audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz, protect
from citydata.accounts.identifiers import mask_resident_id, validate_mobile, validate_resident_id, validate_uscc
from citydata.accounts.messaging import send_code
from citydata.accounts.models import (
    ApiKey,
    CodePurpose,
    Department,
    DepartmentDuty,
    LoginAttempt,
    Membership,
    Organisation,
    Role,
    RoleAssignment,
    User,
    VerificationCode,
)
from citydata.errors import Conflict, DomainError, NotFound, TooManyRequests
from citydata.security import audit

CODE_MAX_ATTEMPTS = 5
# Codes sent to one address per day: with five guesses each, at most 50 guesses at a 1-in-a-million code.
CODE_DAILY_LIMIT = 10
API_KEY_PREFIX = "cd_"


# --- identifiers -------------------------------------------------------------------------------


def normalize_identifier(identifier: str) -> tuple[str | None, str]:
    """('email', address) or ('mobile', number) or (None, raw) when it is neither."""
    raw = (identifier or "").strip()
    if "@" in raw:
        address = raw.lower()
        try:
            validate_email(address)
        except ValidationError:
            return None, raw
        return "email", address
    try:
        return "mobile", validate_mobile(raw)
    except ValidationError:
        return None, raw


def parse_identifier(identifier: str) -> tuple[str, str]:
    kind, value = normalize_identifier(identifier)
    if kind is None:
        raise DomainError(
            _("请输入有效的手机号或电子邮箱。"), code="invalid_identifier", details={"field": "identifier"}
        )
    return kind, value


# --- verification codes ------------------------------------------------------------------------


def _code_digest(target: str, purpose: str, code: str) -> str:
    message = f"{target}|{purpose}|{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def code_send(*, identifier: str, purpose: str, ip: str | None = None) -> str:
    """Send a fresh six-digit code to an e-mail address or mobile number. Returns the normalised target."""
    kind, target = parse_identifier(identifier)
    exists = User.objects.filter(**{kind: target}).exists()
    if purpose == CodePurpose.REGISTER and exists:
        raise Conflict(_("该手机号或邮箱已注册，请直接登录；忘记密码可找回。"), code="already_registered")
    now = timezone.now()
    last = VerificationCode.objects.filter(target=target, purpose=purpose).order_by("-created_at").first()
    if last and (now - last.created_at).total_seconds() < settings.CODE_RESEND_SECONDS:
        wait = settings.CODE_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise TooManyRequests(
            _("验证码发送过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": wait},
            code="code_too_frequent",
            details={"retry_after": wait},
        )
    hour_ago = now - dt.timedelta(hours=1)
    ip_limit = settings.CODE_IP_HOURLY_LIMIT
    if ip and ip_limit and VerificationCode.objects.filter(ip=ip, created_at__gt=hour_ago).count() >= ip_limit:
        raise TooManyRequests(
            _("此网络地址请求验证码过于频繁，请一小时后再试。"), code="code_ip_limit", details={"retry_after": 3600}
        )
    day_ago = now - dt.timedelta(days=1)
    if VerificationCode.objects.filter(target=target, created_at__gt=day_ago).count() >= CODE_DAILY_LIMIT:
        raise TooManyRequests(
            _("今天向该地址发送的验证码已达上限，请明天再试或联系平台客服。"), code="code_daily_limit"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    if purpose == CodePurpose.RESET and not exists:
        # Behave exactly as for a real account (same throttling, same answer) but send nothing,
        # so the form does not reveal who is registered. The stored digest matches no code.
        code = secrets.token_hex(16)
    VerificationCode.objects.create(
        target=target,
        purpose=purpose,
        digest=_code_digest(target, purpose, code),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.CODE_TTL_MINUTES),
        ip=ip,
    )
    if exists or purpose == CodePurpose.REGISTER:
        send_code(target, code, str(CodePurpose(purpose).label))
    return target


def _code_consume(*, target: str, purpose: str, code: str) -> None:
    """Use up a valid code or raise. Runs in its own transaction so a wrong guess is counted even
    when the caller gives up; call it outside any other transaction."""
    now = timezone.now()
    error = None
    with transaction.atomic():
        entry = (
            VerificationCode.objects.select_for_update()
            .filter(target=target, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if entry is None:
            error = DomainError(_("验证码已过期或不存在，请重新获取。"), code="code_expired")
        elif entry.attempts >= CODE_MAX_ATTEMPTS:
            error = DomainError(_("验证码错误次数过多，请重新获取。"), code="code_exhausted")
        elif not hmac.compare_digest(entry.digest, _code_digest(target, purpose, (code or "").strip())):
            VerificationCode.objects.filter(pk=entry.pk).update(attempts=entry.attempts + 1)
            error = DomainError(_("验证码不正确。"), code="code_wrong")
        else:
            entry.used_at = now
            entry.save(update_fields=["used_at"])
    if error is not None:
        error.details = {"field": "code"}
        raise error


PASSWORD_MESSAGES = {
    "password_too_short": _("密码太短，至少需要 %(min_length)s 个字符。"),
    "password_too_common": _("密码过于常见，请换一个更难猜的密码。"),
    "password_entirely_numeric": _("密码不能全是数字。"),
    "password_too_similar": _("密码与账号信息过于相似。"),
}


def _check_password(password: str, user: User | None = None) -> None:
    """Django's password validators, with messages of our own: Django's Chinese catalogue lags
    behind its English texts, which left some of these untranslated."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        messages = []
        for error in exc.error_list:
            known = PASSWORD_MESSAGES.get(error.code or "")
            messages.append(str(known) % (error.params or {}) if known else " ".join(error.messages))
        raise DomainError(" ".join(messages), code="weak_password", details={"field": "password"}) from None


# --- registration, login, password reset -------------------------------------------------------


def user_register(*, identifier: str, code: str, password: str, display_name: str = "") -> User:
    kind, target = parse_identifier(identifier)
    candidate = User(**{kind: target}, display_name=display_name)
    _check_password(password, candidate)
    _code_consume(target=target, purpose=CodePurpose.REGISTER, code=code)
    with transaction.atomic():
        if User.objects.filter(**{kind: target}).exists():
            raise Conflict(_("该手机号或邮箱已注册，请直接登录；忘记密码可找回。"), code="already_registered")
        try:
            user = User.objects.create_user(**{kind: target}, password=password, display_name=display_name)
        except IntegrityError:
            raise Conflict(_("该手机号或邮箱已注册，请直接登录；忘记密码可找回。"), code="already_registered") from None
        audit.record(user, "user.register", user, changes={kind: {"before": None, "after": target}})
    return user


@transaction.atomic
def user_create(
    *, by: User | None, email: str | None, mobile: str | None, password: str, display_name: str = ""
) -> User:
    """Create an account for someone else (operators, or the system when `by` is None)."""
    if by is not None:
        authz.authorize(by, "role.assign")
    if not email and not mobile:
        raise DomainError(
            _("请输入有效的手机号或电子邮箱。"), code="invalid_identifier", details={"field": "identifier"}
        )
    fields = {}
    if email:
        fields["email"] = parse_identifier(email)[1]
    if mobile:
        fields["mobile"] = parse_identifier(mobile)[1]
    if User.objects.filter(Q(email=fields.get("email", "-")) | Q(mobile=fields.get("mobile", "-"))).exists():
        raise Conflict(_("该手机号或邮箱已注册，请直接登录；忘记密码可找回。"), code="already_registered")
    _check_password(password, User(**fields, display_name=display_name))
    user = User.objects.create_user(**fields, password=password, display_name=display_name)
    audit.record(by, "user.create", user, changes={k: {"before": None, "after": v} for k, v in fields.items()})
    return user


@dataclass(frozen=True)
class Lock:
    until: dt.datetime
    scope: str  # "account" or "ip"

    @property
    def message(self) -> str:
        minutes = max(1, int((self.until - timezone.now()).total_seconds() // 60) + 1)
        until = timezone.localtime(self.until)
        same_day = until.date() == timezone.localdate()
        when = date_format(until, "H:i" if same_day else "Y-m-d H:i")
        if self.scope == "ip":
            text = _("此网络地址登录失败次数过多，已暂时锁定。请在 %(time)s 后（约 %(minutes)s 分钟）重试。")
        else:
            text = _(
                "登录失败次数过多，账号已暂时锁定。"
                "请在 %(time)s 后（约 %(minutes)s 分钟）重试，或通过“找回密码”重设密码。"
            )
        return str(text) % {"time": when, "minutes": minutes}


class LoginLocked(DomainError):
    status = 429
    default_code = "login_locked"


class LoginFailed(DomainError):
    status = 400
    default_code = "login_failed"


def login_lock(*, identifier: str, ip: str | None) -> Lock | None:
    """The lock in force for this identifier or IP address, if any."""
    window = dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    since = timezone.now() - window
    last_success = LoginAttempt.objects.filter(identifier=identifier, succeeded=True).order_by("-created_at").first()
    account_since = max(since, last_success.created_at) if last_success else since
    failures = LoginAttempt.objects.filter(identifier=identifier, succeeded=False, created_at__gt=account_since)
    if failures.count() >= settings.LOGIN_MAX_FAILURES:
        return Lock(failures.order_by("-created_at")[0].created_at + window, "account")
    if ip:
        ip_failures = LoginAttempt.objects.filter(ip=ip, succeeded=False, created_at__gt=since)
        if ip_failures.count() >= settings.LOGIN_IP_MAX_FAILURES:
            return Lock(ip_failures.order_by("-created_at")[0].created_at + window, "ip")
    return None


def _login_key(identifier: str) -> tuple[str, User | None]:
    """What failures are counted against: the account when it exists (whichever of its e-mail or
    mobile was typed), otherwise the typed identifier."""
    kind, value = normalize_identifier(identifier)
    user = User.objects.filter(**{kind: value}).first() if kind else None
    return (f"user:{user.pk}" if user else value[:254]), user


def _lock_error(lock: Lock) -> LoginLocked:
    return LoginLocked(lock.message, details={"retry_at": lock.until.isoformat(), "scope": lock.scope})


def user_login(*, request, identifier: str, password: str) -> User:
    """Check a login. Raises LoginLocked (with the time to retry) or LoginFailed; returns the user.

    Failures count per account and per IP address. The check, the attempt row and the audit
    record happen in one transaction that holds the account's row lock, so parallel guesses
    cannot slip past the limit.
    """
    key, account = _login_key(identifier)
    ip = getattr(request, "client_ip", None)
    masked = account.login_label if account else key[:3] + "***"
    error: DomainError | None = None
    with transaction.atomic():
        if account is not None:
            User.objects.select_for_update().filter(pk=account.pk).first()
        lock = login_lock(identifier=key, ip=ip)
        if lock:
            error = _lock_error(lock)
        else:
            user = authenticate(request, username=identifier, password=password) if account else None
            LoginAttempt.objects.create(identifier=key, ip=ip, succeeded=user is not None)
            if user is not None:
                audit.record(user, "user.login", user)
                return user
            visitor = getattr(request, "user", None)
            audit.record(
                visitor, "user.login_failed", account, object_type="accounts.user", object_repr=masked, note=f"ip={ip}"
            )
            lock = login_lock(identifier=key, ip=ip)
            if lock:
                audit.record(
                    visitor, "user.locked", account, object_type="accounts.user", object_repr=masked, note=lock.scope
                )
                error = _lock_error(lock)
            else:
                error = _failed_error(key)
    assert error is not None
    raise error


def _failed_error(key: str) -> LoginFailed:
    since = timezone.now() - dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    recent = LoginAttempt.objects.filter(identifier=key, created_at__gt=since).order_by("-created_at")
    streak = 0
    for succeeded in recent.values_list("succeeded", flat=True)[: settings.LOGIN_MAX_FAILURES]:
        if succeeded:
            break
        streak += 1
    left = settings.LOGIN_MAX_FAILURES - streak
    return LoginFailed(
        _("账号或密码错误。再错误 %(left)s 次，账号将被锁定 %(minutes)s 分钟。")
        % {"left": left, "minutes": settings.LOGIN_LOCK_MINUTES},
        details={"attempts_left": left},
    )


def password_reset(*, identifier: str, code: str, password: str) -> User:
    kind, target = parse_identifier(identifier)
    user = User.objects.filter(**{kind: target}).first()
    if user is not None:
        _check_password(password, user)
    # No code is ever sent for an unknown account, so this fails the same way as an expired code.
    _code_consume(target=target, purpose=CodePurpose.RESET, code=code)
    if user is None:  # unreachable unless the account was deleted in between
        raise DomainError(_("验证码已过期或不存在，请重新获取。"), code="code_expired", details={"field": "code"})
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # A successful reset clears the failure streak that may have locked the account.
        LoginAttempt.objects.create(identifier=f"user:{user.pk}", ip=None, succeeded=True)
        audit.record(user, "user.password_reset", user)
    return user


@transaction.atomic
def password_change(*, user: User, by: User, old_password: str, new_password: str) -> None:
    authz.authorize(by, "account.edit_self")
    if by.pk != user.pk or not user.check_password(old_password):
        raise DomainError(_("原密码不正确。"), code="wrong_password", details={"field": "old_password"})
    _check_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(by, "user.password_change", user)


# --- profile and real-name details -------------------------------------------------------------


@transaction.atomic
def user_update_profile(*, user: User, by: User, display_name: str) -> User:
    authz.authorize(by, "account.edit_self")
    if by.pk != user.pk:
        authz.authorize(by, "role.assign")
    before = audit.snapshot(user, ["display_name"])
    user.display_name = display_name.strip()[:60]
    user.save(update_fields=["display_name"])
    audit.record(by, "user.update_profile", user, changes=audit.diff(before, audit.snapshot(user, ["display_name"])))
    return user


@transaction.atomic
def user_set_real_name(*, user: User, by: User, real_name: str, resident_id: str) -> User:
    """Record real-name details. The resident ID is checked, encrypted and only kept masked in clear."""
    authz.authorize(by, "account.edit_self")
    if by.pk != user.pk:
        authz.authorize(by, "role.assign")
    name = (real_name or "").strip()
    if not 2 <= len(name) <= 30:
        raise DomainError(_("请填写2至30个字的真实姓名。"), code="invalid_name", details={"field": "real_name"})
    try:
        number = validate_resident_id(resident_id)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid", details={"field": "resident_id"}) from None
    digest = protect.digest(number)
    if User.objects.filter(resident_id_digest=digest).exclude(pk=user.pk).exists():
        raise Conflict(_("该身份证号已被其他账号登记。"), code="resident_id_taken", details={"field": "resident_id"})
    fields = ["real_name", "resident_id_masked"]
    before = audit.snapshot(user, fields)
    user.real_name = name
    user.resident_id_encrypted = protect.encrypt(number)
    user.resident_id_digest = digest
    user.resident_id_masked = mask_resident_id(number)
    user.real_name_verified_at = timezone.now()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # another account registered the same ID at the same moment
        raise Conflict(
            _("该身份证号已被其他账号登记。"), code="resident_id_taken", details={"field": "resident_id"}
        ) from None
    # Only the masked ID enters the audit trail.
    audit.record(by, "user.set_real_name", user, changes=audit.diff(before, audit.snapshot(user, fields)))
    return user


# --- organisations -----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, by: User, name: str, uscc: str, type: str) -> Organisation:
    authz.authorize(by, "organisation.create")
    name = (name or "").strip()
    if not 2 <= len(name) <= 120:
        raise DomainError(_("请填写组织的全称（2至120个字）。"), code="invalid_name", details={"field": "name"})
    try:
        code = validate_uscc(uscc)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid", details={"field": "uscc"}) from None
    if Organisation.objects.filter(uscc=code).exists():
        raise Conflict(
            _("该统一社会信用代码的组织已存在，请联系其管理员将您加入。"), code="uscc_taken", details={"field": "uscc"}
        )
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(name=name, uscc=code, type=type)
    except IntegrityError:
        raise Conflict(
            _("该统一社会信用代码的组织已存在，请联系其管理员将您加入。"), code="uscc_taken", details={"field": "uscc"}
        ) from None
    Membership.objects.create(organisation=organisation, user=by, is_admin=True)
    authz.forget_roles(by)
    audit.record(by, "organisation.create", organisation, changes={"uscc": {"before": None, "after": code}})
    return organisation


@transaction.atomic
def organisation_add_member(
    *, organisation: Organisation, by: User, identifier: str, is_admin: bool = False
) -> Membership:
    authz.authorize(by, "organisation.manage", organisation)
    from citydata.accounts.backends import find_user

    member = find_user(identifier)
    if member is None:
        raise NotFound(_("没有找到该手机号或邮箱对应的用户，请先请对方注册。"), details={"field": "identifier"})
    membership, created = Membership.objects.get_or_create(
        organisation=organisation, user=member, defaults={"is_admin": is_admin}
    )
    if not created:
        raise Conflict(_("该用户已是本组织成员。"), code="already_member")
    audit.record(
        by, "organisation.add_member", organisation, changes={"member": {"before": None, "after": str(member)}}
    )
    return membership


def _other_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id, is_admin=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def organisation_set_admin(*, by: User, membership: Membership, is_admin: bool) -> Membership:
    authz.authorize(by, "organisation.manage", membership.organisation)
    if membership.is_admin and not is_admin and not _other_admins(membership):
        raise DomainError(_("组织至少需要一名管理员，请先指定另一位管理员。"), code="last_admin")
    if membership.is_admin != is_admin:
        membership.is_admin = is_admin
        membership.save(update_fields=["is_admin"])
        authz.forget_roles(membership.user)
        audit.record(
            by,
            "organisation.set_admin",
            membership.organisation,
            changes={str(membership.user): {"before": not is_admin, "after": is_admin}},
        )
    return membership


@transaction.atomic
def organisation_remove_member(*, by: User, membership: Membership) -> None:
    authz.authorize(by, "organisation.manage", membership.organisation)
    if membership.is_admin and not _other_admins(membership):
        raise DomainError(_("组织至少需要一名管理员，请先指定另一位管理员。"), code="last_admin")
    organisation, member = membership.organisation, membership.user
    membership.delete()
    authz.forget_roles(member)
    audit.record(
        by, "organisation.remove_member", organisation, changes={"member": {"before": str(member), "after": None}}
    )


# --- departments, duties and roles -------------------------------------------------------------


@transaction.atomic
def department_create(*, by: User | None, code: str, name: str, parent: Department | None = None) -> Department:
    if by is not None:
        authz.authorize(by, "department.manage")
    code = (code or "").strip().upper()
    if not code or not name.strip():
        raise DomainError(_("部门编码和名称都必须填写。"), code="invalid")
    if Department.objects.filter(code=code).exists():
        raise Conflict(_("部门编码已存在。"), code="department_exists", details={"field": "code"})
    if Department.objects.filter(name=name.strip()).exists():
        raise Conflict(_("部门名称已存在。"), code="department_exists", details={"field": "name"})
    department = Department.objects.create(code=code, name=name.strip(), parent=parent)
    audit.record(by, "department.create", department)
    return department


@transaction.atomic
def duty_assign(*, by: User | None, department: Department, stage: str, user: User, phone: str = "") -> DepartmentDuty:
    """Name a member of staff responsible for one stage of one department (专人专岗)."""
    if by is not None:
        authz.authorize(by, "department.manage")
    if not RoleAssignment.objects.filter(user=user, role=Role.PROVIDER, department=department).exists():
        raise DomainError(
            _("岗位负责人必须是本部门人员，请先把该用户添加为本部门人员。"),
            code="not_department_staff",
            details={"field": "identifier"},
        )
    duty, created = DepartmentDuty.objects.get_or_create(
        department=department, stage=stage, user=user, defaults={"phone": phone}
    )
    if created:
        audit.record(by, "department.assign_duty", department, changes={stage: {"before": None, "after": str(user)}})
    return duty


@transaction.atomic
def duty_remove(*, by: User, duty: DepartmentDuty) -> None:
    authz.authorize(by, "department.manage")
    department, stage, holder = duty.department, duty.stage, str(duty.user)
    duty.delete()
    audit.record(by, "department.remove_duty", department, changes={stage: {"before": holder, "after": None}})


@transaction.atomic
def role_grant(*, by: User | None, user: User, role: str, department: Department | None = None) -> RoleAssignment:
    if by is not None:
        authz.authorize(by, "role.assign")
    if role not in Role.values:
        raise DomainError(_("未知的角色。"), code="unknown_role")
    if role == Role.PROVIDER and department is None:
        raise DomainError(_("数据提供部门角色必须指定部门。"), code="department_required")
    if role != Role.PROVIDER:
        department = None
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, department=department)
    authz.forget_roles(user)
    if created:
        audit.record(
            by,
            "role.grant",
            user,
            changes={"role": {"before": None, "after": role + (f"@{department.code}" if department else "")}},
        )
    return assignment


@transaction.atomic
def role_revoke(*, by: User, assignment: RoleAssignment) -> None:
    authz.authorize(by, "role.assign")
    if assignment.user_id == by.pk and assignment.role == Role.OPERATOR:
        raise DomainError(_("不能撤销自己的平台运营方角色，请由另一位运营人员操作。"), code="cannot_revoke_self")
    changes: dict = {}
    if assignment.role == Role.PROVIDER and assignment.department_id:
        # Staff who leave the department also leave its duties.
        duties = DepartmentDuty.objects.filter(user=assignment.user, department_id=assignment.department_id)
        dropped = sorted(duties.values_list("stage", flat=True))
        if dropped:
            changes["duties"] = {"before": dropped, "after": []}
        duties.delete()
    label = assignment.role + (f"@{assignment.department.code}" if assignment.department else "")
    changes["role"] = {"before": label, "after": None}
    user = assignment.user
    assignment.delete()
    authz.forget_roles(user)
    audit.record(by, "role.revoke", user, changes=changes)


# --- API keys ----------------------------------------------------------------------------------


def _key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def apikey_create(*, by: User, name: str) -> tuple[ApiKey, str]:
    """Create a personal API key. Returns the key and its secret, which is never shown again."""
    authz.authorize(by, "apikey.create")
    name = (name or "").strip()
    if not 1 <= len(name) <= 60:
        raise DomainError(_("请为密钥起一个1至60个字的名称。"), code="invalid_name", details={"field": "name"})
    if by.api_keys.filter(revoked_at__isnull=True).count() >= 20:
        raise DomainError(_("每个账号最多保留20个有效密钥，请先撤销不用的密钥。"), code="too_many_keys")
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=by, name=name, prefix=prefix, digest=_key_digest(secret))
    audit.record(by, "apikey.create", key)
    return key, secret


@transaction.atomic
def apikey_revoke(*, by: User, key: ApiKey) -> ApiKey:
    authz.authorize(by, "apikey.revoke", key)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(by, "apikey.revoke", key)
    return key


def apikey_authenticate(secret: str) -> User | None:
    """The active user who owns this API key, or None. Records the key's last use (at most once a minute)."""
    secret = (secret or "").strip()
    if not secret.startswith(API_KEY_PREFIX) or len(secret) > 100:
        return None
    prefix = secret[len(API_KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.digest, _key_digest(secret)) or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user
