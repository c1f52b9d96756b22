"""Telling people about a step that concerns them: an in-app notification (站内信) and, when they have an
address, an e-mail. Services call `notify()` inside their transaction; the e-mail goes out after commit, so
a rolled-back step never mails anyone."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from citydata.accounts.models import Notification, User

logger = logging.getLogger("citydata.notify")


def notify(
    users: User | Iterable[User | None] | None, subject: str, body: str = "", *, url: str = "", email: bool = True
) -> list[Notification]:
    """Send one message to each distinct user in `users` (None entries are skipped). Returns the notifications."""
    if users is None:
        return []
    people = [users] if isinstance(users, User) else [u for u in users if u is not None]
    seen: set = set()
    created = []
    for person in people:
        if person.pk in seen or not person.is_active:
            continue
        seen.add(person.pk)
        created.append(Notification(user=person, subject=str(subject)[:200], body=str(body), url=url[:300]))
    Notification.objects.bulk_create(created)
    recipients = [p.email for p in people if p.email and p.pk in seen] if email else []
    if recipients:
        link = f"{settings.PUBLIC_URL}{url}" if url.startswith("/") else url
        text = f"{body}\n\n{link}".strip()
        transaction.on_commit(lambda: _mail(str(subject), text, sorted(set(recipients))))
    return created


def _mail(subject: str, text: str, recipients: list[str]) -> None:
    try:
        send_mail(
            subject=f"[{settings.PLATFORM_NAME}] {subject}",
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    except Exception:  # a mail outage must not undo the step; the in-app message is already there
        logger.exception("notification e-mail to %d recipient(s) failed", len(recipients))


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
