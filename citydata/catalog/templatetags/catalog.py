from django import template
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag
def filter_url(flt, **override):
    """The catalog list URL with the current filters, some changed (an empty value removes one)."""
    query = flt.as_query(**override)
    return "?" + urlencode(query) if query else "?"
