"""How API callers authenticate: a personal API key (two header forms) or the browser session."""

from __future__ import annotations

from ninja.security import APIKeyHeader, HttpBearer, django_auth

from citydata.accounts.services import apikey_authenticate


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer cd_…` with a personal API key."""

    def authenticate(self, request, token):
        user = apikey_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: cd_…`, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        user = apikey_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


AUTH = [ApiKeyBearer(), ApiKeyHeader(), django_auth]
