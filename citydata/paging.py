"""Keyset (cursor) paging for every list: no OFFSET, no exact COUNT over big tables."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from citydata.errors import DomainError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    limit: int


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor") from None


def clamp_limit(limit: Any) -> int:
    try:
        value = int(limit) if limit not in (None, "") else DEFAULT_LIMIT
    except (TypeError, ValueError):
        raise DomainError(_("每页条数必须是1至100之间的整数。"), code="invalid_limit") from None
    if not 1 <= value <= MAX_LIMIT:
        raise DomainError(_("每页条数必须是1至100之间的整数。"), code="invalid_limit")
    return value


def paginate_desc(queryset: QuerySet, *, key: str, cursor: str | None, limit: Any) -> Page:
    """Page a queryset by a unique, integer key in descending order (newest first)."""
    size = clamp_limit(limit)
    if cursor:
        after = _decode(cursor)
        if not isinstance(after, int):
            raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor")
        queryset = queryset.filter(**{f"{key}__lt": after})
    rows = list(queryset.order_by(f"-{key}")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, next_cursor=_encode(getattr(rows[-1], key)) if more and rows else None, limit=size)


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def paginate_keyset(queryset: QuerySet, *, order: tuple[str, str], cursor: str | None, limit: Any) -> Page:
    """Page by a sort column plus the primary key, both descending: ("-published_at", "-id").

    The cursor holds the last row's (value, id); the next page starts strictly after it, so pages
    stay stable while rows are added, and no OFFSET is ever used. NULL sort values sort last.
    """
    size = clamp_limit(limit)
    column, key = order[0].lstrip("-"), order[1].lstrip("-")
    queryset = queryset.order_by(F(column).desc(nulls_last=True), f"-{key}")
    try:
        if cursor:
            after = _decode(cursor)
            if not (isinstance(after, list) and len(after) == 2 and isinstance(after[1], int)):
                raise ValueError("bad cursor")
            value, last_id = after
            if value is None:
                queryset = queryset.filter(**{f"{column}__isnull": True, f"{key}__lt": last_id})
            else:
                queryset = queryset.filter(
                    Q(**{f"{column}__lt": value})
                    | Q(**{column: value, f"{key}__lt": last_id})
                    | Q(**{f"{column}__isnull": True})
                )
        rows = list(queryset[: size + 1])
    except (ValueError, TypeError, ValidationError, DataError):
        raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor") from None
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([_cursor_value(getattr(last, column)), getattr(last, key)])
    return Page(items=rows, next_cursor=next_cursor, limit=size)


def paginate_ranked(queryset: QuerySet, ranked: list[int], *, cursor: str | None, limit: Any) -> Page:
    """Page a list of primary keys in a given order (search relevance); the cursor is the next position.
    The list is bounded (the search window), so its positions are cheap to skip."""
    size = clamp_limit(limit)
    start = 0
    if cursor:
        start = _decode(cursor)
        if not isinstance(start, int) or not 0 <= start <= len(ranked):
            raise DomainError(_("分页游标无效，请从第一页重新开始。"), code="invalid_cursor")
    allowed = set(queryset.filter(pk__in=ranked).values_list("pk", flat=True))
    order = [pk for pk in ranked if pk in allowed]
    chunk = order[start : start + size]
    rows = {row.pk: row for row in queryset.filter(pk__in=chunk)}
    items = [rows[pk] for pk in chunk if pk in rows]
    more = start + size < len(order)
    return Page(items=items, next_cursor=_encode(start + size) if more else None, limit=size)
