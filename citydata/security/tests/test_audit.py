import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from citydata.accounts import services
from citydata.security import audit
from citydata.security.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(make_user):
    """A few real audited writes."""
    user = make_user(email="audited@example.cn")
    services.user_update_profile(user=user, by=user, display_name="第一")
    services.user_update_profile(user=user, by=user, display_name="第二")
    services.apikey_create(by=user, name="k")
    return user


def test_events_record_who_what_and_before_after(trail):
    event = AuditEvent.objects.filter(action="user.update_profile").latest("seq")
    assert event.actor_id == trail.pk and event.actor_role == "registered"
    assert event.changes == {"display_name": {"before": "第一", "after": "第二"}}
    assert event.object_type == "accounts.user" and event.object_id == str(trail.pk)


def test_request_context_is_recorded(client, make_user):
    user = make_user()
    client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    client.post(
        "/account/profile/",
        {"display_name": "上下文"},
        headers={"User-Agent": "pytest-agent", "X-Request-ID": "req-12345678"},
    )
    event = AuditEvent.objects.filter(action="user.update_profile").latest("seq")
    assert event.ip == "127.0.0.1" and event.user_agent == "pytest-agent" and event.request_id == "req-12345678"


def test_chain_links_each_record_to_the_previous(trail):
    events = list(AuditEvent.objects.order_by("seq"))
    assert events[0].prev_hash == "0" * 64
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert audit.verify() == (len(events), None)


def test_orm_cannot_change_or_delete_records(trail):
    event = AuditEvent.objects.first()
    event.note = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_verify_names_a_record_altered_in_the_database(trail):
    target = AuditEvent.objects.filter(action="user.update_profile").order_by("seq").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE security_auditevent SET note = %s WHERE seq = %s", ["tampered", target.seq])
    checked, broken = audit.verify()
    assert broken is not None and broken.seq == target.seq and checked == target.seq - 1
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


def test_verify_notices_a_deleted_record(trail):
    middle = AuditEvent.objects.order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM security_auditevent WHERE seq = %s", [middle.seq])
    assert audit.verify()[1].seq == middle.seq


def test_verify_notices_a_removed_tail(trail):
    last = AuditEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM security_auditevent WHERE seq = %s", [last.seq])
    assert audit.verify()[1] is not None


def test_verify_command_reports_an_intact_chain(trail, capsys):
    call_command("audit", "verify")
    assert "审计链完好" in capsys.readouterr().out


def test_a_rolled_back_write_leaves_no_record(make_user):
    user = make_user()
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.user_update_profile(user=user, by=user, display_name="回滚")
        raise RuntimeError
    assert AuditEvent.objects.count() == before
    assert audit.verify()[1] is None


def test_auditor_filters_the_trail(client_for, trail):
    client = client_for("auditor")
    page = client.get("/security/audit/?action=apikey.create").content.decode()
    assert "apikey.create" in page and "user.update_profile" not in page.split("<tbody>")[1]
    assert client.get("/security/audit/?date_from=not-a-date").status_code == 400


def test_auditor_pages_through_the_trail(client_for, trail):
    client = client_for("auditor")
    first = client.get("/security/audit/?limit=2").content.decode()
    assert "下一页" in first


def test_csv_export_is_complete_and_safe(client_for, make_user):
    user = make_user(email="csv@example.cn")
    services.user_update_profile(user=user, by=user, display_name='=HYPERLINK("http://x")')
    client = client_for("auditor")
    response = client.get("/security/audit/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == AuditEvent.objects.count()  # every record, the export's own included
    assert {"user.update_profile", "audit.export"} <= {r["action"] for r in rows}
    cells = [r["actor_label"] for r in rows] + [r["changes"] for r in rows]
    assert not any(cell.startswith("=") for cell in cells)
    assert any("HYPERLINK" in cell for cell in cells)


def test_non_auditors_cannot_export(client_for):
    assert client_for("operator").get("/security/audit/export.csv").status_code == 403


def test_audit_api_is_for_auditors_and_is_itself_audited(client_for):
    assert client_for("provider", "JTJ").get("/api/v1/audit/events").status_code == 403
    client = client_for("auditor")
    response = client.get("/api/v1/audit/events?limit=5")
    assert response.status_code == 200 and len(response.json()["items"]) <= 5
    assert AuditEvent.objects.filter(action="audit.view", actor=client.user).exists()


def test_saving_an_event_with_an_existing_seq_cannot_overwrite_it(trail):
    from django.db import IntegrityError

    original = AuditEvent.objects.order_by("seq").first()
    forged = AuditEvent(seq=original.seq, created_at=original.created_at, action="forged", prev_hash="0", hash="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()
    assert AuditEvent.objects.get(seq=original.seq).action == original.action
    with pytest.raises(AppendOnlyError):
        AuditEvent._base_manager.filter(seq=original.seq).update(action="x")


@pytest.mark.parametrize(
    "query",
    ["date_to=9999-12-31", "date_from=0001-01-01", "date_from=2026-02-30", "ip=zzz", "ip=999.1.1.1", "actor=a%00b"],
)
def test_bad_audit_filters_are_a_400_on_page_and_api(client_for, query):
    client = client_for("auditor")
    assert client.get(f"/security/audit/?{query}").status_code == 400
    api = client.get(f"/api/v1/audit/events?{query}")
    assert api.status_code == 400 and set(api.json()) == {"code", "message", "details"}
    assert client.get(f"/security/audit/export.csv?{query}").status_code == 400


def test_audit_filters_by_ip(client_for, make_user):
    client = client_for("auditor")
    user = make_user()
    client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    client.post("/account/profile/", {"display_name": "来自某IP"}, REMOTE_ADDR="10.20.30.40")
    client.force_login(client.user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    page = client.get("/security/audit/?ip=10.20.30.40").content.decode()
    assert "user.update_profile" in page.split("<tbody>")[1]


def test_actor_is_identified_by_login_not_only_by_nickname(make_user):
    impostor = make_user(email="citizen@example.cn", display_name="王运营")
    services.user_update_profile(user=impostor, by=impostor, display_name="王运营")
    event = AuditEvent.objects.filter(action="user.update_profile").latest("seq")
    assert event.actor_label.startswith("citizen@example.cn") and event.actor_id == impostor.pk
