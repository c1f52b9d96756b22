"""Reads for the security pages: the audit trail and the data-API call logs.

Each has one filter definition shared by its page, its CSV export and (for the audit trail) the API.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    GenericIPAddressField,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import ApiKey, User
from citydata.accounts.services.apikeys import API_KEY_PREFIX
from citydata.datastore.models import ApiCall
from citydata.errors import DomainError
from citydata.security.models import AuditEvent

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


def _text(params: Mapping[str, Any], name: str, limit: int) -> str:
    value = (params.get(name) or "").strip()[:limit]
    if "\x00" in value:
        raise DomainError(_("筛选条件含有无效字符。"), code="invalid_filter", details={"field": name})
    return value


def _day(params: Mapping[str, Any], name: str, message: Any) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None or not MIN_DATE <= value <= MAX_DATE:
        raise DomainError(message, code="invalid_date", details={"field": name})
    return value


def _raw(params: Mapping[str, Any], name: str, limit: int) -> str:
    """The stripped value, for fields whose own format check also refuses control characters."""
    return (params.get(name) or "").strip()[:limit]


def _ip(params: Mapping[str, Any]) -> str:
    ip = _raw(params, "ip", 45)
    if not ip:
        return ""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise DomainError(_("IP 地址格式不正确。"), code="invalid_ip", details={"field": "ip"}) from None


def _day_bounds(date_from: dt.date | None, date_to: dt.date | None) -> dict[str, dt.datetime]:
    """created_at lookups for whole local days from `date_from` through `date_to`."""
    tz = timezone.get_current_timezone()
    bounds = {}
    if date_from:
        bounds["created_at__gte"] = dt.datetime.combine(date_from, dt.time.min, tz)
    if date_to:
        bounds["created_at__lt"] = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz)
    return bounds


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    ip: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> AuditFilter:
        bad_date = _("日期格式应为 YYYY-MM-DD，且在 2000-01-01 至 2099-12-31 之间。")
        return cls(
            actor=_text(params, "actor", 100),
            action=_text(params, "action", 80),
            object_type=_text(params, "object_type", 80),
            ip=_ip(params),
            date_from=_day(params, "date_from", bad_date),
            date_to=_day(params, "date_to", bad_date),
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
        return queryset.filter(**_day_bounds(self.date_from, self.date_to))

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


# --- Data-API call logs (R8.2) -------------------------------------------------------------------------------

CALL_CSV_MAX_ROWS = 100_000  # a CSV export holds at most this many calls, the newest first
PERCENTILE_MAX_ROWS = 100_000  # above this many calls, latency percentiles are skipped and only the average shown
CALLS_PER_DAY_DAYS = 30
TOP_N = 10

ERRORS = Q(status__gte=400)  # what counts as a failed call in the summaries

# Matched with fullmatch(); ASCII classes only, so full-width or other-script digits are refused.
_SLUG = re.compile(r"[-A-Za-z0-9_]{1,100}")
_MOBILE = re.compile(r"1[0-9]{10}")
_KEY_PREFIX = re.compile(r"[A-Za-z0-9]{4,12}")
_STATUS_CLASS = re.compile(r"([1-5])xx")
_STATUS_CODE = re.compile(r"[1-5][0-9][0-9]")


@dataclass(frozen=True)
class ApiCallFilter:
    """Which call-log rows an operator asked for. `caller` is an e-mail, a mobile number or an API key prefix."""

    dataset: str = ""
    caller: str = ""
    ip: str = ""
    status: str = ""  # "2xx", "4xx", "5xx" … or an exact code such as "404"
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ApiCallFilter:
        dataset = _raw(params, "dataset", 200)
        if dataset and not _SLUG.fullmatch(dataset):
            raise DomainError(
                _("数据集标识只能包含字母、数字、连字符和下划线，且不超过 100 个字符。"),
                code="invalid_dataset",
                details={"field": "dataset"},
            )
        date_from = _day(params, "date_from", _("开始日期应为 YYYY-MM-DD 格式，且在 2000-01-01 至 2099-12-31 之间。"))
        date_to = _day(params, "date_to", _("结束日期应为 YYYY-MM-DD 格式，且在 2000-01-01 至 2099-12-31 之间。"))
        if date_from and date_to and date_from > date_to:
            raise DomainError(_("结束日期不能早于开始日期。"), code="invalid_date", details={"field": "date_to"})
        return cls(
            dataset=dataset,
            caller=_caller(params),
            ip=_ip(params),
            status=_status(params),
            date_from=date_from,
            date_to=date_to,
        )

    def apply(self, queryset: QuerySet[ApiCall]) -> QuerySet[ApiCall]:
        if self.dataset:
            queryset = queryset.filter(dataset=self.dataset)
        if self.caller:
            queryset = queryset.filter(_caller_lookup(self.caller))
        if self.ip:
            queryset = queryset.filter(ip=self.ip)
        if self.status:
            match = _STATUS_CLASS.fullmatch(self.status)
            if match:
                low = int(match.group(1)) * 100
                queryset = queryset.filter(status__gte=low, status__lt=low + 100)
            else:
                queryset = queryset.filter(status=int(self.status))
        return queryset.filter(**_day_bounds(self.date_from, self.date_to))

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v}


def _caller(params: Mapping[str, Any]) -> str:
    value = _raw(params, "caller", 300)
    if not value:
        return ""
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            pass
        else:
            return value.lower()
    elif _MOBILE.fullmatch(value):
        return value
    else:
        prefix = value.removeprefix(API_KEY_PREFIX)
        if _KEY_PREFIX.fullmatch(prefix):
            return prefix
    raise DomainError(
        _("调用方应为用户的电子邮箱、手机号，或 API 密钥的前缀（如 cd_1a2b3c4d）。"),
        code="invalid_caller",
        details={"field": "caller"},
    )


def _caller_lookup(caller: str) -> Q:
    """Calls by that person (with or without a key), or made with that key. Resolved in one subquery."""
    if "@" in caller:
        return Q(user__in=User.objects.filter(email__iexact=caller).values("pk"))
    if _MOBILE.fullmatch(caller):
        return Q(user__in=User.objects.filter(mobile=caller).values("pk"))
    return Q(api_key__in=ApiKey.objects.filter(prefix=caller).values("pk"))


def _status(params: Mapping[str, Any]) -> str:
    value = _raw(params, "status", 10).lower()
    if not value or _STATUS_CLASS.fullmatch(value) or _STATUS_CODE.fullmatch(value):
        return value
    raise DomainError(
        _("状态码应为 2xx、4xx、5xx 这样的类别，或 100 至 599 之间的三位数字。"),
        code="invalid_status",
        details={"field": "status"},
    )


def api_calls(flt: ApiCallFilter) -> QuerySet[ApiCall]:
    return flt.apply(ApiCall.objects.all())


# Never loaded alongside a call: a key's digest or a user's password hash has no business on these pages.
_SECRET_COLUMNS = ("api_key__digest", "user__password")


def api_calls_listed(flt: ApiCallFilter) -> QuerySet[ApiCall]:
    """The filter's calls with their user and key joined, for the list and the CSV export."""
    return api_calls(flt).select_related("user", "api_key").defer(*_SECRET_COLUMNS)


