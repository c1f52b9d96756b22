"""Personal API keys: created once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import (
    ApiKey,
    User,
)
from citydata.errors import DomainError
from citydata.security import audit

API_KEY_PREFIX = "cd_"


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
    key, secret = issue_key(by, name)
    audit.record(by, "apikey.create", key)
    return key, secret


def issue_key(user: User, name: str) -> tuple[ApiKey, str]:
    """A new key of `user` and its secret, without the checks of a personal key (a grant's key is issued by
    the grant's service, which authorises it). Only the digest is stored."""
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, name=name[:60], prefix=prefix, digest=_key_digest(secret))
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
    user = key.user
    user.authenticated_key = key  # type: ignore[attr-defined] # quotas and call logs are per key
    return user
