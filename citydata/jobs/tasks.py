"""The platform's housekeeping jobs and their schedule."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from citydata.jobs.schedule import periodic

logger = logging.getLogger("citydata.jobs")


@task()
def purge_expired_codes() -> dict:
    """Delete verification codes and login attempts that no longer matter."""
    from citydata.accounts.models import LoginAttempt, VerificationCode

    now = timezone.now()
    codes, _ = VerificationCode.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
    keep_attempts = max(settings.LOGIN_LOCK_MINUTES * 4, 24 * 60)
    attempts, _ = LoginAttempt.objects.filter(created_at__lt=now - dt.timedelta(minutes=keep_attempts)).delete()
    return {"codes": codes, "attempts": attempts}


@task()
def verify_audit_chain() -> dict:
    """Nightly check of the audit trail's hash chain; a break is itself recorded as an audit event."""
    from citydata.security import audit

    checked, broken = audit.verify()
    if broken is not None:
        logger.error("audit chain broken at #%s: %s", broken.seq, broken.reason)
        with transaction.atomic():
            audit.record(None, "audit.chain_broken", note=f"#{broken.seq}: {broken.reason}")
        return {"checked": checked, "broken_at": broken.seq}
    return {"checked": checked, "broken_at": None}


@task()
def ping(value: str) -> str:
    """A no-op job to check that workers pick up work (`citydata worker --check`)."""
    return value


periodic("purge_expired_codes", purge_expired_codes, every=dt.timedelta(hours=1))
periodic("verify_audit_chain", verify_audit_chain, daily_at=dt.time(2, 30))
