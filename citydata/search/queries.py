"""What operators read about search (top queries with their click-through, clicks by position, queries that
found nothing) and what a thin search offers next (related searches)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from citydata.search import analysis
from citydata.search.models import SearchClick, SearchQuery

POSITIONS = 10  # click-through is reported for the first ten results (the first screen)


def query_report(days: int = 30, limit: int = 50) -> dict[str, Any]:
    """Top queries with their click-through rate, clicks by position and zero-result queries of the last `days`
    days. A search is "clicked" when at least one of its results was opened through its link."""
    since = timezone.now() - dt.timedelta(days=days)
    recent = SearchQuery.objects.filter(created_at__gte=since)
    rows = list(
        recent.values("text")
        .annotate(
            n=Count("id", distinct=True),
            empty=Count("id", distinct=True, filter=Q(results=0)),
            clicked=Count("id", distinct=True, filter=Q(clicks__isnull=False)),
            last=Max("created_at"),
        )
        .order_by("-n", "text")[:limit]
    )
    top: list[dict[str, Any]] = [{**row, "ctr": row["clicked"] / row["n"] if row["n"] else 0.0} for row in rows]
    zero = list(
        recent.filter(results=0)
        .values("text")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-n", "text")[:limit]
    )
    total = recent.count()
    empty = recent.filter(results=0).count()
    clicked = recent.filter(clicks__isnull=False).distinct().count()
    clicks = SearchClick.objects.filter(created_at__gte=since)
    by_position = dict(
        clicks.filter(position__lte=POSITIONS).values_list("position").annotate(n=Count("id")).order_by()
    )
    all_clicks = clicks.count()
    positions = [
        {
            "position": p,
            "clicks": by_position.get(p, 0),
            "share": by_position.get(p, 0) / all_clicks if all_clicks else 0.0,
        }
        for p in range(1, POSITIONS + 1)
    ]
    return {
        "days": days,
        "total": total,
        "empty": empty,
        "top": top,
        "zero": zero,
        "clicked": clicked,
        "ctr": clicked / (total - empty) if total > empty else 0.0,
        "clicks": all_clicks,
        "beyond": all_clicks - sum(by_position.values()),
        "positions": positions,
    }


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


def related(query: str, results=None, limit: int = 8, days: int = 90) -> list[str]:
    """Searches to try when `query` found nothing or little: searches by others that share a word with it and
    found something (those whose results were opened first), then words of the catalog's titles and tags that
    share a pair of characters with it (量子计算 → 计算机 when a title has it)."""
    folded = analysis.fold(query).strip()[:100]
    words = [w for w in dict.fromkeys(analysis.words(folded)) if len(w) >= 2]
    if results is not None:  # a typo's correction is the likeliest word the visitor meant
        words += [g.corrected for g in results.groups if g.corrected and g.corrected not in words]
    if not words:
        return []
    since = timezone.now() - dt.timedelta(days=days)
    contains = Q()
    for word in words[:6]:
        contains |= Q(text__contains=word)
    logged = (
        SearchQuery.objects.filter(contains, created_at__gte=since, results__gt=0)
        .exclude(text=folded)
        .values("text")
        .annotate(n=Count("id", distinct=True), opened=Count("clicks"))
        .order_by("-opened", "-n", "text")[:limit]
    )
    found: list[str] = [row["text"] for row in logged]
    if len(found) < limit:
        found += [w for w in _vocabulary_neighbours(folded, words) if w not in found][: limit - len(found)]
    return found[:limit]


def _vocabulary_neighbours(folded: str, words: list[str]) -> list[str]:
    """Chinese words of the index sharing a character pair with the query, the largest overlap first."""
    from citydata.search import engine

    pairs = {p for w in words if not w.isascii() for p in analysis.bigrams(w) if len(p) == 2}
    if not pairs:
        return []
    scored = []
    for word in engine.cache.words():
        if word.isascii() or word == folded or word in words or len(word) > 8:
            continue
        shared = sum(1 for i in range(len(word) - 1) if word[i : i + 2] in pairs)
        if shared:
            scored.append((-shared / (len(word) - 1), len(word), word))
    return [w for *_k, w in sorted(scored)]
