"""Reads of the audit trail, with one filter definition shared by the auditor's page, the CSV export and the API."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from citydata.errors import DomainError
from citydata.security.models import AuditEvent

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    ip: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_params(cls, params) -> AuditFilter:
        def day(name):
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            try:
                value = parse_date(raw)
            except ValueError:
                value = None
            if value is None or not MIN_DATE <= value <= MAX_DATE:
                raise DomainError(
                    _("日期格式应为 YYYY-MM-DD，且在 2000-01-01 至 2099-12-31 之间。"),
                    code="invalid_date",
                    details={"field": name},
                )
            return value

        def text(name, limit):
            value = (params.get(name) or "").strip()[:limit]
            if "\x00" in value:
                raise DomainError(_("筛选条件含有无效字符。"), code="invalid_filter", details={"field": name})
            return value

        ip = text("ip", 45)
        if ip:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise DomainError(_("IP 地址格式不正确。"), code="invalid_ip", details={"field": "ip"}) from None

        return cls(
            actor=text("actor", 100),
            action=text("action", 80),
            object_type=text("object_type", 80),
            ip=ip,
            date_from=day("date_from"),
            date_to=day("date_to"),
        )

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor:
            queryset = queryset.filter(actor_label__icontains=self.actor)
        if self.action:
            queryset = queryset.filter(action__startswith=self.action)
        if self.object_type:
            queryset = queryset.filter(object_type=self.object_type)
        if self.ip:
            queryset = queryset.filter(ip=self.ip)
        tz = timezone.get_current_timezone()
        if self.date_from:
            queryset = queryset.filter(created_at__gte=dt.datetime.combine(self.date_from, dt.time.min, tz))
        if self.date_to:
            queryset = queryset.filter(
                created_at__lt=dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tz)
            )
        return queryset

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v}


def audit_events(flt: AuditFilter) -> QuerySet[AuditEvent]:
    return flt.apply(AuditEvent.objects.all())


def action_names() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:200])


CSV_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "note",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
)


def event_out(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in CSV_COLUMNS}