@dataclass(frozen=True)
class CallSummary:
    calls: int
    callers: int
    rows: int
    bytes: int
    errors: int
    avg_latency_ms: float | None
    p50_latency_ms: int | None  # None when there are no calls or too many to rank cheaply
    p95_latency_ms: int | None

    @property
    def error_percent(self) -> float | None:
        return None if not self.calls else round(100 * self.errors / self.calls, 1)


_CALLER = ("caller_key", "caller_user", "caller_ip")


def _caller_columns() -> dict[str, Case]:
    """Who made each call, the way the rate limiter counts: the API key if one was used, else the logged-in
    user, else the IP address. At most one of the three columns is set (none for an unknown address)."""
    no_key = Q(api_key__isnull=True)
    return {
        "caller_key": Case(When(api_key__isnull=False, then=F("api_key_id")), output_field=IntegerField()),
        "caller_user": Case(When(no_key & Q(user__isnull=False), then=F("user_id")), output_field=IntegerField()),
        "caller_ip": Case(When(no_key & Q(user__isnull=True), then=F("ip")), output_field=GenericIPAddressField()),
    }


def _nearest_rank(queryset: QuerySet[ApiCall], count: int, percent: int) -> int:
    """The latency at rank ⌈percent/100 × count⌉ in ascending order (the nearest-rank percentile)."""
    rank = -(-percent * count // 100)
    if rank <= count // 2:  # read from the nearer end, so the database keeps the smaller heap
        column, offset = "latency_ms", rank - 1
    else:
        column, offset = "-latency_ms", count - rank
    return queryset.order_by(column).values_list("latency_ms", flat=True)[offset]


def api_call_summary(flt: ApiCallFilter) -> CallSummary:
    queryset = api_calls(flt).order_by()
    totals = queryset.aggregate(
        calls=Count("id"),
        rows=Sum("rows"),
        bytes=Sum("bytes"),
        errors=Count("id", filter=ERRORS),
        avg_latency=Avg("latency_ms"),
    )
    calls = totals["calls"]
    callers = queryset.annotate(**_caller_columns()).values(*_CALLER).distinct().count() if calls else 0
    ranked = 0 < calls <= PERCENTILE_MAX_ROWS
    return CallSummary(
        calls=calls,
        callers=callers,
        rows=totals["rows"] or 0,
        bytes=totals["bytes"] or 0,
        errors=totals["errors"],
        avg_latency_ms=None if totals["avg_latency"] is None else round(float(totals["avg_latency"]), 1),
        p50_latency_ms=_nearest_rank(queryset, calls, 50) if ranked else None,
        p95_latency_ms=_nearest_rank(queryset, calls, 95) if ranked else None,
    )


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    calls: int
    errors: int


def api_calls_per_day(flt: ApiCallFilter, *, today: dt.date | None = None) -> list[DayCount]:
    """Calls on each local day of the filter's range, its last 30 days only, ending today at the latest."""
    today = today or timezone.localdate()
    last = min(flt.date_to, today) if flt.date_to else today
    first = last - dt.timedelta(days=CALLS_PER_DAY_DAYS - 1)
    if flt.date_from and flt.date_from > first:
        first = flt.date_from
    if first > last:
        return []
    counted = {
        row["day"]: row
        for row in api_calls(flt)
        .filter(**_day_bounds(first, last))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(calls=Count("id"), errors=Count("id", filter=ERRORS))
    }
    days = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        row = counted.get(day)
        days.append(DayCount(day, row["calls"] if row else 0, row["errors"] if row else 0))
    return days


@dataclass(frozen=True)
class DatasetUsage:
    dataset: str
    calls: int
    rows: int
    bytes: int
    errors: int


def top_datasets(flt: ApiCallFilter, *, limit: int = TOP_N) -> list[DatasetUsage]:
    rows = (
        api_calls(flt)
        .order_by()
        .values("dataset")
        .annotate(calls=Count("id"), rows=Sum("rows"), bytes=Sum("bytes"), errors=Count("id", filter=ERRORS))
        .order_by("-calls", "dataset")[:limit]
    )
    return [DatasetUsage(r["dataset"], r["calls"], r["rows"] or 0, r["bytes"] or 0, r["errors"]) for r in rows]


@dataclass(frozen=True)
class CallerUsage:
    """One caller: an API key (with its owner), a logged-in user without a key, or an anonymous IP address."""

    kind: str  # "key", "user" or "ip"
    user_label: str
    user_email: str
    key_name: str
    key_prefix: str
    ip: str
    calls: int
    rows: int
    bytes: int
    errors: int
    last_call: dt.datetime


def top_callers(flt: ApiCallFilter, *, limit: int = TOP_N) -> list[CallerUsage]:
    rows = list(
        api_calls(flt)
        .order_by()
        .annotate(**_caller_columns())
        .values(*_CALLER)
        .annotate(
            calls=Count("id"),
            rows=Sum("rows"),
            bytes=Sum("bytes"),
            errors=Count("id", filter=ERRORS),
            last_call=Max("created_at"),
        )
        .order_by("-calls", "-last_call")[:limit]
    )
    key_ids = [r["caller_key"] for r in rows if r["caller_key"]]
    keys = ApiKey.objects.select_related("user").defer("digest", "user__password").in_bulk(key_ids)
    users = User.objects.defer("password").in_bulk([r["caller_user"] for r in rows if r["caller_user"]])
    result = []
    for r in rows:
        key, user = keys.get(r["caller_key"]), users.get(r["caller_user"])
        owner = key.user if key is not None else user
        result.append(
            CallerUsage(
                kind="key" if r["caller_key"] else "user" if r["caller_user"] else "ip",
                user_label=owner.login_label if owner is not None else "",
                user_email=(owner.email or "") if owner is not None else "",
                key_name=key.name if key is not None else "",
                key_prefix=key.prefix if key is not None else "",
                ip=r["caller_ip"] or "",
                calls=r["calls"],
                rows=r["rows"] or 0,
                bytes=r["bytes"] or 0,
                errors=r["errors"],
                last_call=r["last_call"],
            )
        )
    return result


CALL_CSV_COLUMNS = (
    "id",
    "created_at",
    "user_id",
    "user",
    "api_key_prefix",
    "api_key_name",
    "ip",
    "dataset",
    "version",
    "format",
    "params",
    "rows",
    "bytes",
    "status",
    "latency_ms",
)


def api_calls_for_export(flt: ApiCallFilter) -> QuerySet[ApiCall]:
    """The newest CALL_CSV_MAX_ROWS calls of the filter, newest first, with their user and key joined."""
    return api_calls_listed(flt).order_by("-id")[:CALL_CSV_MAX_ROWS]


def api_call_out(call: ApiCall) -> dict[str, Any]:
    """One call as CSV values. The key appears by prefix and name only: its secret is never stored."""
    return {
        "id": call.pk,
        "created_at": timezone.localtime(call.created_at).isoformat(),
        "user_id": call.user_id,
        "user": call.user.login_label if call.user is not None else "",
        "api_key_prefix": call.api_key.prefix if call.api_key is not None else "",
        "api_key_name": call.api_key.name if call.api_key is not None else "",
        "ip": call.ip or "",
        "dataset": call.dataset,
        "version": call.version,
        "format": call.format,
        "params": call.params,
        "rows": call.rows,
        "bytes": call.bytes,
        "status": call.status,
        "latency_ms": call.latency_ms,
    }
