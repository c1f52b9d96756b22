"""The feedback clock (periodic): remind the answering staff a working day before a deadline, and escalate
to the operators once it has passed without an answer."""

from __future__ import annotations

import datetime as dt

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts.notify import notify
from citydata.engagement.models import Complaint, DataRequest, ErrorReport, Suggestion
from citydata.engagement.services.common import day_label, operators, responders, url_of
from citydata.security import audit
from citydata.workdays import calendar
from citydata.workdays.calendar import CalendarMissing

# Each kind with the filter of its items still waiting for a first answer, and how it names one.
WAITING: list[tuple[type[models.Model], models.Q]] = [
    (ErrorReport, models.Q(status="open")),
    (DataRequest, models.Q(status="open")),
    (Complaint, models.Q(status__in=("open", "taken_down"))),
    (Suggestion, models.Q(status="open")),
]


def label_of(item: models.Model) -> str:
    verbose = str(item._meta.verbose_name)
    title = getattr(item, "title", "") or getattr(getattr(item, "dataset", None), "title", "")
    return f"{verbose} #{item.pk} {title}".strip()


def _left(now: dt.datetime, due: dt.datetime) -> int:
    try:
        return calendar.workdays_between(timezone.localtime(now).date(), timezone.localtime(due).date())
    except CalendarMissing:
        return (timezone.localtime(due).date() - timezone.localtime(now).date()).days


def deadlines_tick(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    ops = operators()
    for model, waiting in WAITING:
        queryset = model._default_manager.filter(waiting, due_at__isnull=False, escalated_at__isnull=True)
        for item in queryset.select_related("department"):
            department = item.department  # type: ignore[attr-defined]
            due = item.due_at  # type: ignore[attr-defined]
            if now > due:
                with transaction.atomic():
                    model._default_manager.filter(pk=item.pk).update(escalated_at=now)
                    notify(
                        [*ops, *responders(department)],
                        _("%(item)s 已超过答复期限") % {"item": label_of(item)},
                        _("%(dept)s 未在 %(due)s 前答复，请督办。")
                        % {"dept": department.name if department else _("平台运营方"), "due": day_label(due)},
                        url=url_of(item),
                    )
                    audit.record(None, f"{model._meta.model_name}.escalate", item)
                counts["escalated"] += 1
            elif item.reminded_at is None and _left(now, due) <= 1:  # type: ignore[attr-defined]
                model._default_manager.filter(pk=item.pk).update(reminded_at=now)
                notify(
                    responders(department),
                    _("%(item)s 即将到达答复期限") % {"item": label_of(item)},
                    _("答复期限：%(due)s") % {"due": day_label(due)},
                    url=url_of(item),
                )
                counts["reminded"] += 1
    return counts
