"""The publication gate end to end: a health table with personal data is stopped, the suggested plan masks it, and
no raw identifier reaches any export or API answer; operators override only with a reason; the k threshold."""

from __future__ import annotations

import io
import json

import duckdb
import pytest

from citydata.catalog import services as catalog_services
from citydata.catalog.models import DatasetField, Domain
from citydata.datastore import services as datastore
from citydata.datastore.models import DataVersion
from citydata.privacy import masking
from citydata.privacy.models import MaskingPlan, VersionPrivacy
from citydata.privacy.tests.conftest import resident_id
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "欧阳娜娜", "司马相如"]
ROADS = ["临园路", "长虹大道", "剑南路", "涪城路", "花园路"]
DIAGNOSES = ["高血压", "糖尿病", "冠心病"]


def health_rows(n: int = 36) -> tuple[str, set[str]]:
    """A health table of `n` patients and the raw identifiers it holds."""
    raw: set[str] = set()
    lines = ["姓名,性别,年龄,身份证号,联系电话,家庭住址,就诊日期,诊断,备注"]
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        # a valid 1990-born Mianyang (Fucheng, 510703) ID, its check character computed
        rid = resident_id(f"51070319900{(i % 9) + 1:01d}{(i % 28) + 1:02d}{100 + i:03d}"[:17])
        phone = f"138{10000000 + i * 7919:08d}"
        address = f"四川省绵阳市涪城区{ROADS[i % len(ROADS)]}{i + 1}号{i % 5 + 1}栋{i % 3 + 1}单元{100 + i}室"
        remark = f"家属电话139{20000000 + i * 31:08d}" if i % 3 == 0 else "复诊"
        if i % 3 == 0:
            raw.add(f"139{20000000 + i * 31:08d}")
        raw.update({rid, phone, address, name})
        lines.append(
            f"{name},{'男' if i % 2 else '女'},{30 + i % 40},{rid},{phone},{address},2026-0{1 + i % 9}-1{i % 10},"
            f"{DIAGNOSES[i % 3]},{remark}"
        )
    return "\n".join(lines) + "\n", raw


