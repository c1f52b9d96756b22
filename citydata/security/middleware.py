"""Request id, client address and security headers for every response."""

from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings

from citydata.security import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The generated API docs page loads Swagger UI from the page itself and runs an inline bootstrap.
API_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry our own trusted proxies added to X-Forwarded-For."""
    ip = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            ip = parts[-hops]
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def _has_nul(request) -> bool:
    return "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            # A NUL byte in a URL is never legitimate and some databases refuse it in queries.
            return bad_request(request)
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.client_ip = client_ip(request)
        token = context.bind(
            context.RequestContext(
                ip=request.client_ip,
                user_agent=request.headers.get("User-Agent", "")[:400],
                request_id=request.id,
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.unbind(token)
        response["X-Request-ID"] = request.id
        return response


def bad_request(request):
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    from citydata.api_middleware import API_PREFIX, json_error

    if request.path.startswith(API_PREFIX):
        return json_error(400, "bad_request", _("请求地址含有无效字符。"))
    return render(request, "400.html", {"reason": _("请求地址含有无效字符。")}, status=400)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = API_DOCS_POLICY if request.path.startswith("/api/v1/docs") else CONTENT_SECURITY_POLICY
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
