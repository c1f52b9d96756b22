"""Who may do what with feedback. Registered in the one permission table (accounts.authz).

Posting needs a login (the rules refuse anonymous users, like every rule); the one exception is a complaint
about exposed personal data, which anyone may file: its service limits anonymous reporters by IP address
instead of authorising them.
"""

from __future__ import annotations

from citydata.accounts import authz
from citydata.accounts.authz import OPERATOR, PROVIDER, department_ids, has_role


def _operator(user, obj) -> bool:
    return has_role(user, OPERATOR)


def _department_id(obj):
    """The department an object belongs to: a ticket's, a dataset's, a department's own id."""
    if obj is None:
        return None
    return obj.department_id if hasattr(obj, "department_id") else getattr(obj, "pk", None)


def _department_staff(user, obj) -> bool:
    """Operators, or provider staff of the department the object belongs to (none: operators only)."""
    if has_role(user, OPERATOR):
        return True
    department_id = _department_id(obj)
    return department_id is not None and department_id in department_ids(user, PROVIDER)


authz.rule("feedback.post")(lambda user, obj: user.is_authenticated)
# Comments and ratings on a dataset are moderated by operators and by the dataset's department.
authz.rule("feedback.moderate")(_department_staff)
# Error reports, data requests and complaints are answered by their department; operators may step in.
authz.rule("feedback.answer")(_department_staff)
authz.rule("feedback.route")(_operator)
authz.rule("feedback.settings")(_operator)
authz.rule("feedback.backlog")(_operator)
authz.rule("suggestion.answer")(_operator)
# The dashboard: operators see every department, provider staff their own (obj: a department or None).
authz.rule("feedback.dashboard")(
    lambda user, department: (
        has_role(user, OPERATOR)
        or (has_role(user, PROVIDER) and (department is None or department.pk in department_ids(user, PROVIDER)))
    )
)
authz.rule("complaint.handle")(_department_staff)
authz.rule("complaint.view")(
    lambda user, complaint: (
        complaint is not None and (complaint.reporter_id == user.pk or _department_staff(user, complaint))
    )
)
