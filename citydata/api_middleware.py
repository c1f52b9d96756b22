"""Give every /api/ error the API's shape, including those answered before ninja runs
(unknown paths, wrong methods) which Django would otherwise answer in HTML or plain text."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

_MESSAGES = {
    404: ("not_found", lambda: _("请求的资源不存在。")),
    405: ("method_not_allowed", lambda: _("不支持该请求方法，请查看接口文档中允许的方法。")),
}


def json_error(status: int, code: str, message, details=None) -> HttpResponse:
    """An error in the API's shape, for answers given outside ninja's own handlers."""
    body = {"code": code, "message": str(message), "details": details}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _MESSAGES.get(response.status_code, ("error", lambda: _("请求无法处理。")))
            shaped = json_error(response.status_code, code, message())
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
