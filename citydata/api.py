"""The /api/v1 JSON API: assembles each app's router and gives every error one shape."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from citydata.api_auth import InvalidApiKey
from citydata.errors import DomainError

logger = logging.getLogger("citydata.api")


class UnicodeJSONRenderer(JSONRenderer):
    """Chinese stays readable in responses instead of \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=UnicodeJSONRenderer(),
    title="CityData API",
    version="1.0.0",
    description=(
        "公共数据开放平台接口。Authenticate with a personal API key: `Authorization: Bearer cd_…` "
        "or `X-API-Key: cd_…`. Errors always have the shape `{code, message, details}`; messages are "
        "Chinese by default and English with `Accept-Language: en`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class ErrorOut(Schema):
    code: str
    message: str
    details: object | None = None


def error_response(request, status: int, code: str, message, details=None):
    return api.create_response(request, {"code": code, "message": str(message), "details": details}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    response = error_response(request, exc.status, exc.code, exc.message, exc.details)
    if exc.status == 429 and isinstance(exc.details, dict) and "retry_after" in exc.details:
        response["Retry-After"] = str(exc.details["retry_after"])
    return response


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    details = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors
    ]
    return error_response(request, 422, "validation_error", _("请求参数有误，请按说明修改后重试。"), details)


@api.exception_handler(InvalidApiKey)
def _invalid_key(request, exc):
    return error_response(
        request, 401, "invalid_api_key", _("API 密钥无效或已被撤销。请在用户中心查看密钥状态，或创建新的密钥。")
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error_response(request, 401, "unauthenticated", _("请先登录，或在请求头中提供有效的 API 密钥。"))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", _("请求的资源不存在。"))


# ninja raises these with fixed English texts; say them in the user's language.
NINJA_MESSAGES = {
    "Cannot parse request body": ("invalid_body", lambda: _("请求体无法解析，请发送有效的 JSON。")),
    "CSRF check Failed": ("csrf_failed", lambda: _("CSRF 校验失败：请刷新页面后重试，或改用 API 密钥调用接口。")),
}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    message = exc.message
    for prefix, (known_code, text) in NINJA_MESSAGES.items():
        if str(exc.message).startswith(prefix):
            code, message = known_code, text()
    return error_response(request, exc.status_code, code, message)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return error_response(
        request, 413, "body_too_large", _("请求体过大（上限 %(kb)s KB）。") % {"kb": limit}, {"max_kb": limit}
    )


@api.exception_handler(Exception)
def _unexpected(request, exc):
    logger.exception("unexpected error in %s %s (request %s)", request.method, request.path, request.id)
    if settings.DEBUG:
        raise exc
    return error_response(
        request,
        500,
        "server_error",
        _("服务器内部错误，我们已记录此问题。请稍后重试；如持续出现，请联系平台并提供请求编号。"),
        {"request_id": getattr(request, "id", "")},
    )


class HealthOut(Schema):
    status: str
    database: str


@api.get("/health", response=HealthOut, tags=["platform"], summary="Service health")
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "database": connection.vendor}


def _mount() -> None:
    from citydata.access.api import router as access_router
    from citydata.accounts.api import router as accounts_router
    from citydata.catalog.api import router as catalog_router
    from citydata.datastore.api import router as datastore_router
    from citydata.engagement.api import router as engagement_router
    from citydata.privacy.api import router as privacy_router
    from citydata.quality.api import router as quality_router
    from citydata.search.api import router as search_router
    from citydata.security.api import router as security_router

    api.add_router("/", accounts_router)
    api.add_router("/", catalog_router)
    api.add_router("/", datastore_router)
    api.add_router("/", search_router)
    api.add_router("/", access_router)
    api.add_router("/", quality_router)
    api.add_router("/", engagement_router)
    api.add_router("/", privacy_router)
    api.add_router("/audit", security_router)


_mount()
