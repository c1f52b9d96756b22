"""How API callers authenticate: a personal API key (two header forms) or the browser session."""

from __future__ import annotations

from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from citydata.accounts.services import apikey_authenticate


class InvalidApiKey(AuthenticationError):
    """A key was presented and is wrong or revoked: refuse, rather than fall back to the session."""


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer cd_…` with a personal API key."""

    def authenticate(self, request, token):
        user = apikey_authenticate(token)
        if user is None:
            raise InvalidApiKey()
        request.user, request.api_key = user, user.authenticated_key
        return user


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: cd_…`, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        if not key:
            return None
        user = apikey_authenticate(key)
        if user is None:
            raise InvalidApiKey()
        request.user, request.api_key = user, user.authenticated_key
        return user


AUTH = [ApiKeyBearer(), ApiKeyHeader(), django_auth]


def caller(request):
    """The user behind a call that does not require authentication: a presented key must be valid (401
    otherwise), else the session's user, else the anonymous user."""
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
    if key:
        user = apikey_authenticate(key)
        if user is None:
            raise InvalidApiKey()
        request.user, request.api_key = user, user.authenticated_key
    return request.user
