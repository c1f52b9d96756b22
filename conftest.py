"""Shared test fixtures: factories for people in every role, and clients logged in as them."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

# Playwright's sync API runs an event loop in the test thread; the live server's database access
# happens in its own thread, so Django's async-safety guard would only raise false alarms here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-pass-2026"


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """The platform's password hasher at the least work Argon2 accepts. At the configured cost every hash and every
    check takes about 0.3 s of CPU, and the tests create and log in users in most of their fixtures; the algorithm, the
    encoding and the code paths stay those of production (a test still checks that passwords are stored as Argon2)."""

    time_cost = 1
    memory_cost = 8  # KiB: Argon2's minimum, 8 per lane
    parallelism = 1


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CheapArgon2PasswordHasher"]):
        yield


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
    # Test transactions never commit: the search index follows catalog changes at once instead of by a task.
    from citydata.search import engine, signals

    signals.inline = True
    engine.cache.clear()
    yield
    reset_storage()
    # A request in English leaves English active in this thread; the next test starts in Chinese.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@contextmanager
def data_shared_by_the_module(django_db_blocker, tmp_path_factory):
    """For a module-scoped fixture that builds data the module's tests share, where building it for each test would
    cost seconds: what is built inside this block is made in a transaction rolled back after the module's last test.
    Each test's own transaction (pytest-django's) becomes a savepoint inside it, so every test sees the data exactly
    as built and nothing a test does reaches the next. The block has the environment `_test_settings` gives a test;
    files it stores stay in a folder of the module's. Not for modules with transactional tests, whose flush would
    empty the shared data."""
    from django.db import transaction
    from django.test import override_settings

    from citydata.datastore.storage import reset_storage
    from citydata.search import engine, signals

    storage = tmp_path_factory.mktemp("module-data") / "datastore"
    with (
        django_db_blocker.unblock(),
        override_settings(SMS_BACKEND="locmem", CODE_RESEND_SECONDS=0, STORAGE_URL=str(storage)),
    ):
        reset_storage()
        inline, signals.inline = signals.inline, True
        engine.cache.clear()
        try:
            with transaction.atomic():
                yield
                transaction.set_rollback(True)
        finally:
            signals.inline = inline
            engine.cache.clear()
            reset_storage()


def get_department(code: str, name: str | None = None):
    """The department with this code, created if missing (what the `department` fixture gives)."""
    from citydata.accounts import services
    from citydata.accounts.models import Department

    existing = Department.objects.filter(code=code).first()
    return existing or services.department_create(by=None, code=code, name=name or f"测试部门{code}")


@pytest.fixture
def calendar_ahead(db):
    """Working-day deadlines of work started today may fall in next year, whose holidays the State Council
    publishes late in the year: tests of such work confirm next year as ordinary weeks, so they do not
    depend on the date they run. (The calendar's own tests check that a year without data is refused.)"""
    from django.utils import timezone

    from citydata.workdays import calendar
    from citydata.workdays.models import CalendarYear

    year = timezone.localdate().year + 1
    if not calendar.library_covers(year):
        CalendarYear.objects.get_or_create(year=year, defaults={"note": "测试"})


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
    return get_department


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    """Debian's headless Chromium through Playwright. Skipped where it is missing, except in CI
    (CITYDATA_REQUIRE_BROWSER), where a missing browser fails the test."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        if os.environ.get("CITYDATA_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (.ci/run installs it)")
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def child_database_url():
    """A DATABASE_URL that points child processes (workers, CLI commands) at the test database."""
    from django.db import connection

    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def redis_url():
    """A database of the Redis server on 127.0.0.1:6379 (1 to 15) that no other test run on this machine uses while
    this one holds it: the RQ tests empty theirs, and `make test` runs the SQLite and PostgreSQL suites side by side.
    The claim is a key in database 0 that expires after an hour, should a run die holding it.
    CITYDATA_TEST_REDIS_URL names a database instead."""
    if url := os.environ.get("CITYDATA_TEST_REDIS_URL"):
        yield url
        return
    redis = pytest.importorskip("redis")
    registry = redis.Redis(host="127.0.0.1", port=6379, db=0)
    token = f"{os.getpid()}:{os.urandom(8).hex()}"
    for number in range(1, 16):
        claim = f"citydata:test-run:redis-db:{number}"
        if registry.set(claim, token, nx=True, ex=3600):
            break
    else:
        pytest.fail("Redis databases 1 to 15 are all held by other test runs")
    yield f"redis://127.0.0.1:6379/{number}"
    if registry.get(claim) == token.encode():
        registry.delete(claim)
