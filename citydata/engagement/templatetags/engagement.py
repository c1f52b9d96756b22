"""Template tags of the feedback section on the dataset page (which the catalog's view does not know about)."""

from __future__ import annotations

from django import template

from citydata.engagement import queries

register = template.Library()


@register.simple_tag(takes_context=True)
def dataset_feedback(context, dataset):
    """Ratings, the newest comments and error reports of `dataset`, as the current visitor may see them."""
    request = context.get("request")
    return queries.dataset_feedback(dataset, getattr(request, "user", None))


@register.filter
def stars(score) -> str:
    """★★★☆☆ for 3 (text, so screen readers get the number from the label next to it)."""
    try:
        n = max(0, min(5, round(float(score))))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)