@pytest.fixture
def health(department):
    dataset = catalog_services.dataset_create(
        by=None,
        department=department("WJW"),
        slug="clinic-visits",
        data={
            "title": "绵阳市门诊就诊记录",
            "description": "全市门诊就诊记录，按月更新，用于公共卫生研究。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get_or_create(code="health", defaults={"name": "医疗卫生", "is_priority": True})[0]],
    )
    assert dataset.open_type == "open"
    return dataset


def upload(dataset, content: str, name: str = "visits.csv") -> DataVersion:
    return datastore.version_upload(
        by=None, dataset=dataset, stream=io.BytesIO(content.encode()), filename=name, run_now=True
    )


def login(client, user):
    client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    return client


def _bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _leaks(text: str, raw: set[str]) -> list[str]:
    return sorted(value for value in raw if value in text)


def test_health_table_is_blocked_until_masked_and_no_export_holds_a_raw_identifier(
    client, health, user_with_role, mianyang_id, django_capture_on_commit_callbacks
):
    provider = user_with_role("provider", "WJW")
    content, raw = health_rows()
    content += (
        f"王建国,男,36,{mianyang_id},13900001111,四川省绵阳市涪城区临园路9号1栋1单元101室,2026-02-01,高血压,复诊\n"
    )
    raw.update({mianyang_id, "13900001111", "王建国"})
    version = upload(health, content)
    assert version.status == "ready", version.error

    # the Mianyang ID born in 1990 is found as a resident ID, and the gate lists it masked
    privacy = VersionPrivacy.objects.get(version=version)
    blocking = {(f["column"], f["type"]) for f in privacy.blocking}
    assert {
        ("身份证号", "resident_id"),
        ("姓名", "person_name"),
        ("联系电话", "mobile"),
        ("家庭住址", "address"),
    } <= blocking
    assert ("备注", "mobile") in blocking  # a phone number inside free text
    assert not _leaks(json.dumps(privacy.report, ensure_ascii=False), raw)

    # publishing is refused, through the service, the API and the page
    with pytest.raises(datastore.DomainError) as caught:
        datastore.version_publish(by=provider, version=version)
    assert caught.value.code == "privacy_blocked" and "身份证号" in str(caught.value.message)
    login(client, provider)
    answer = client.post(f"/api/v1/datasets/{health.slug}/versions/1/publish")
    assert answer.status_code == 409 and answer.json()["code"] == "privacy_blocked"
    page = client.get(f"/manage/datasets/{health.slug}/data/v1/privacy/")
    text = page.content.decode()
    assert page.status_code == 200 and "一键执行建议方案" in text and "510703********" in text
    assert not _leaks(text, raw)
    gate = client.get(f"/api/v1/datasets/{health.slug}/versions/1/privacy").json()
    assert gate["blocked"] and not _leaks(json.dumps(gate, ensure_ascii=False), raw)
    assert {s["column"]: s["strategy"] for s in gate["suggested"]} == {
        "姓名": "partial",
        "身份证号": "pseudonym",
        "联系电话": "partial",
        "家庭住址": "generalise",
        "备注": "redact",
    }
    assert not DataVersion.objects.get(pk=version.pk).is_current

    # one click applies the suggested plan; the version is scanned again and may go out
    old_key = DataVersion.objects.get(pk=version.pk).data_key
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/datasets/{health.slug}/data/v1/privacy/mask/", {"suggested": "1"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.data_key != old_key
    from citydata.datastore.storage import get_storage

    folder = get_storage().local_path(version.data_key).parent
    assert not (folder / old_key.split("/")[-1]).exists()
    # the serving copy of the unmasked file goes with it; the masked file gets its own, which answers the API
    assert not (folder / old_key.split("/")[-1].replace(".parquet", ".duckdb")).exists()
    assert version.layout == {"file": version.data_key, "native": version.data_key.replace(".parquet", ".duckdb")}
    privacy.refresh_from_db()
    assert privacy.blocking == [] and {s["column"] for s in privacy.plan} >= {"姓名", "身份证号", "备注"}
    assert client.post(f"/api/v1/datasets/{health.slug}/versions/1/publish").status_code == 200
    assert AuditEvent.objects.filter(action="privacy.version_mask").exists()

    # the plan is remembered: the next upload is masked in ingest, before anything is stored
    assert MaskingPlan.objects.filter(dataset=health).exists()

    # publish the dataset and read every export anonymously
    DatasetField.objects.filter(dataset=health).update(description="说明")
    catalog_services.dataset_publish(by=None, dataset=health)
    client.logout()
    base = f"/api/v1/datasets/{health.slug}/records"
    outputs = {
        "json": client.get(base, {"_size": "1000"}).content.decode(),
        "csv": _bytes(client.get(base, {"_format": "csv"})).decode("utf-8-sig"),
    }
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_bytes(client.get(base, {"_format": "xlsx"}))))
    outputs["xlsx"] = "\n".join(
        ",".join("" if v is None else str(v) for v in row) for row in book.active.iter_rows(values_only=True)
    )
    parquet = _bytes(client.get(base, {"_format": "parquet"}))
    path = get_storage().local_path(version.data_key).parent / "export-check.parquet"
    path.write_bytes(parquet)
    rows = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')").fetchall()  # noqa: S608
    outputs["parquet"] = "\n".join(",".join(str(v) for v in row) for row in rows)
    outputs["data_page"] = client.get(f"/datasets/{health.slug}/data/").content.decode()
    for fmt, text in outputs.items():
        assert len(text) > 200, fmt
        assert not _leaks(text, raw), (fmt, _leaks(text, raw)[:3])
    # the pseudonym is keyed and the same for the same person; 张* and 138****… are what readers see
    assert masking.pseudonym(mianyang_id, masking.dataset_key(health.pk)) in outputs["csv"]
    assert "张*" in outputs["csv"] and "138****" in outputs["csv"] and "四川省绵阳市涪城区" in outputs["csv"]

    # the scanner itself finds nothing in the exports
    from citydata.privacy import scan

    csv_path = path.with_name("export.csv")
    csv_path.write_text(outputs["csv"], encoding="utf-8")
    found = scan.scan_table(str(csv_path))
    personal = [t.type for c in found.columns for t in c.types + c.text_types]
    assert not set(personal) & {"resident_id", "mobile", "person_name", "address"}, personal


