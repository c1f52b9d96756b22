"""Typed domain errors. Services raise them; the HTML and API edges turn them into 4xx answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """The domain refuses the request. `message` is shown to the user (a lazy translation)."""

    status = 400
    default_code = "invalid"

    def __init__(self, message: Any, *, code: str | None = None, details: Any = None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.details = details


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    status = 409
    default_code = "conflict"


class TooManyRequests(DomainError):
    status = 429
    default_code = "too_many_requests"
