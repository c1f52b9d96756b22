"""Every write to accounts, by sub-domain. Each service authorises, changes state in one transaction
and records an audit event. Callers use `from citydata.accounts import services` and `services.<name>`."""

from citydata.accounts.services.apikeys import (
    API_KEY_PREFIX,
    apikey_authenticate,
    apikey_create,
    apikey_revoke,
)
from citydata.accounts.services.departments import (
    department_create,
    duty_assign,
    duty_remove,
    role_grant,
    role_revoke,
)
from citydata.accounts.services.identity import (
    CODE_DAILY_LIMIT,
    CODE_MAX_ATTEMPTS,
    PASSWORD_MESSAGES,
    Lock,
    LoginFailed,
    LoginLocked,
    code_send,
    login_lock,
    normalize_identifier,
    parse_identifier,
    password_change,
    password_reset,
    user_create,
    user_login,
    user_register,
    user_set_real_name,
    user_update_profile,
)
from citydata.accounts.services.organisations import (
    organisation_add_member,
    organisation_create,
    organisation_remove_member,
    organisation_set_admin,
)

__all__ = [
    "API_KEY_PREFIX",
    "CODE_DAILY_LIMIT",
    "CODE_MAX_ATTEMPTS",
    "Lock",
    "LoginFailed",
    "LoginLocked",
    "PASSWORD_MESSAGES",
    "apikey_authenticate",
    "apikey_create",
    "apikey_revoke",
    "code_send",
    "department_create",
    "duty_assign",
    "duty_remove",
    "login_lock",
    "normalize_identifier",
    "organisation_add_member",
    "organisation_create",
    "organisation_remove_member",
    "organisation_set_admin",
    "parse_identifier",
    "password_change",
    "password_reset",
    "role_grant",
    "role_revoke",
    "user_create",
    "user_login",
    "user_register",
    "user_set_real_name",
    "user_update_profile",
]
