"""Shared test fixtures: factories for people in every role, and clients logged in as them."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the live server's database access
# happens in its own thread, so Django's async-safety guard would only raise false alarms here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-pass-2026"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.SMS_BACKEND = "locmem"
    settings.CODE_RESEND_SECONDS = 0
    from citydata.accounts import messaging

    messaging.sms_outbox.clear()
    # Data files of every test go to its own folder.
    from citydata.datastore.storage import reset_storage

    settings.STORAGE_URL = str(tmp_path / "datastore")
    reset_storage()
    yield
    reset_storage()
    # A request in English leaves English active in this thread; the next test starts in Chinese.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def make_user(db):
    from citydata.accounts.models import User

    counter = {"n": 0}

    def make(*, email: str | None = None, mobile: str | None = None, password: str = PASSWORD, **extra) -> User:
        counter["n"] += 1
        if email is None and mobile is None:
            email = f"user{counter['n']}-{os.urandom(3).hex()}@example.cn"
        return User.objects.create_user(email=email, mobile=mobile, password=password, **extra)

    return make


@pytest.fixture
def department(db):
    from citydata.accounts import services

    def make(code: str, name: str | None = None):
        from citydata.accounts.models import Department

        existing = Department.objects.filter(code=code).first()
        return existing or services.department_create(by=None, code=code, name=name or f"测试部门{code}")

    return make


@pytest.fixture
def user_with_role(make_user, department):
    from citydata.accounts import services

    def make(role: str, dept: str | None = None, **kwargs):
        user = make_user(**kwargs)
        if role in {"provider", "operator", "expert", "auditor"}:
            services.role_grant(by=None, user=user, role=role, department=department(dept) if dept else None)
        return user

    return make


@pytest.fixture
def client_for(client, user_with_role):
    """A test client logged in as a new user with the given role."""

    def make(role: str = "registered", dept: str | None = None):
        user = user_with_role(role, dept)
        client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
        client.user = user
        return client

    return make
