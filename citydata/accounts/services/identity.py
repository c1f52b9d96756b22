"""Who someone is: identifiers, verification codes, registration, login and lockout, passwords,
profile and real-name details."""

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
from citydata.accounts.identifiers import mask_resident_id, validate_mobile, validate_resident_id
from citydata.accounts.messaging import send_code
from citydata.accounts.models import (
    CodePurpose,
    LoginAttempt,
    User,
    VerificationCode,
)
from citydata.errors import Conflict, DomainError, TooManyRequests
from citydata.security import audit

CODE_MAX_ATTEMPTS = 5
# Codes sent to one address per day: with five guesses each, at most 50 guesses at a 1-in-a-million code.
CODE_DAILY_LIMIT = 10


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