def test_next_upload_is_masked_in_ingest_and_never_stored_raw(health, user_with_role):
    provider = user_with_role("provider", "WJW")
    content, raw = health_rows(12)
    first = upload(health, content)
    from citydata.privacy import services

    services.version_mask_suggested(by=provider, version=first)
    again, raw_again = health_rows(15)
    second = upload(health, again)
    privacy = VersionPrivacy.objects.get(version=second)
    assert privacy.blocking == [] and all(s["source"] == "standing" for s in privacy.plan)
    from citydata.datastore.storage import get_storage

    stored = get_storage().local_path(second.data_key)
    text = "\n".join(
        ",".join(str(v) for v in row)
        for row in duckdb.connect().execute(f"SELECT * FROM '{stored}'").fetchall()  # noqa: S608
    )
    assert not _leaks(text, raw_again)
    datastore.version_publish(by=provider, version=second)


def test_classification_rules_mask_fields_in_ingest(health, department):
    catalog_services.classification_rules_publish(
        by=None,
        department=department("WJW"),
        rules=[
            {"field_category": "个人身份信息", "allowed_open_type": "open", "masking": "suppress"},
            {"field_category": "联系方式", "allowed_open_type": "open", "masking": "partial"},
        ],
    )
    DatasetField.objects.create(dataset=health, position=0, name="身份证号", title="身份证号", category="个人身份信息")
    DatasetField.objects.create(dataset=health, position=1, name="联系电话", title="联系电话", category="联系方式")
    content, _raw = health_rows(10)
    version = upload(health, content)
    assert "身份证号" not in version.column_names
    plan = VersionPrivacy.objects.get(version=version).plan
    assert {(s["column"], s["strategy"], s["source"]) for s in plan} >= {
        ("身份证号", "suppress", "rule"),
        ("联系电话", "partial", "rule"),
    }
    assert not any(f["column"] == "联系电话" for f in VersionPrivacy.objects.get(version=version).blocking)


