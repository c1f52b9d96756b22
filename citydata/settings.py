"""Django settings for CityData. Values come from the environment through `citydata.config`."""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from citydata.config import BASE_DIR, setting

DEBUG = setting("CITYDATA_DEBUG")
VAR_DIR = Path(setting("CITYDATA_VAR_DIR"))

SECRET_KEY = setting("CITYDATA_SECRET_KEY")
if not SECRET_KEY:
    # One machine, no configuration: keep a generated key beside the database. Several app nodes
    # must share one key, so they set CITYDATA_SECRET_KEY instead.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.touch(mode=0o600)
        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()
FIELD_ENCRYPTION_KEY = setting("CITYDATA_FIELD_KEY")

ALLOWED_HOSTS = setting("CITYDATA_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = setting("CITYDATA_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "citydata.accounts",
    "citydata.security",
    "citydata.catalog",
    "citydata.datastore",
    "citydata.search",
    "citydata.workdays",
    "citydata.portal",
    "citydata.jobs",
    "citydata.privacy",
    "citydata.access",
    "citydata.quality",
    "citydata.engagement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "citydata.security.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "citydata.api_middleware.ApiErrorShapeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "citydata.security.middleware.SecurityHeadersMiddleware",
    "citydata.portal.middleware.DomainErrorMiddleware",
]
CSRF_FAILURE_VIEW = "citydata.portal.views.csrf_failure"

ROOT_URLCONF = "citydata.urls"
WSGI_APPLICATION = "citydata.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "citydata.portal.context_processors.platform",
                "citydata.portal.context_processors.notifications",
            ],
        },
    },
]

