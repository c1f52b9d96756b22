"""Who may do what with personal-data protection. Registered in the one permission table (accounts.authz)."""

from __future__ import annotations

from citydata.accounts import authz
from citydata.accounts.authz import AUDITOR, OPERATOR, has_role

# Providers mask their own department's versions and mark quasi-identifiers (catalog.edit covers that); only the
# operator lets a version through the gate, with a written reason; operators and auditors see the dashboard.
authz.rule("privacy.override")(lambda user, obj: has_role(user, OPERATOR))
authz.rule("privacy.dashboard")(lambda user, obj: has_role(user, OPERATOR) or has_role(user, AUDITOR))
