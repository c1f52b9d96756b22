"""Quotas and call logs of the data API.

Anonymous callers are limited per IP address, API-key holders per key, with higher limits; both in fixed
one-minute windows. Counters live in the database by default (one row per caller and window) and in Redis
when CITYDATA_RATE_LIMIT_BACKEND=redis. Every data call is logged (`ApiCall`); logs older than
CITYDATA_CALL_LOG_DAYS are pruned by a daily job, so the table cannot grow without bound.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.datastore.models import ApiCall, RateCounter
from citydata.errors import TooManyRequests
from citydata.security.middleware import client_ip

WINDOW = 60
clock = time.time  # the windows' clock; tests pin it so a run never straddles a minute


@dataclass(frozen=True)
class Caller:
    key: str  # "ip:…" or "key:…"
    limit: int
    user_id: int | None
    api_key_id: int | None
    ip: str | None


def caller_of(request) -> Caller:
    ip = client_ip(request)
    api_key = getattr(request, "api_key", None)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if api_key is not None:
        return Caller(f"key:{api_key.pk}", settings.RATE_KEY_PER_MINUTE, user_id, api_key.pk, ip)
    return Caller(f"ip:{ip or 'unknown'}", settings.RATE_ANON_PER_MINUTE, user_id, None, ip)


def _count_database(key: str, window: int) -> int:
    """One statement per call: insert the window's counter or add one to it, and read the new count
    (an upsert both SQLite 3.35+ and PostgreSQL run atomically)."""
    table, k, w, n = (
        connection.ops.quote_name(name) for name in (RateCounter._meta.db_table, "key", "window", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {w}, {n}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({k}, {w}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {n}",
            [key, window],
        )
        return int(cursor.fetchone()[0])


_redis = None


def _count_redis(key: str, window: int) -> int:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.RATE_LIMIT_REDIS_URL)
    name = f"citydata:rate:{key}:{window}"
    pipe = _redis.pipeline()
    pipe.incr(name)
    pipe.expire(name, WINDOW * 2)
    count, _ok = pipe.execute()
    return int(count)


def check(caller: Caller, now: float | None = None) -> None:
    """Count one call; refuse with 429 and the seconds to wait once the window's quota is spent."""
    now = clock() if now is None else now
    window = int(now // WINDOW * WINDOW)
    counter = _count_redis if settings.RATE_LIMIT_BACKEND == "redis" else _count_database
    count = counter(caller.key, window)
    if count > caller.limit:
        wait = max(1, int(window + WINDOW - now) + 1)
        message = _("调用过于频繁：每分钟最多 %(n)s 次，请 %(s)s 秒后再试。") % {"n": caller.limit, "s": wait}
        if caller.api_key_id is None:
            message += _("使用 API 密钥可获得更高的额度。")
        raise TooManyRequests(message, code="rate_limited", details={"retry_after": wait, "limit": caller.limit})


def log(caller: Caller, *, dataset: str, version: int | None, params: dict, fmt: str, rows: int, size: int,
        status: int, started: float, grant=None) -> None:  # fmt: skip
    """Log one call; a successful read through a conditional-data grant also counts on the grant's usage."""
    if grant is not None and status == 200:
        grant.record_use(rows, size)
    _insert(
        {
            "created_at": timezone.now(),
            "user": caller.user_id,
            "api_key": caller.api_key_id,
            "ip": caller.ip,
            "dataset": dataset[:100],
            "version": version if isinstance(version, int) and 0 < version < 2**31 else None,
            # PostgreSQL refuses NUL in text and JSON; a NUL sent in a query body is logged visibly, not as a 500
            "params": {_printable(k): _printable(str(v)[:200]) for k, v in list(params.items())[:30]},
            "format": fmt[:10],
            "rows": rows,
            "bytes": size,
            "status": status,
            "latency_ms": int((time.perf_counter() - started) * 1000),
        }
    )


def _printable(text: str) -> str:
    return str(text).replace("\x00", "\\x00")


_CALL_FIELDS = [f for f in ApiCall._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.get_attname_column()[1])) for f in _CALL_FIELDS)
    marks = ", ".join(["%s"] * len(_CALL_FIELDS))
    return f"INSERT INTO {quote(ApiCall._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def _insert(values: dict) -> None:
    """One `ApiCall` row, each value prepared by its field as `objects.create` would; the statement is written once
    per process, which halves the CPU a logged call costs (every data call is logged, so this is on the hot path)."""
    prepared = [f.get_db_prep_save(values[f.name], connection) for f in _CALL_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), prepared)


def prune() -> dict[str, int]:
    """Drop call logs past their retention and rate counters past their window."""
    cutoff = timezone.now() - dt.timedelta(days=settings.CALL_LOG_DAYS)
    calls = 0
    while True:  # in batches, so a big backlog never holds one long transaction
        ids = list(ApiCall.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:5000])
        if not ids:
            break
        calls += ApiCall.objects.filter(id__in=ids).delete()[0]
    counters, _rows = RateCounter.objects.filter(window__lt=int(time.time()) - 2 * WINDOW).delete()
    return {"calls": calls, "counters": counters}