def test_only_operators_override_and_only_with_a_reason(client, health, user_with_role):
    content, raw = health_rows(10)
    version = upload(health, content)
    provider = user_with_role("provider", "WJW")
    login(client, provider)
    refused = client.post(
        f"/api/v1/datasets/{health.slug}/versions/1/privacy/override",
        {"reason": "这些都是测试数据，没有真实个人信息。"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    operator = user_with_role("operator")
    login(client, operator)
    short = client.post(f"/manage/datasets/{health.slug}/data/v1/privacy/override/", {"reason": "测试"})
    assert short.status_code == 400
    ok = client.post(
        f"/manage/datasets/{health.slug}/data/v1/privacy/override/",
        {"reason": "这些都是合成的演示数据，没有真实个人信息。"},
    )
    assert ok.status_code == 302
    event = AuditEvent.objects.filter(action="privacy.override").get()
    assert "合成的演示数据" in event.note and event.actor_id == operator.pk
    datastore.version_publish(by=provider, version=version)
    assert DataVersion.objects.get(pk=version.pk).is_current


def test_other_departments_cannot_see_or_mask_a_version(client, health, user_with_role):
    upload(health, health_rows(6)[0])
    login(client, user_with_role("provider", "JTJ"))
    assert client.get(f"/manage/datasets/{health.slug}/data/v1/privacy/").status_code == 403
    answer = client.post(
        f"/api/v1/datasets/{health.slug}/versions/1/privacy/mask", {"suggested": True}, content_type="application/json"
    )
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


def test_unpublished_versions_are_not_readable_by_the_public(client, health):
    upload(health, "区县,人数\n涪城区,5\n游仙区,6\n")
    first = DataVersion.objects.get(dataset=health, number=1)
    datastore.version_publish(by=None, version=first)
    DatasetField.objects.filter(dataset=health).update(description="说明")
    catalog_services.dataset_publish(by=None, dataset=health)
    upload(health, health_rows(6)[0])  # v2: blocked, never published
    assert client.get(f"/api/v1/datasets/{health.slug}/records", {"_version": "1"}).status_code == 200
    assert client.get(f"/api/v1/datasets/{health.slug}/records", {"_version": "2"}).status_code == 404


def test_closed_datasets_are_not_gated(health, user_with_role):
    type(health).objects.filter(pk=health.pk).update(open_type="closed")
    health.refresh_from_db()
    version = upload(health, health_rows(6)[0])
    datastore.version_publish(by=user_with_role("provider", "WJW"), version=version)


# --- the gate at the command line: `citydata ingest FILE --dataset SLUG --publish` ---------------------------------


def test_cli_publish_of_personal_data_is_refused_and_the_version_stays_a_draft(health, tmp_path):
    from django.core.management import CommandError, call_command

    content, raw = health_rows(12)
    source = tmp_path / "visits.csv"
    source.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("ingest", str(source), dataset=health.slug, publish=True, verbosity=0)
    message = str(caught.value)
    assert "第 1 版未发布" in message and "保留为未发布的草稿" in message
    assert "  - 身份证号：居民身份证号" in message and "备注：手机号码（文本中）" in message
    assert f"/manage/datasets/{health.slug}/data/v1/privacy/" in message and "--override-reason" in message
    assert not _leaks(message, raw)
    version = DataVersion.objects.get(dataset=health)
    assert version.status == "ready" and not version.is_current
    assert not AuditEvent.objects.filter(action__in=["privacy.gate_skipped", "data_version.publish"]).exists()
    health.refresh_from_db()
    assert health.status == "draft"


def test_cli_publishes_personal_data_only_with_a_written_reason_audited_like_the_web_override(health, tmp_path):
    from django.core.management import CommandError, call_command

    source = tmp_path / "visits.csv"
    source.write_text(health_rows(12)[0], encoding="utf-8")
    with pytest.raises(CommandError, match="至少 10 个字"):
        call_command("ingest", str(source), dataset=health.slug, publish=True, override_reason="测试", verbosity=0)
    with pytest.raises(CommandError, match="只能与 --publish"):
        call_command(
            "ingest", str(source), dataset=health.slug, override_reason="数据已在源头脱敏，经科室确认", verbosity=0
        )
    assert not DataVersion.objects.filter(dataset=health).exists()  # refused before anything was ingested

    reason = "数据已在源头脱敏，所列值为测试样例，经科室确认"
    call_command("ingest", str(source), dataset=health.slug, publish=True, override_reason=reason, verbosity=0)
    version = DataVersion.objects.get(dataset=health)
    assert version.is_current
    privacy = VersionPrivacy.objects.get(version=version)
    assert privacy.overridden and privacy.override_reason == reason and privacy.override_by is None
    event = AuditEvent.objects.get(action="privacy.override")
    assert event.note == reason and event.changes["via"] == "command line" and event.actor is None
    assert "身份证号:resident_id" in event.changes["blocking"]
    assert AuditEvent.objects.filter(action="privacy.published_with_override").exists()
    assert not AuditEvent.objects.filter(action="privacy.gate_skipped").exists()


def test_cli_publishes_clean_data_without_a_reason_and_records_no_override(health, tmp_path, capsys):
    from django.core.management import call_command

    source = tmp_path / "counts.csv"
    source.write_text("区县,人数\n涪城区,5\n游仙区,6\n", encoding="utf-8")
    call_command("ingest", str(source), dataset=health.slug, publish=True, override_reason="无需放行，仅为测试参数")
    assert "已成为当前版本" in capsys.readouterr().out
    assert DataVersion.objects.get(dataset=health).is_current
    assert not AuditEvent.objects.filter(action__startswith="privacy.").exclude(action="privacy.scan").exists()


def test_platform_code_that_answers_for_its_data_still_skips_the_gate_and_is_audited(health):
    version = upload(health, health_rows(6)[0])
    with pytest.raises(datastore.DomainError):
        datastore.version_publish(by=None, version=version, enforce_privacy_gate=True)  # what the CLI asks for
    datastore.version_publish(by=None, version=version)  # the demo, stream compaction
    assert DataVersion.objects.get(pk=version.pk).is_current
    event = AuditEvent.objects.get(action="privacy.gate_skipped")
    assert "身份证号:resident_id" in event.changes["blocking"]
