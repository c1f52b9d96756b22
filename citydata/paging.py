"""Keyset (cursor) paging for every list: no OFFSET, no exact COUNT over big tables."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
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
