"""The operators' view of the data-API call logs (R8.2): access, filters, summary, paging and CSV export."""

import csv
import datetime as dt
import io
from collections import Counter
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citydata.accounts import services as account_services
from citydata.datastore.models import ApiCall
from citydata.datastore.tests import conftest as datastore_fixtures
from citydata.security import queries
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

# The records API's fixtures, for the test that goes through the real API.
_work_in_tmp = datastore_fixtures._work_in_tmp
dataset = datastore_fixtures.dataset
upload = datastore_fixtures.upload
published = datastore_fixtures.published

PAGE = "/security/api-calls/"
EXPORT = "/security/api-calls/export.csv"
FIRST_DAY = dt.date(2025, 3, 1)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), timezone.get_current_timezone())


def local_day(call: ApiCall) -> dt.date:
    return timezone.localtime(call.created_at).date()


@pytest.fixture
def people(make_user):
    alice = make_user(email="alice@example.cn")
    bob = make_user(mobile="13912345678")
    carol = make_user(email="carol@example.cn")
    key_a, secret_a = account_services.apikey_create(by=alice, name="研究项目")
    key_b, secret_b = account_services.apikey_create(by=bob, name='=HYPERLINK("http://x")')
    return SimpleNamespace(alice=alice, bob=bob, carol=carol, key_a=key_a, key_b=key_b, secrets=[secret_a, secret_b])


@pytest.fixture
def calls(people):
    """42 calls over 12 days in March 2025 by four kinds of caller, with every status class."""
    made = []
    for i in range(42):
        kind = i % 4
        user = [people.alice, people.bob, people.carol, None][kind]
        key = [people.key_a, people.key_b, None, None][kind]
        ip = ["10.0.0.1", "2001:db8::7"][i // 4 % 2] if kind == 3 else f"192.168.1.{i % 3}"
        status = [200, 200, 200, 400, 404, 429, 500][i % 7]
        made.append(
            ApiCall.objects.create(
                created_at=at(FIRST_DAY + dt.timedelta(days=i % 12), (i * 5) % 24),
                user=user,
                api_key=key,
                ip=ip,
                dataset=["bus", "air", "water"][i % 3],
                version=1,
                params={"q": "=1+1"} if i == 5 else {"limit": str(i)},
                format="csv" if i % 5 == 0 else "json",
                rows=i * 3 if status == 200 else 0,
                bytes=i * 100 + 7,
                status=status,
                latency_ms=(i * 37) % 250,
            )
        )
    return made


def _ids(response) -> list[int]:
    return [call.pk for call in response.context["calls"]]


def _caller_of(call: ApiCall) -> tuple:
    if call.api_key_id:
        return ("key", call.api_key_id)
    if call.user_id:
        return ("user", call.user_id)
    return ("ip", call.ip)


def _nearest_rank(values: list[int], percent: int) -> int:
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)
    return ordered[rank - 1]


# --- access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_the_public_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("role", "dept"), [("registered", None), ("provider", "JTJ")])
@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_only_operators_and_auditors_get_in(client_for, calls, role, dept, url):
    response = client_for(role, dept).get(url)
    assert response.status_code == 403
    assert "10.0.0.1" not in response.content.decode()


def test_the_operator_watches_the_calls_from_the_console(client_for, calls):
    client = client_for("operator")
    assert reverse("security:api_calls") in client.get("/console/").content.decode()
    assert client.get(PAGE).status_code == 200 and client.get(EXPORT).status_code == 200


def test_the_auditor_sees_the_calls_and_the_visit_is_audited(client_for, calls, people):
    client = client_for("auditor")
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "接口调用记录" in page and "10.0.0.1" in page and "2001:db8::7" in page
    assert people.key_a.prefix in page and "研究项目" in page
    assert not any(secret in page for secret in people.secrets)
    assert 'class="table-wrap"' in page and "<script" not in page.split("<main")[1]
    assert AuditEvent.objects.filter(action="apicall.view", actor=client.user).exists()


def test_the_audit_page_links_to_the_call_logs(client_for):
    assert f'href="{PAGE}"' in client_for("auditor").get("/security/audit/").content.decode()


# --- filters ------------------------------------------------------------------------------------------------

