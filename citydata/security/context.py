"""Who is asking and from where, for the audit trail: set per request by middleware, per job by the worker."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


# RequestContext is a frozen dataclass, so sharing one default instance is safe.
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "citydata_request",
    default=RequestContext(),  # noqa: B039
)


def current() -> RequestContext:
    return _current.get()


def bind(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)
