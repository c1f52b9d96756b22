"""Accounts API: the caller's identity, personal API keys, registration and password reset."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from citydata.accounts import queries, services
from citydata.accounts.models import ApiKey
from citydata.accounts.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyPageOut,
    CodeIn,
    CodeSentOut,
    MeOut,
    PasswordResetIn,
    RegisterIn,
    UserCreatedOut,
)
from citydata.api_auth import AUTH
from citydata.paging import paginate_desc

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, auth=AUTH, summary="The calling user, their roles and organisations")
def me(request):
    return queries.user_summary(request.user)


@router.get("/me/api-keys", response=ApiKeyPageOut, auth=AUTH, summary="List my API keys (newest first)")
def list_api_keys(request, cursor: str | None = None, limit: int = 20):
    page = paginate_desc(queries.api_keys_of(request.user), key="id", cursor=cursor, limit=limit)
    return {"items": [queries.api_key_out(k) for k in page.items], "next_cursor": page.next_cursor}


@router.post("/me/api-keys", response={201: ApiKeyCreatedOut}, auth=AUTH, summary="Create an API key")
def create_api_key(request, body: ApiKeyIn):
    key, secret = services.apikey_create(by=request.user, name=body.name)
    return Status(201, {**queries.api_key_out(key), "secret": secret})


@router.delete("/me/api-keys/{prefix}", response=ApiKeyOut, auth=AUTH, summary="Revoke an API key")
def revoke_api_key(request, prefix: str):
    key = get_object_or_404(ApiKey, prefix=prefix[:12], user=request.user)
    return queries.api_key_out(services.apikey_revoke(by=request.user, key=key))


@router.post("/auth/codes", response={202: CodeSentOut}, summary="Send a verification code (register or reset)")
def send_code(request, body: CodeIn):
    target = services.code_send(identifier=body.identifier, purpose=body.purpose, ip=request.client_ip)
    return Status(202, {"target": target, "expires_in_minutes": settings.CODE_TTL_MINUTES})


@router.post("/auth/register", response={201: UserCreatedOut}, summary="Register with a verification code")
def register(request, body: RegisterIn):
    user = services.user_register(
        identifier=body.identifier, code=body.code, password=body.password, display_name=body.display_name
    )
    return Status(201, {"id": user.pk, "login": user.login_label})


@router.post("/auth/password-reset", response=UserCreatedOut, summary="Set a new password with a reset code")
def password_reset(request, body: PasswordResetIn):
    user = services.password_reset(identifier=body.identifier, code=body.code, password=body.password)
    return {"id": user.pk, "login": user.login_label}