_database_url = setting("DATABASE_URL")
if _database_url:
    DATABASES = {"default": environ.Env.db_url_config(_database_url)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "citydata.sqlite3",
            # WAL lets the web server read while the worker writes; immediate transactions
            # avoid "database is locked" upgrades from read to write locks.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, so tests can start real worker processes against the test database.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
            # Reuse a thread's connection across requests instead of opening the file each time.
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["citydata.accounts.backends.MobileOrEmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:landing"
LOGOUT_REDIRECT_URL = "portal:home"

LOGIN_MAX_FAILURES = setting("CITYDATA_LOGIN_MAX_FAILURES")
LOGIN_IP_MAX_FAILURES = setting("CITYDATA_LOGIN_IP_MAX_FAILURES")
LOGIN_LOCK_MINUTES = setting("CITYDATA_LOGIN_LOCK_MINUTES")
CODE_TTL_MINUTES = setting("CITYDATA_CODE_TTL_MINUTES")
CODE_RESEND_SECONDS = setting("CITYDATA_CODE_RESEND_SECONDS")
CODE_IP_HOURLY_LIMIT = setting("CITYDATA_CODE_IP_HOURLY_LIMIT")
SMS_BACKEND = setting("CITYDATA_SMS_BACKEND")
TRUSTED_PROXIES = setting("CITYDATA_TRUSTED_PROXIES")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "citydata" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from here after collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

ANNUAL_TARGET = setting("CITYDATA_ANNUAL_TARGET")
ACCEPT_WORKDAYS = setting("CITYDATA_ACCEPT_WORKDAYS")
GRANT_RATE_PER_MINUTE = setting("CITYDATA_GRANT_RATE_PER_MINUTE")
GRANT_DAILY_ROWS = setting("CITYDATA_GRANT_DAILY_ROWS")
GRANT_REPORT_EVERY_DAYS = setting("CITYDATA_GRANT_REPORT_EVERY_DAYS")
GRANT_REPORT_GRACE_DAYS = setting("CITYDATA_GRANT_REPORT_GRACE_DAYS")
STORAGE_URL = setting("CITYDATA_STORAGE_URL")
STORAGE_CACHE_BYTES = setting("CITYDATA_STORAGE_CACHE_MB") * 1024 * 1024
INGEST_MAX_BYTES = setting("CITYDATA_INGEST_MAX_MB") * 1024 * 1024
INGEST_MAX_ROWS = setting("CITYDATA_INGEST_MAX_ROWS")
INGEST_MAX_COLUMNS = setting("CITYDATA_INGEST_MAX_COLUMNS")
KEEP_RAW_UPLOADS = setting("CITYDATA_KEEP_RAW_UPLOADS")
PSEUDONYM_KEY = setting("CITYDATA_PSEUDONYM_KEY")
PRIVACY_BLOCKING_TYPES = setting("CITYDATA_PRIVACY_BLOCKING_TYPES")
PRIVACY_MIN_K = setting("CITYDATA_PRIVACY_MIN_K")
PRIVACY_MIN_L = setting("CITYDATA_PRIVACY_MIN_L")
PRIVACY_TASK_WORKDAYS = setting("CITYDATA_PRIVACY_TASK_WORKDAYS")
RECORDS_MAX_PAGE = setting("CITYDATA_RECORDS_MAX_PAGE")
RATE_ANON_PER_MINUTE = setting("CITYDATA_RATE_ANON_PER_MINUTE")
RATE_KEY_PER_MINUTE = setting("CITYDATA_RATE_KEY_PER_MINUTE")
RATE_LIMIT_BACKEND = setting("CITYDATA_RATE_LIMIT_BACKEND")
RATE_LIMIT_REDIS_URL = setting("CITYDATA_REDIS_URL")
CALL_LOG_DAYS = setting("CITYDATA_CALL_LOG_DAYS")
SQL_TIME_LIMIT_MS = setting("CITYDATA_SQL_TIME_LIMIT_MS")
SQL_MAX_ROWS = setting("CITYDATA_SQL_MAX_ROWS")
SSE_MAX_SECONDS = setting("CITYDATA_SSE_MAX_SECONDS")
STREAM_HISTORY_DAYS = setting("CITYDATA_STREAM_HISTORY_DAYS")
STREAM_COMPACT_MINUTES = setting("CITYDATA_STREAM_COMPACT_MINUTES")
if RATE_LIMIT_BACKEND not in ("database", "redis"):
    raise ImproperlyConfigured(f"CITYDATA_RATE_LIMIT_BACKEND must be database or redis, got {RATE_LIMIT_BACKEND!r}")
OPEN_TYPE_LABELS = dict(
    (key.strip(), label.strip())
    for key, _, label in (pair.partition("=") for pair in setting("CITYDATA_OPEN_TYPE_LABELS"))
)
if set(OPEN_TYPE_LABELS) - {"open", "conditional", "closed", "pending"} or not all(OPEN_TYPE_LABELS.values()):
    raise ImproperlyConfigured(
        "CITYDATA_OPEN_TYPE_LABELS takes type=label pairs with types open, conditional, closed or pending, "
        f"got {setting('CITYDATA_OPEN_TYPE_LABELS')!r}"
    )
PLATFORM_NAME = setting("CITYDATA_PLATFORM_NAME")
PLATFORM_NAME_EN = setting("CITYDATA_PLATFORM_NAME_EN")
PLATFORM_ORGANISER = setting("CITYDATA_ORGANISER")
PLATFORM_ORGANISER_EN = setting("CITYDATA_ORGANISER_EN")
PLATFORM_SITE_CODE = setting("CITYDATA_SITE_CODE")
PLATFORM_ICP = setting("CITYDATA_ICP")
PLATFORM_PSB = setting("CITYDATA_PSB")
PUBLIC_URL = setting("CITYDATA_PUBLIC_URL").rstrip("/")
if PUBLIC_URL and not PUBLIC_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"CITYDATA_PUBLIC_URL must start with https:// or http://, got {PUBLIC_URL!r}")

vars().update(environ.Env.email_url_config(setting("CITYDATA_EMAIL_URL")))
DEFAULT_FROM_EMAIL = setting("CITYDATA_DEFAULT_FROM_EMAIL")

# Security headers. CSP is set by citydata.security.middleware.SecurityHeadersMiddleware.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if setting("CITYDATA_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

_task_backend = setting("CITYDATA_TASK_BACKEND")
if _task_backend == "rq":
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": setting("CITYDATA_REDIS_URL")}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif _task_backend == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured(f"CITYDATA_TASK_BACKEND must be database or rq, got {_task_backend!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "citydata": {"handlers": ["console"], "level": setting("CITYDATA_LOG_LEVEL"), "propagate": False},
    },
}
