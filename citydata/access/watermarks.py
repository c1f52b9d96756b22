"""Who could have leaked a file: every grant's watermark key is a candidate for `citydata trace-leak`."""

from __future__ import annotations

from collections.abc import Iterator

from citydata.access.models import Grant
from citydata.privacy import watermark


@watermark.register_candidate_source
def grant_recipients(dataset: str | None) -> Iterator[tuple[str, bytes]]:
    grants = Grant.objects.select_related("holder", "organisation", "application").order_by("pk")
    if dataset:
        grants = grants.filter(items__dataset__slug=dataset)
    for grant in grants:
        who = grant.organisation or grant.holder
        case = f" · {grant.application.number}" if grant.application else ""
        yield f"授权 #{grant.pk} · {who}{case}", grant.watermark_key()
