"""Turn a service's DomainError raised inside a page view into the matching error page, and give
refused methods (405) a readable page instead of an empty body."""

from __future__ import annotations

from django.shortcuts import render

from citydata.errors import DomainError


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not request.path.startswith("/api/") and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        template = {403: "403.html", 404: "404.html"}.get(exception.status, "400.html")
        return render(request, template, {"reason": exception.message}, status=exception.status)
