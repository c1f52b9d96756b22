"""Turn a service's DomainError raised inside a page view into the matching error page."""

from __future__ import annotations

from django.shortcuts import render

from citydata.errors import DomainError


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        template = {403: "403.html", 404: "404.html"}.get(exception.status, "400.html")
        return render(request, template, {"reason": exception.message}, status=exception.status)
