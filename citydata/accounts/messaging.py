"""Delivery of verification codes: e-mail through Django's mail backend, SMS through a pluggable sender."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from citydata.accounts.identifiers import mask_mobile

logger = logging.getLogger("citydata.sms")

# Messages "sent" by the locmem SMS backend, newest last, for tests (like django.core.mail.outbox).
sms_outbox: list[tuple[str, str]] = []


def send_sms(mobile: str, text: str) -> None:
    backend = settings.SMS_BACKEND
    if backend == "console":
        logger.warning("SMS to %s: %s", mask_mobile(mobile), text)
        print(f"[短信] 发送至 {mobile}: {text}", flush=True)  # noqa: T201 - the demo reads codes here
    elif backend == "locmem":
        sms_outbox.append((mobile, text))
    else:
        import_string(backend)(mobile, text)


def send_code(target: str, code: str, purpose_label: str) -> None:
    minutes = settings.CODE_TTL_MINUTES
    text = _("【%(platform)s】您的%(purpose)s验证码是 %(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略。") % {
        "platform": settings.PLATFORM_NAME,
        "purpose": purpose_label,
        "code": code,
        "minutes": minutes,
    }
    if "@" in target:
        send_mail(
            subject=_("%(platform)s验证码") % {"platform": settings.PLATFORM_NAME},
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[target],
        )
    else:
        send_sms(target, text)
