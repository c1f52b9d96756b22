from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from citydata.search import engine

register = template.Library()


@register.filter
def marked(text: str, groups) -> str:
    """`text` with the query's words in <mark>, everything else escaped."""
    if not groups:
        return escape(text)
    return mark_safe(  # noqa: S308 - every piece is escaped here
        "".join(
            f"<mark>{escape(piece)}</mark>" if hit else str(escape(piece))
            for piece, hit in engine.highlight(str(text), groups)
        )
    )
