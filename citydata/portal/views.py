"""Public pages: home, care mode switch, robots.txt and the sitemap, error pages."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from citydata.accounts.models import Department
from citydata.catalog import queries as catalog_queries
from citydata.catalog.seo import public_base
from citydata.portal import sitemaps
from citydata.portal.context_processors import CARE_COOKIE
from citydata.portal.domains import DOMAIN_EXAMPLES


def home(request):
    domains = catalog_queries.domain_counts()
    published = catalog_queries.published()
    opened = published.count()
    from django.utils import timezone

    target = max(catalog_queries.city_target(timezone.localdate().year, settings.ANNUAL_TARGET), 1)
    return render(
        request,
        "portal/home.html",
        {
            "priority_domains": [d for d in domains if d["is_priority"]],
            "other_domains": [d for d in domains if not d["is_priority"] and d["count"]],
            "examples": dict(DOMAIN_EXAMPLES),
            "department_count": Department.objects.filter(is_active=True, datasets__status="published")
            .distinct()
            .count(),
            "opened": opened,
            "target": target,
            "progress": min(100, round(opened * 100 / target)),
            "newest": published.select_related("department").order_by("-published_at", "-id")[:6],
            "popular": published.select_related("department").order_by("-download_count", "-id")[:6],
        },
    )


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_POST
def care_mode(request):
    """Switch the elderly-friendly mode (适老化: larger text, higher contrast) on or off."""
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("on") == "1":
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure())
    else:
        response.delete_cookie(CARE_COOKIE)
    return response


@require_safe
def robots_txt(request):
    response = HttpResponse(sitemaps.robots(public_base(request)), content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response


def _sitemap_response(content) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="application/xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=3600)
    return response


@require_safe
def sitemap_index(request):
    """The sitemap index (R7.2): the section sitemaps below, each with its newest change."""
    return _sitemap_response(sitemaps.index(public_base(request)))


@require_safe
def sitemap_pages(request):
    return _sitemap_response(sitemaps.portal_pages(public_base(request)))


@require_safe
def sitemap_departments(request, page: int):
    if not sitemaps.has_page("departments", page):
        raise Http404
    return _sitemap_response(sitemaps.departments(public_base(request), page))


@require_safe
def sitemap_datasets(request, page: int):
    if not sitemaps.has_page("datasets", page):
        raise Http404
    return _sitemap_response(sitemaps.datasets(public_base(request), page))


def error_400(request, exception=None):
    return render(request, "400.html", status=400)


def error_403(request, exception=None):
    return render(request, "403.html", {"reason": getattr(exception, "message", "")}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # Render without the request context: whatever failed may fail again inside a context processor.
    from django.template import loader

    html = loader.get_template("500.html").render(
        {"platform_name": settings.PLATFORM_NAME, "request_id": getattr(request, "id", "")}
    )
    from django.http import HttpResponseServerError

    return HttpResponseServerError(html)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
