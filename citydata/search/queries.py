"""What operators read about search: top queries, queries that found nothing, and the synonym table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from citydata.search.models import SearchQuery


def query_report(days: int = 30, limit: int = 50) -> dict[str, Any]:
    """Top queries and zero-result queries of the last `days` days."""
    since = timezone.now() - dt.timedelta(days=days)
    recent = SearchQuery.objects.filter(created_at__gte=since)
    top = list(
        recent.values("text")
        .annotate(n=Count("id"), empty=Count("id", filter=Q(results=0)), last=Max("created_at"))
        .order_by("-n", "text")[:limit]
    )
    zero = list(
        recent.filter(results=0)
        .values("text")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-n", "text")[:limit]
    )
    total = recent.count()
    empty = recent.filter(results=0).count()
    return {"days": days, "total": total, "empty": empty, "top": top, "zero": zero}


def popular(limit: int = 8, days: int = 30) -> list[str]:
    """Searches people made that found something, most frequent first (suggestions when a search finds
    nothing)."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        SearchQuery.objects.filter(created_at__gte=since, results__gt=0)
        .values("text")
        .annotate(n=Count("id"))
        .order_by("-n", "text")[:limit]
    )
    return [row["text"] for row in rows]
