"""Authentication by mobile number or e-mail address."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from citydata.accounts.models import User


def find_user(identifier: str) -> User | None:
    from citydata.accounts.services import normalize_identifier

    kind, value = normalize_identifier(identifier)
    if kind is None:
        return None
    return User.objects.filter(**{kind: value}).first()


class MobileOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = find_user(username)
        if user is None:
            # Spend the same time as a real check so response times do not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
