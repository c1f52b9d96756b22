"""Does each resource's address answer? One HTTP request per external address, kept as `ResourceProbe` history.

Addresses on this platform (`/api/v1/…`) are not fetched over HTTP: the records-API check reads the version's
file directly. Requests go out with a short timeout and read no body, so a slow or huge resource costs little.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterable

from citydata.catalog.models import Resource
from citydata.quality.models import ResourceProbe

TIMEOUT_SECONDS = 5
KEEP_PER_RESOURCE = 60  # probes of one resource kept as history


def is_external(url: str) -> bool:
    return url.startswith(("http://", "https://"))


class _NoRedirectBody(urllib.request.HTTPRedirectHandler):
    max_redirections = 3


def fetch(url: str) -> tuple[bool, int | None, str]:
    """(answers, HTTP status, error). HEAD first; servers that refuse HEAD get a GET whose body is not read."""
    opener = urllib.request.build_opener(_NoRedirectBody())
    headers = {"User-Agent": "CityData-quality-probe/1"}  # ASCII: header values are Latin-1
    status: int | None = None
    error = ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310 - http(s) only, checked
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
                return 200 <= status < 400, status, ""
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue
            return False, status, error
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return False, None, str(reason)[:300]
    return False, status, error


def probe(resource: Resource) -> ResourceProbe | None:
    """Probe one resource's external address and keep the result; None for addresses not probed over HTTP."""
    url = resource.url.strip()
    if not is_external(url):
        return None
    started = time.monotonic()
    ok, status, error = fetch(url)
    result = ResourceProbe.objects.create(
        resource=resource,
        url=url[:500],
        ok=ok,
        status_code=status,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        error=error[:300],
    )
    stale = list(
        ResourceProbe.objects.filter(resource=resource)
        .order_by("-checked_at", "-id")
        .values_list("id", flat=True)[KEEP_PER_RESOURCE:]
    )
    if stale:
        ResourceProbe.objects.filter(id__in=stale).delete()
    return result


def probe_all(resources: Iterable[Resource]) -> int:
    return sum(1 for r in resources if probe(r) is not None)


def latest(resource_ids: list[int]) -> dict[int, ResourceProbe]:
    """The newest probe of each resource."""
    newest: dict[int, ResourceProbe] = {}
    for item in ResourceProbe.objects.filter(resource_id__in=resource_ids).order_by(
        "resource_id", "-checked_at", "-id"
    ):
        newest.setdefault(item.resource_id, item)
    return newest
