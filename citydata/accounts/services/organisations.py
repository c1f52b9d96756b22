"""Organisations (legal persons) and their members."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.identifiers import validate_uscc
from citydata.accounts.models import (
    Membership,
    Organisation,
    User,
)
from citydata.errors import Conflict, DomainError, NotFound
from citydata.security import audit

# --- organisations -----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, by: User, name: str, uscc: str, type: str) -> Organisation:
    authz.authorize(by, "organisation.create")
    name = (name or "").strip()
    if not 2 <= len(name) <= 120:
        raise DomainError(_("请填写组织的全称（2至120个字）。"), code="invalid_name", details={"field": "name"})
    try:
        code = validate_uscc(uscc)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid", details={"field": "uscc"}) from None
    if Organisation.objects.filter(uscc=code).exists():
        raise Conflict(
            _("该统一社会信用代码的组织已存在，请联系其管理员将您加入。"), code="uscc_taken", details={"field": "uscc"}
        )
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(name=name, uscc=code, type=type)
    except IntegrityError:
        raise Conflict(
            _("该统一社会信用代码的组织已存在，请联系其管理员将您加入。"), code="uscc_taken", details={"field": "uscc"}
        ) from None
    Membership.objects.create(organisation=organisation, user=by, is_admin=True)
    authz.forget_roles(by)
    audit.record(by, "organisation.create", organisation, changes={"uscc": {"before": None, "after": code}})
    return organisation


@transaction.atomic
def organisation_add_member(
    *, organisation: Organisation, by: User, identifier: str, is_admin: bool = False
) -> Membership:
    authz.authorize(by, "organisation.manage", organisation)
    from citydata.accounts.backends import find_user

    member = find_user(identifier)
    if member is None:
        raise NotFound(_("没有找到该手机号或邮箱对应的用户，请先请对方注册。"), details={"field": "identifier"})
    membership, created = Membership.objects.get_or_create(
        organisation=organisation, user=member, defaults={"is_admin": is_admin}
    )
    if not created:
        raise Conflict(_("该用户已是本组织成员。"), code="already_member")
    audit.record(
        by, "organisation.add_member", organisation, changes={"member": {"before": None, "after": str(member)}}
    )
    return membership


def _other_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id, is_admin=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def organisation_set_admin(*, by: User, membership: Membership, is_admin: bool) -> Membership:
    authz.authorize(by, "organisation.manage", membership.organisation)
    if membership.is_admin and not is_admin and not _other_admins(membership):
        raise DomainError(_("组织至少需要一名管理员，请先指定另一位管理员。"), code="last_admin")
    if membership.is_admin != is_admin:
        membership.is_admin = is_admin
        membership.save(update_fields=["is_admin"])
        authz.forget_roles(membership.user)
        audit.record(
            by,
            "organisation.set_admin",
            membership.organisation,
            changes={str(membership.user): {"before": not is_admin, "after": is_admin}},
        )
    return membership


@transaction.atomic
def organisation_remove_member(*, by: User, membership: Membership) -> None:
    authz.authorize(by, "organisation.manage", membership.organisation)
    if membership.is_admin and not _other_admins(membership):
        raise DomainError(_("组织至少需要一名管理员，请先指定另一位管理员。"), code="last_admin")
    organisation, member = membership.organisation, membership.user
    membership.delete()
    authz.forget_roles(member)
    audit.record(
        by, "organisation.remove_member", organisation, changes={"member": {"before": str(member), "after": None}}
    )