FILTERS = {
    "dataset": (lambda p: {"dataset": "bus"}, lambda p, c: c.dataset == "bus"),
    "caller_email": (lambda p: {"caller": "ALICE@example.cn"}, lambda p, c: c.user_id == p.alice.pk),
    "caller_mobile": (lambda p: {"caller": "13912345678"}, lambda p, c: c.user_id == p.bob.pk),
    "caller_prefix": (lambda p: {"caller": p.key_a.prefix}, lambda p, c: c.api_key_id == p.key_a.pk),
    "caller_prefix_with_cd": (lambda p: {"caller": f"cd_{p.key_b.prefix}"}, lambda p, c: c.api_key_id == p.key_b.pk),
    "ipv4": (lambda p: {"ip": "10.0.0.1"}, lambda p, c: c.ip == "10.0.0.1"),
    "ipv6_written_long": (lambda p: {"ip": "2001:DB8:0:0::7"}, lambda p, c: c.ip == "2001:db8::7"),
    "status_4xx": (lambda p: {"status": "4xx"}, lambda p, c: 400 <= c.status < 500),
    "status_5XX": (lambda p: {"status": "5XX"}, lambda p, c: c.status >= 500),
    "status_exact": (lambda p: {"status": "404"}, lambda p, c: c.status == 404),
    "date_range": (
        lambda p: {"date_from": "2025-03-03", "date_to": "2025-03-05"},
        lambda p, c: dt.date(2025, 3, 3) <= local_day(c) <= dt.date(2025, 3, 5),
    ),
    "combined": (
        lambda p: {"dataset": "air", "status": "2xx", "date_from": "2025-03-02"},
        lambda p, c: c.dataset == "air" and c.status < 300 and local_day(c) >= FIRST_DAY.replace(day=2),
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_narrows_the_list(client_for, calls, people, name):
    query, keep = FILTERS[name]
    expected = sorted((c.pk for c in calls if keep(people, c)), reverse=True)
    assert 0 < len(expected) < len(calls)
    response = client_for("auditor").get(PAGE, {**query(people), "limit": 100})
    assert response.status_code == 200
    assert _ids(response) == expected  # newest first
    assert response.context["summary"].calls == len(expected)


# --- summary ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"dataset": "bus"}, {"status": "2xx"}, {"caller": "carol@example.cn"}])
def test_summary_equals_what_the_rows_add_up_to(client_for, calls, query):
    client = client_for("auditor")
    response = client.get(PAGE, query)
    listed = set(_ids(client.get(PAGE, {**query, "limit": 100})))
    chosen = [c for c in calls if c.pk in listed]
    assert chosen
    summary = response.context["summary"]
    latencies = [c.latency_ms for c in chosen]
    errors = sum(1 for c in chosen if c.status >= 400)
    assert summary.calls == len(chosen)
    assert summary.callers == len({_caller_of(c) for c in chosen})
    assert summary.rows == sum(c.rows for c in chosen) and summary.bytes == sum(c.bytes for c in chosen)
    assert summary.errors == errors and summary.error_percent == round(100 * errors / len(chosen), 1)
    assert summary.avg_latency_ms == round(sum(latencies) / len(latencies), 1)
    assert summary.p50_latency_ms == _nearest_rank(latencies, 50)
    assert summary.p95_latency_ms == _nearest_rank(latencies, 95)

    by_dataset = Counter(c.dataset for c in chosen)
    assert [(d.dataset, d.calls) for d, _href in response.context["datasets"]] == sorted(
        by_dataset.items(), key=lambda item: (-item[1], item[0])
    )
    by_caller = Counter(_caller_of(c) for c in chosen)
    top = response.context["callers"]
    assert sorted(c.calls for c, _href in top) == sorted(by_caller.values())
    assert sum(c.rows for c, _href in top) == summary.rows


def test_top_callers_name_the_key_user_or_address(client_for, calls, people):
    response = client_for("auditor").get(PAGE)
    top = {(c.kind, c.key_prefix or c.user_label or c.ip): c for c, _href in response.context["callers"]}
    assert top[("key", people.key_a.prefix)].user_label == "alice@example.cn"
    assert top[("user", "carol@example.cn")].calls == sum(1 for c in calls if c.user_id == people.carol.pk)
    assert ("ip", "10.0.0.1") in top and ("ip", "2001:db8::7") in top
    links = dict((c.key_prefix or c.ip, href) for c, href in response.context["callers"] if href)
    assert _ids(client_for("auditor").get(PAGE + links[people.key_a.prefix])) == sorted(
        (c.pk for c in calls if c.api_key_id == people.key_a.pk), reverse=True
    )


def test_an_empty_selection_has_no_averages(client_for, calls):
    response = client_for("auditor").get(PAGE, {"dataset": "nothing"})
    summary = response.context["summary"]
    assert (summary.calls, summary.callers, summary.rows, summary.error_percent) == (0, 0, 0, None)
    assert summary.p50_latency_ms is None and summary.avg_latency_ms is None
    assert "没有符合条件的记录" in response.content.decode()


def test_percentiles_are_skipped_over_the_cap(client_for, calls, monkeypatch):
    monkeypatch.setattr(queries, "PERCENTILE_MAX_ROWS", 10)
    response = client_for("auditor").get(PAGE)
    assert response.context["summary"].p95_latency_ms is None and response.context["summary"].avg_latency_ms
    assert "不计算分位数" in response.content.decode()


def test_calls_per_day_cover_the_last_30_days_of_the_range(client_for, calls):
    client = client_for("auditor")
    days = client.get(PAGE, {"date_to": "2025-03-20"}).context["days"]
    assert len(days) == 30 and days[0].day == dt.date(2025, 2, 19) and days[-1].day == dt.date(2025, 3, 20)
    per_day = Counter(local_day(c) for c in calls)
    assert {d.day: d.calls for d in days if d.calls} == dict(per_day)
    errors = Counter(local_day(c) for c in calls if c.status >= 400)
    assert {d.day: d.errors for d in days if d.errors} == dict(errors)

    short = client.get(PAGE, {"date_from": "2025-03-05", "date_to": "2025-03-08", "status": "2xx"}).context["days"]
    assert [d.day.day for d in short] == [5, 6, 7, 8]
    assert [d.calls for d in short] == [
        sum(1 for c in calls if local_day(c).day == n and c.status < 300) for n in (5, 6, 7, 8)
    ]


def test_calls_per_day_end_today_without_a_range(client_for, calls):
    ApiCall.objects.create(dataset="bus", status=200, ip="10.1.1.1")
    days = client_for("auditor").get(PAGE).context["days"]
    assert len(days) == 30 and days[-1].day == timezone.localdate() and days[-1].calls == 1


# --- paging -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"status": "2xx"}])
def test_paging_returns_every_row_exactly_once(client_for, calls, query):
    client = client_for("auditor")
    response = client.get(PAGE, {**query, "limit": 7})
    seen = _ids(response)
    pages = 1
    while response.context["next_url"]:
        response = client.get(PAGE + response.context["next_url"])
        assert response.status_code == 200 and len(response.context["calls"]) <= 7
        assert response.context["first_url"]
        seen += _ids(response)
        pages += 1
    expected = sorted((c.pk for c in calls if not query or c.status < 300), reverse=True)
    assert seen == expected and pages == -(-len(expected) // 7)


def test_the_page_costs_the_same_queries_however_many_callers(client_for, calls, make_user):
    client = client_for("auditor")
    client.get(PAGE)  # warm the session and role caches
    with CaptureQueriesContext(connection) as before:
        client.get(PAGE)
    for i in range(15):
        user = make_user()
        key, _secret = account_services.apikey_create(by=user, name=f"k{i}")
        ApiCall.objects.create(dataset=f"ds{i}", user=user, api_key=key, ip=f"10.2.0.{i}", status=200)
        ApiCall.objects.create(dataset="bus", user=user, ip=f"10.3.0.{i}", status=200)
        ApiCall.objects.create(dataset="bus", ip=f"10.4.0.{i}", status=500)
    with CaptureQueriesContext(connection) as after:
        response = client.get(PAGE)
    assert len(response.context["callers"]) == 10 and len(response.context["datasets"]) == 10
    assert len(after) == len(before)


# --- bad filters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("dataset=bus%2F..%2Fetc", "数据集标识"),
        ("dataset=a%01b", "数据集标识"),
        ("caller=someone%40", "调用方"),
        ("caller=ab", "调用方"),
        ("caller=cd_1a2b3c4d_secretpart", "调用方"),
        ("ip=999.1.1.1", "IP 地址格式不正确"),
        ("ip=10.0.0.0%2F8", "IP 地址格式不正确"),
        ("status=2x", "状态码"),
        ("status=600", "状态码"),
        ("status=%EF%BC%92xx", "状态码"),  # a full-width digit
        ("date_from=2025-02-30", "开始日期"),
        ("date_to=tomorrow", "结束日期"),
        ("date_to=9999-12-31", "结束日期"),
        ("date_from=2025-03-05&date_to=2025-03-01", "结束日期不能早于开始日期"),
        ("cursor=%21%21%21", "分页游标"),
        ("limit=1000", "每页条数"),
    ],
)
def test_bad_filters_are_a_400_that_names_the_field(client_for, calls, query, message):
    client = client_for("auditor")
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'role="alert"' in page and 'name="dataset"' in page  # the form comes back
    if not query.startswith(("cursor", "limit")):
        assert client.get(f"{EXPORT}?{query}").status_code == 400


def test_a_bad_field_is_marked_invalid_in_the_form(client_for):
    page = client_for("auditor").get(PAGE, {"ip": "nope"}).content.decode()
    assert 'name="ip" value="nope" aria-invalid="true"' in page


# --- CSV export ---------------------------------------------------------------------------------------------


def _csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("query", [{}, {"status": "4xx"}, {"caller": "13912345678", "dataset": "air"}])
def test_csv_has_a_bom_a_header_and_every_filtered_row(client_for, calls, people, query):
    client = client_for("auditor")
    response = client.get(EXPORT, query)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="api-calls-')
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == list(queries.CALL_CSV_COLUMNS)
    listed = _ids(client.get(PAGE, {**query, "limit": 100}))
    assert len(rows) - 1 == client.get(PAGE, query).context["summary"].calls == len(listed)
    assert [int(r[0]) for r in rows[1:]] == listed
    assert not any(secret in raw.decode("utf-8-sig") for secret in people.secrets)
    assert AuditEvent.objects.filter(action="apicall.export", actor=client.user).exists()


def test_csv_cells_cannot_run_as_formulas(client_for, calls, people):
    _raw, rows = _csv(client_for("auditor").get(EXPORT, {"caller": people.key_b.prefix}))
    header = rows[0]
    names = {r[header.index("api_key_name")] for r in rows[1:]}
    assert names == {'\'=HYPERLINK("http://x")'}
    assert {r[header.index("user")] for r in rows[1:]} == {people.bob.login_label}


def test_csv_stops_at_the_cap_with_the_newest_rows(client_for, calls, monkeypatch):
    client = client_for("auditor")
    assert "100000" in client.get(PAGE).content.decode()  # the cap is stated on the page
    monkeypatch.setattr(queries, "CALL_CSV_MAX_ROWS", 5)
    _raw, rows = _csv(client.get(EXPORT))
    assert [int(r[0]) for r in rows[1:]] == sorted((c.pk for c in calls), reverse=True)[:5]


# --- through the real records API ----------------------------------------------------------------------------


def test_calls_made_through_the_records_api_show_up(client, client_for, published, people):
    secret = people.secrets[0]
    assert client.get("/api/v1/datasets/bus/records", REMOTE_ADDR="10.9.9.9").status_code == 200
    with_key = client.get("/api/v1/datasets/bus/records", {"_limit": "5"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert with_key.status_code == 200
    assert client.get("/api/v1/datasets/nothing/records", REMOTE_ADDR="10.9.9.9").status_code == 404
    auditor = client_for("auditor")
    response = auditor.get(PAGE, {"dataset": "bus"})
    summary = response.context["summary"]
    assert summary.calls == 2 and summary.callers == 2 and summary.errors == 0
    assert summary.rows == sum(ApiCall.objects.filter(dataset="bus").values_list("rows", flat=True)) > 0
    by_key = auditor.get(PAGE, {"caller": people.key_a.prefix}).context["calls"]
    assert [c.api_key_id for c in by_key] == [people.key_a.pk]
    assert auditor.get(PAGE, {"ip": "10.9.9.9", "status": "404"}).context["summary"].calls == 1


# --- in a browser ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_page_fits_a_phone_without_script(live_server, browser, client_for, calls, settings):
    client = client_for("auditor")
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = browser.new_context(viewport=viewport, java_script_enabled=False, locale="zh-CN")
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}{PAGE}?date_to=2025-03-20")
        assert page.locator("h1").inner_text() == "接口调用记录"
        assert page.locator("svg.chart rect.bar").count() == 30
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        context.close()
