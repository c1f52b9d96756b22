"""The one place that decides permissions. Every service calls `authorize()` before it changes anything.

A rule is a function of (user, object) → bool, registered under an action name. Apps add their
own rules with `rule()`, so the whole permission table stays in one registry that tests walk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from citydata.errors import Forbidden

Rule = Callable[[Any, Any], bool]
RULES: dict[str, Rule] = {}

VISITOR = "visitor"
REGISTERED = "registered"
ORG_MEMBER = "org_member"
ORG_ADMIN = "org_admin"
PROVIDER = "provider"
OPERATOR = "operator"
EXPERT = "expert"
AUDITOR = "auditor"

ROLE_LABELS = {
    VISITOR: _("访客"),
    REGISTERED: _("注册用户"),
    ORG_MEMBER: _("组织成员"),
    ORG_ADMIN: _("组织管理员"),
    PROVIDER: _("数据提供部门"),
    OPERATOR: _("平台运营方"),
    EXPERT: _("专家"),
    AUDITOR: _("安全审计员"),
}

# Which role labels a user with several roles for audit records and landing pages (strongest first).
ROLE_PRECEDENCE = (OPERATOR, AUDITOR, PROVIDER, EXPERT, ORG_ADMIN, ORG_MEMBER, REGISTERED)


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        if action in RULES:
            raise ValueError(f"permission rule {action!r} registered twice")
        RULES[action] = fn
        return fn

    return register


def _cached_roles(user) -> dict[str, set]:
    """{role: set of department ids (empty for unscoped roles)}, cached on the user object."""
    cached = getattr(user, "_citydata_roles", None)
    if cached is None:
        cached = {}
        for role, department_id in user.role_assignments.values_list("role", "department_id"):
            cached.setdefault(role, set())
            if department_id:
                cached[role].add(department_id)
        memberships = list(user.memberships.values_list("organisation_id", "is_admin"))
        if memberships:
            cached[ORG_MEMBER] = {org for org, _ in memberships}
            admin_of = {org for org, is_admin in memberships if is_admin}
            if admin_of:
                cached[ORG_ADMIN] = admin_of
        user._citydata_roles = cached
    return cached


def forget_roles(user) -> None:
    if hasattr(user, "_citydata_roles"):
        del user._citydata_roles


def roles(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return {VISITOR}
    return {REGISTERED, *_cached_roles(user)}


def has_role(user, role: str) -> bool:
    return role in roles(user)


def department_ids(user, role: str = PROVIDER) -> set:
    if user is None or not user.is_authenticated:
        return set()
    return set(_cached_roles(user).get(role, set()))


def primary_role(user) -> str:
    held = roles(user)
    return next((r for r in ROLE_PRECEDENCE if r in held), VISITOR)


def can(user, action: str, obj: Any = None) -> bool:
    try:
        check = RULES[action]
    except KeyError:
        raise LookupError(f"no permission rule for {action!r}") from None
    if user is None or not user.is_active:
        return False
    return bool(check(user, obj))


def authorize(user, action: str, obj: Any = None) -> None:
    """Raise Forbidden unless `user` may do `action` (on `obj`)."""
    if not can(user, action, obj):
        raise Forbidden(_("您没有执行此操作的权限。"), details={"action": action})


def _authenticated(user, obj) -> bool:
    return user.is_authenticated


def _operator(user, obj) -> bool:
    return has_role(user, OPERATOR)


def _auditor(user, obj) -> bool:
    return has_role(user, AUDITOR)


rule("account.edit_self")(_authenticated)
rule("apikey.create")(_authenticated)
rule("organisation.create")(_authenticated)
rule("department.manage")(_operator)
rule("role.assign")(_operator)
rule("console.view")(_operator)
rule("workdays.manage")(_operator)
rule("audit.view")(_auditor)
rule("audit.export")(_auditor)
# The data API's call logs (R8.2): the operator watches use and abuse; the auditor checks the operator.
rule("apicall.view")(lambda user, obj: has_role(user, OPERATOR) or has_role(user, AUDITOR))
rule("expert.view")(lambda user, obj: has_role(user, EXPERT))


@rule("apikey.revoke")
def _own_key(user, key) -> bool:
    return key is not None and key.user_id == user.pk


@rule("organisation.manage")
def _org_admin(user, organisation) -> bool:
    return has_role(user, OPERATOR) or (
        organisation is not None and organisation.pk in _cached_roles(user).get(ORG_ADMIN, set())
    )


@rule("department.workspace")
def _department_staff(user, department) -> bool:
    if has_role(user, OPERATOR):
        return True
    if department is None:
        return has_role(user, PROVIDER)
    return department.pk in department_ids(user, PROVIDER)


def _department_of(obj):
    return getattr(obj, "department", obj)


@rule("catalog.edit")
def _catalog_edit(user, department) -> bool:
    """Operators edit every department's catalog; provider staff only their own departments'."""
    department = _department_of(department)
    return has_role(user, OPERATOR) or (department is not None and department.pk in department_ids(user, PROVIDER))


rule("catalog.publish")(_catalog_edit)
rule("catalog.view_drafts")(_catalog_edit)
rule("catalog.review")(_operator)
# A kept raw upload may hold the personal data its published version masks (privacy, R8.3).
rule("datastore.raw_upload")(_operator)
rule("catalog.standard")(_operator)
rule("catalog.targets")(_operator)
