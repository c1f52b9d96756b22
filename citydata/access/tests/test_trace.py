"""Exports through a grant carry the recipient's watermark: `citydata trace-leak` names who received a
shuffled 10% sample of an export, among every grant on the dataset; open-data exports stay unmarked."""

import csv
import hashlib
import io
import json
import random

from django.core.management import call_command

from citydata.access import services
from citydata.catalog.models import DatasetField
from citydata.datastore import services as data_services

RECORDS = "/api/v1/datasets/power/records"


def _bigger_version(dataset, rows=600):
    DatasetField.objects.filter(dataset=dataset, name="用电量").update(type="decimal")
    lines = ["户号,户名,街道,月份,用电量"] + [
        f"B{i},居民{i},{'涪城' if i % 2 else '游仙'},2026-{1 + i % 12:02d},{100 + i * 1.37:.2f}" for i in range(rows)
    ]
    version = data_services.version_upload(
        by=None, dataset=dataset, stream=io.BytesIO(("\n".join(lines) + "\n").encode()), filename="v2.csv", run_now=True
    )
    data_services.version_publish(by=None, version=version)


def _second_grant(apply, people):
    application = apply(by=people["other"])
    services.application_submit(by=people["other"], application=application, commitment=True)
    services.application_accept(by=people["reviewer"], application=application)
    services.application_evaluate(by=people["reviewer"], application=application)
    services.application_decide(by=people["reviewer"], application=application, approve=True, reason="同意")
    text = services.agreement_text(application)
    return services.agreement_accept(
        by=people["other"], application=application, sha256=hashlib.sha256(text.encode()).hexdigest(), ip=None
    )


def test_trace_leak_names_the_recipient_of_a_shuffled_sample(client, granted, apply, people, conditional, tmp_path):
    _application, grant, secret = granted
    decoy, _decoy_secret = _second_grant(apply, people)
    _bigger_version(conditional)
    exported = client.get(RECORDS, {"_format": "csv"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header == ["户号", "街道", "用电量"] and len(body) == 600
    assert any(len(r[2].split(".")[1]) > 2 for r in body)  # marked beyond the published two decimals
    # The marks sit below 1% of the value's last significant digit: 113.70 → 113.700875, 100.00 → 100.00591.
    original = {f"B{i}": round(100 + i * 1.37, 2) for i in range(600)}
    assert max(abs(float(r[2]) - original[r[0]]) for r in body) < 0.01
    random.Random(7).shuffle(body)
    leaked = tmp_path / "leak.csv"
    with leaked.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body[:60]])
    out = io.StringIO()
    call_command("trace-leak", str(leaked), "--dataset", "power", "--json", stdout=out)
    verdict = json.loads(out.getvalue())
    assert verdict["outcome"] == "identified" and verdict["recipient"].startswith(f"授权 #{grant.pk} ")
    assert {c["label"].split(" ")[1] for c in verdict["candidates"]} == {f"#{grant.pk}", f"#{decoy.pk}"}


def test_department_exports_carry_no_marks(client, conditional, people, tmp_path):
    _bigger_version(conditional)
    client.force_login(people["reviewer"])
    exported = client.get(RECORDS, {"_format": "csv"})
    body = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))[1:]
    assert all(len(r[4].split(".")[-1]) <= 2 for r in body)


def test_json_pages_through_a_grant_are_marked_too(client, granted, apply, people, conditional):
    from citydata.privacy import watermark

    _application, grant, secret = granted
    decoy, _decoy_secret = _second_grant(apply, people)
    _bigger_version(conditional)
    items = []
    for offset in (0, 200, 400):
        page = client.get(RECORDS, {"_size": "200", "_offset": str(offset)}, HTTP_AUTHORIZATION=f"Bearer {secret}")
        items += page.json()["items"]
    assert len(items) == 600 and any(len(str(i["用电量"]).split(".")[-1]) > 2 for i in items)
    verdict = watermark.detect([[i["户号"], i["用电量"]] for i in items[::5]], watermark.candidates_for("power"))
    assert verdict.outcome == "identified" and verdict.recipient.startswith(f"授权 #{grant.pk} ")
