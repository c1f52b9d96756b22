"""The quality badge for the public dataset page: `{% quality_badge dataset %}`."""

from __future__ import annotations

from django import template

from citydata.quality import queries

register = template.Library()


@register.inclusion_tag("quality/_badge_inner.html")
def quality_badge(dataset):
    return {"badge": queries.badge(dataset)}
