"""Government departments, the staff named for each stage of the work (专人专岗), and roles."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import (
    Department,
    DepartmentDuty,
    Role,
    RoleAssignment,
    User,
)
from citydata.errors import Conflict, DomainError
from citydata.security import audit

# --- departments, duties and roles -------------------------------------------------------------


@transaction.atomic
def department_create(*, by: User | None, code: str, name: str, parent: Department | None = None) -> Department:
    if by is not None:
        authz.authorize(by, "department.manage")
    code = (code or "").strip().upper()
    if not code or not name.strip():
        raise DomainError(_("部门编码和名称都必须填写。"), code="invalid")
    if Department.objects.filter(code=code).exists():
        raise Conflict(_("部门编码已存在。"), code="department_exists", details={"field": "code"})
    if Department.objects.filter(name=name.strip()).exists():
        raise Conflict(_("部门名称已存在。"), code="department_exists", details={"field": "name"})
    department = Department.objects.create(code=code, name=name.strip(), parent=parent)
    audit.record(by, "department.create", department)
    return department


@transaction.atomic
def duty_assign(*, by: User | None, department: Department, stage: str, user: User, phone: str = "") -> DepartmentDuty:
    """Name a member of staff responsible for one stage of one department (专人专岗)."""
    if by is not None:
        authz.authorize(by, "department.manage")
    if not RoleAssignment.objects.filter(user=user, role=Role.PROVIDER, department=department).exists():
        raise DomainError(
            _("岗位负责人必须是本部门人员，请先把该用户添加为本部门人员。"),
            code="not_department_staff",
            details={"field": "identifier"},
        )
    duty, created = DepartmentDuty.objects.get_or_create(
        department=department, stage=stage, user=user, defaults={"phone": phone}
    )
    if created:
        audit.record(by, "department.assign_duty", department, changes={stage: {"before": None, "after": str(user)}})
    return duty


@transaction.atomic
def duty_remove(*, by: User, duty: DepartmentDuty) -> None:
    authz.authorize(by, "department.manage")
    department, stage, holder = duty.department, duty.stage, str(duty.user)
    duty.delete()
    audit.record(by, "department.remove_duty", department, changes={stage: {"before": holder, "after": None}})


@transaction.atomic
def role_grant(*, by: User | None, user: User, role: str, department: Department | None = None) -> RoleAssignment:
    if by is not None:
        authz.authorize(by, "role.assign")
    if role not in Role.values:
        raise DomainError(_("未知的角色。"), code="unknown_role")
    if role == Role.PROVIDER and department is None:
        raise DomainError(_("数据提供部门角色必须指定部门。"), code="department_required")
    if role != Role.PROVIDER:
        department = None
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, department=department)
    authz.forget_roles(user)
    if created:
        audit.record(
            by,
            "role.grant",
            user,
            changes={"role": {"before": None, "after": role + (f"@{department.code}" if department else "")}},
        )
    return assignment


@transaction.atomic
def role_revoke(*, by: User, assignment: RoleAssignment) -> None:
    authz.authorize(by, "role.assign")
    if assignment.user_id == by.pk and assignment.role == Role.OPERATOR:
        raise DomainError(_("不能撤销自己的平台运营方角色，请由另一位运营人员操作。"), code="cannot_revoke_self")
    changes: dict = {}
    if assignment.role == Role.PROVIDER and assignment.department_id:
        # Staff who leave the department also leave its duties.
        duties = DepartmentDuty.objects.filter(user=assignment.user, department_id=assignment.department_id)
        dropped = sorted(duties.values_list("stage", flat=True))
        if dropped:
            changes["duties"] = {"before": dropped, "after": []}
        duties.delete()
    label = assignment.role + (f"@{assignment.department.code}" if assignment.department else "")
    changes["role"] = {"before": label, "after": None}
    user = assignment.user
    assignment.delete()
    authz.forget_roles(user)
    audit.record(by, "role.revoke", user, changes=changes)
