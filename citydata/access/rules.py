"""Who may do what in conditional opening. Registered in the one permission table (accounts.authz)."""

from __future__ import annotations

from citydata.accounts import authz
from citydata.accounts.authz import EXPERT, OPERATOR, PROVIDER, department_ids, has_role


def _operator(user, obj) -> bool:
    return has_role(user, OPERATOR)


def _department_staff(user, department_id) -> bool:
    return has_role(user, OPERATOR) or department_id in department_ids(user, PROVIDER)


authz.rule("application.create")(lambda user, obj: user.is_authenticated)
authz.rule("application.for_organisation")(
    lambda user, organisation: organisation is not None and organisation.memberships.filter(user=user).exists()
)
# Only the applicant edits, submits, withdraws and signs their own application.
authz.rule("application.edit")(
    lambda user, application: application is not None and application.applicant_id == user.pk
)
# The providing department's staff review (受理, 补正, 评估, 决定); operators may step in for any department.
authz.rule("application.review")(
    lambda user, application: application is not None and _department_staff(user, application.department_id)
)
authz.rule("application.view")(
    lambda user, application: (
        application is not None
        and (
            application.applicant_id == user.pk
            or _department_staff(user, application.department_id)
            or (has_role(user, EXPERT) and application.panels.filter(opinions__expert=user).exists())
        )
    )
)
authz.rule("panel.create")(_operator)
authz.rule("agreement.template")(_operator)
authz.rule("grant.standing")(_operator)
authz.rule("grant.manage")(lambda user, grant: grant is not None and _department_staff(user, grant.department_id))
authz.rule("grant.report")(lambda user, grant: grant is not None and grant.holder_id == user.pk)
authz.rule("grant.view")(
    lambda user, grant: (
        grant is not None and (grant.holder_id == user.pk or _department_staff(user, grant.department_id))
    )
)
authz.rule("access.sla")(lambda user, obj: has_role(user, OPERATOR) or has_role(user, PROVIDER))
