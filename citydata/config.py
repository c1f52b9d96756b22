"""Every setting CityData reads from the environment, declared once with its default and help text.

`settings.py` reads values only through `setting()`; `docs/configuration.md` documents each entry
and a test fails when one is missing there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: dict[str, Setting] = {}


def declare(name: str, default: Any, help: str, kind: type = str) -> Setting:
    item = Setting(name, default, help, kind)
    SETTINGS[name] = item
    return item


def _cast(item: Setting, raw: str) -> Any:
    if item.kind is bool:
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{item.name} must be true or false, got {raw!r}")
    if item.kind is int:
        return int(raw)
    if item.kind is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def setting(name: str) -> Any:
    """The value of a declared setting: the environment's, or the default."""
    item = SETTINGS[name]
    raw = os.environ.get(name)
    if raw is None:
        return item.default
    return _cast(item, raw)


declare("CITYDATA_DEBUG", False, "Django debug mode. Never on in production: it shows stack traces.", bool)
declare(
    "CITYDATA_SECRET_KEY",
    "",
    "Signing key for sessions and CSRF tokens. When empty, a key is generated once into "
    "CITYDATA_VAR_DIR/secret_key; several app nodes must share one value set here.",
)
declare(
    "CITYDATA_FIELD_KEY",
    "",
    "Key (urlsafe base64, 32 bytes, as made by `citydata genkey`) that encrypts protected personal fields "
    "such as resident IDs. Defaults to a key derived from CITYDATA_SECRET_KEY; set a separate one in production "
    "so rotating the secret key does not lose data.",
)
declare(
    "DATABASE_URL",
    "",
    "Metadata database, e.g. postgres://user@127.0.0.1:5432/citydata. Empty means SQLite at var/citydata.sqlite3.",
)
declare("CITYDATA_VAR_DIR", str(BASE_DIR / "var"), "Folder for the SQLite database, uploads and other local state.")
declare(
    "CITYDATA_ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "[::1]"],
    "Comma-separated host names the site answers to.",
    list,
)
declare(
    "CITYDATA_CSRF_TRUSTED_ORIGINS",
    [],
    "Comma-separated origins (scheme://host) trusted for CSRF behind a proxy.",
    list,
)
declare(
    "CITYDATA_HTTPS",
    False,
    "Set when served over HTTPS (behind a TLS proxy): turns on HSTS, secure cookies and the SSL redirect.",
    bool,
)
declare(
    "CITYDATA_ANNUAL_TARGET", 500, "Datasets the city plans to have opened this year (R1.2), shown as progress.", int
)
declare(
    "CITYDATA_ACCEPT_WORKDAYS",
    5,
    "Working days a department has to accept (受理) a conditional-data application, counted from the day after "
    "submission on the Chinese calendar with holidays and make-up days (R4.3; see docs/workdays.md).",
    int,
)
declare(
    "CITYDATA_GRANT_RATE_PER_MINUTE",
    60,
    "Default calls per minute through a new conditional-data grant's key (operators adjust each grant).",
    int,
)
declare(
    "CITYDATA_GRANT_DAILY_ROWS",
    100_000,
    "Default rows per day a new grant may read through every door together; a call past it gets 429.",
    int,
)
declare(
    "CITYDATA_GRANT_REPORT_EVERY_DAYS",
    90,
    "How often a grant's holder reports on the use of the data (跟踪反馈).",
    int,
)
declare(
    "CITYDATA_GRANT_REPORT_GRACE_DAYS",
    15,
    "Days a usage report may be overdue (with daily reminders) before the grant is suspended.",
    int,
)
declare(
    "CITYDATA_OPEN_TYPE_LABELS",
    [],
    "The city's own words for the open types, as type=label pairs, e.g. "
    "`closed=禁止开放,conditional=受限开放`. Types: open, conditional, closed, pending. Unset types keep "
    "the national wording (无条件开放 / 有条件开放 / 不予开放 / 待分类).",
    list,
)
declare(
    "CITYDATA_STORAGE_URL",
    "",
    "Where data files live (uploads being ingested, the Parquet file of every data version): a folder, "
    "or S3-compatible object storage as `s3://BUCKET/PREFIX?endpoint=https://HOST&region=REGION` "
    "(MinIO, Ceph, Alibaba OSS, Huawei OBS, Tencent COS, AWS; needs `pip install citydata[s3]`; "
    "credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). Empty means CITYDATA_VAR_DIR/datastore.",
)
declare(
    "CITYDATA_STORAGE_CACHE_MB",
    4096,
    "With object storage: size of the local cache of version files that queries read, in megabytes. "
    "The hourly cleanup removes the least recently used files beyond it.",
    int,
)
declare("CITYDATA_INGEST_MAX_MB", 1024, "Largest file accepted for ingest, in megabytes.", int)
declare("CITYDATA_INGEST_MAX_ROWS", 50_000_000, "Most rows one ingested file may hold.", int)
declare("CITYDATA_INGEST_MAX_COLUMNS", 500, "Most columns one ingested file may hold.", int)
declare(
    "CITYDATA_KEEP_RAW_UPLOADS",
    False,
    "Keep the uploaded source file after a successful ingest, encrypted (AES-256-GCM, key derived from "
    "CITYDATA_FIELD_KEY) and downloadable by operators only, each download audited. Off by default: "
    "the published version is the de-identified data, and raw files may hold personal data.",
    bool,
)
declare(
    "CITYDATA_PSEUDONYM_KEY",
    "",
    "Key of the keyed pseudonyms that masking writes (HMAC-SHA256; each dataset gets its own key derived from "
    "this one, the same for all its versions). Empty means CITYDATA_SECRET_KEY; set a separate value in "
    "production, since changing it changes every pseudonym published afterwards.",
)
declare(
    "CITYDATA_PRIVACY_BLOCKING_TYPES",
    [
        "resident_id",
        "mobile",
        "bank_card",
        "passport",
        "hk_macau_permit",
        "email",
        "person_name",
        "address",
        "vehicle_plate",
    ],
    "Personal-data types (detector codes, comma-separated) whose unmasked presence keeps a new version of an "
    "open or conditional dataset from being published. Other detected types (landline, uscc, coordinates, "
    "ipv4, ipv6) are shown to the provider as warnings.",
    list,
)
declare(
    "CITYDATA_PRIVACY_MIN_K",
    5,
    "Smallest k-anonymity a version with declared quasi-identifiers may have to be published (GB/T 37964).",
    int,
)
declare(
    "CITYDATA_PRIVACY_MIN_L",
    2,
    "Smallest l-diversity (distinct values of the declared sensitive column in every class) for publication.",
    int,
)
declare(
    "CITYDATA_PRIVACY_TASK_WORKDAYS",
    5,
    "Working days a department has to deal with personal data the periodic scan finds in a published version.",
    int,
)
declare("CITYDATA_RECORDS_MAX_PAGE", 1000, "Most records one page of the records API returns.", int)
declare("CITYDATA_RATE_ANON_PER_MINUTE", 120, "Data API calls per minute for one IP address without an API key.", int)
declare("CITYDATA_RATE_KEY_PER_MINUTE", 1200, "Data API calls per minute for one API key.", int)
declare(
    "CITYDATA_RATE_LIMIT_BACKEND",
    "database",
    "Where the data API's call counters live: database (default) or redis (CITYDATA_REDIS_URL), for several "
    "app nodes under heavy load.",
)
declare("CITYDATA_CALL_LOG_DAYS", 190, "Days data API call logs are kept (at least six months, R8.2).", int)
declare("CITYDATA_SQL_TIME_LIMIT_MS", 5000, "Time limit of one read-only SQL query, in milliseconds.", int)
declare("CITYDATA_SQL_MAX_ROWS", 10000, "Most rows one read-only SQL query returns.", int)
declare(
    "CITYDATA_SSE_MAX_SECONDS",
    55,
    "How long one live feed connection stays open; browsers reconnect and continue from their last event.",
    int,
)
declare(
    "CITYDATA_STREAM_HISTORY_DAYS",
    7,
    "Days pushed real-time records are kept as history, in the database and in the compacted data versions.",
    int,
)
declare(
    "CITYDATA_STREAM_COMPACT_MINUTES",
    60,
    "Pushed real-time records stay in the database (live feed, `/history?since=`) this many minutes; the "
    "hourly compaction then appends them to the dataset's data as a new published Parquet version.",
    int,
)
declare("CITYDATA_PLATFORM_NAME", "绵阳市公共数据开放平台", "The platform's name, shown in the header and titles.")
declare("CITYDATA_PLATFORM_NAME_EN", "Mianyang Public Data Open Platform", "The platform's name in English.")
declare("CITYDATA_ORGANISER", "绵阳市政务服务监督管理局", "The site's organiser (主办单位), shown in the footer.")
declare("CITYDATA_ORGANISER_EN", "Mianyang Government Service Supervision Administration", "The organiser in English.")
declare("CITYDATA_SITE_CODE", "", "Government website identifier code (网站标识码), shown in the footer when set.")
declare("CITYDATA_ICP", "", "ICP filing number (ICP备案号), shown in the footer when set.")
declare("CITYDATA_PSB", "", "Public-security filing number (公安备案号), shown in the footer when set.")
declare(
    "CITYDATA_PUBLIC_URL",
    "",
    "The platform's public address as search engines should see it (scheme://host, e.g. "
    "https://data.example.gov.cn), used in canonical links, Open Graph tags, JSON-LD, sitemap.xml and robots.txt. "
    "Empty means the address each request came to.",
)
declare(
    "CITYDATA_EMAIL_URL",
    "consolemail://",
    "Outgoing mail, as a URL: consolemail:// prints to the console; smtp://user:pass@host:587 or "
    "smtp+tls://… sends for real.",
)
declare("CITYDATA_DEFAULT_FROM_EMAIL", "noreply@citydata.local", "Sender address of the platform's e-mail.")
declare(
    "CITYDATA_SMS_BACKEND",
    "console",
    "Where SMS verification codes go: console (printed to the log) or locmem (kept in memory, for tests). "
    "A real gateway plugs in as a dotted path to a send(mobile, text) function.",
)
declare("CITYDATA_LOGIN_MAX_FAILURES", 5, "Wrong passwords in a row that lock an account.", int)
declare("CITYDATA_LOGIN_IP_MAX_FAILURES", 20, "Failed logins from one IP address that lock out that address.", int)
declare("CITYDATA_LOGIN_LOCK_MINUTES", 15, "How long a locked account or IP address stays locked.", int)
declare("CITYDATA_CODE_TTL_MINUTES", 10, "How long a verification code stays valid.", int)
declare(
    "CITYDATA_CODE_IP_HOURLY_LIMIT",
    20,
    "Verification codes one IP address may request per hour (against SMS pumping); 0 turns the cap off.",
    int,
)
declare("CITYDATA_CODE_RESEND_SECONDS", 60, "Minimum wait between two verification codes to the same address.", int)
declare(
    "CITYDATA_TASK_BACKEND",
    "database",
    "Background task queue: database (default, no extra service) or rq (Redis, needs CITYDATA_REDIS_URL).",
)
declare("CITYDATA_REDIS_URL", "redis://127.0.0.1:6379/0", "Redis server for the rq task backend.")
declare(
    "CITYDATA_TRUSTED_PROXIES",
    0,
    "Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted for client IPs.",
    int,
)
declare("CITYDATA_LOG_LEVEL", "INFO", "Log level of the platform's own loggers.")
