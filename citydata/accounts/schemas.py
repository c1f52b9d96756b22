"""API schemas for accounts."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from citydata.api_types import Text


class DepartmentOut(Schema):
    code: str
    name: str


class OrganisationOut(Schema):
    id: int
    name: str
    uscc: str
    type: str
    is_admin: bool


class MeOut(Schema):
    id: int
    display_name: str
    login: str = Field(description="E-mail address, or the mobile number masked")
    roles: list[str]
    role_labels: list[str] = Field(description="The roles' names in the request's language, strongest first")
    primary_role: str
    departments: list[DepartmentOut]
    organisations: list[OrganisationOut]
    real_name_registered: bool
    resident_id_masked: str = ""


class ApiKeyIn(Schema):
    name: Text = Field(min_length=1, max_length=60, description="A label to recognise the key by")


class ApiKeyOut(Schema):
    prefix: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool


class ApiKeyCreatedOut(ApiKeyOut):
    secret: str = Field(description="The full key. Shown only in this response: store it now.")


class ApiKeyPageOut(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None


class CodeIn(Schema):
    identifier: Text = Field(max_length=254, description="Mobile number or e-mail address")
    purpose: Text = Field(pattern="^(register|reset)$")


class CodeSentOut(Schema):
    target: str
    expires_in_minutes: int


class RegisterIn(Schema):
    identifier: Text = Field(max_length=254)
    code: Text = Field(max_length=12)
    password: Text = Field(max_length=128)
    display_name: Text = Field(default="", max_length=60)


class PasswordResetIn(Schema):
    identifier: Text = Field(max_length=254)
    code: Text = Field(max_length=12)
    password: Text = Field(max_length=128)


class UserCreatedOut(Schema):
    id: int
    login: str
