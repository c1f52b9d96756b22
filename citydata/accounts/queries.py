"""Reads for accounts, shared by the user centre page and the API."""

from __future__ import annotations

from citydata.accounts import authz
from citydata.accounts.models import ApiKey, Department, User


def user_summary(user: User) -> dict:
    memberships = user.memberships.select_related("organisation").order_by("organisation__name")
    departments = Department.objects.filter(pk__in=authz.department_ids(user)).order_by("code")
    return {
        "id": user.pk,
        "display_name": str(user),
        "login": user.login_label,
        "roles": sorted(authz.roles(user)),
        "role_labels": [str(authz.ROLE_LABELS[r]) for r in authz.ROLE_PRECEDENCE if r in authz.roles(user)],
        "primary_role": authz.primary_role(user),
        "departments": [{"code": d.code, "name": d.name} for d in departments],
        "organisations": [
            {
                "id": m.organisation.pk,
                "name": m.organisation.name,
                "uscc": m.organisation.uscc,
                "type": m.organisation.type,
                "is_admin": m.is_admin,
            }
            for m in memberships
        ],
        "real_name_registered": bool(user.resident_id_digest),
        "resident_id_masked": user.resident_id_masked,
    }


def api_keys_of(user: User):
    return ApiKey.objects.filter(user=user)


def api_key_out(key: ApiKey) -> dict:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
        "active": key.is_active,
    }
