"""Permission rules of the quality app, registered in the one registry (`accounts.authz`)."""

from __future__ import annotations

from citydata.accounts.authz import OPERATOR, PROVIDER, department_ids, has_role, rule


def _operator(user, obj) -> bool:
    return has_role(user, OPERATOR)


def _department_of(obj):
    return getattr(obj, "department", obj)


def _department_staff_or_operator(user, obj) -> bool:
    """Operators everywhere; provider staff for their own department (obj: a department, task or dataset)."""
    if has_role(user, OPERATOR):
        return True
    department = _department_of(obj)
    if department is None:
        return has_role(user, PROVIDER)
    return department.pk in department_ids(user, PROVIDER)


rule("quality.inspect")(_operator)  # start inspection runs, keep schedules, see the city dashboard
rule("quality.close_task")(_operator)  # accept the fix of a task no check can verify (an error report)
rule("quality.department")(_department_staff_or_operator)  # a department's dashboard, findings and tasks
rule("quality.fix_task")(_department_staff_or_operator)  # report a task fixed, which triggers the re-check
