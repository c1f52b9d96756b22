"""`citydata ingest` from the command line, and what a kill -9 in the middle of an ingest leaves behind."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from citydata.catalog.models import Dataset
from citydata.datastore import services
from citydata.datastore.models import DataVersion
from citydata.datastore.storage import get_storage


@pytest.mark.django_db
def test_cli_creates_a_draft_ingests_and_reports(tmp_path, department, capsys):
    department("JTJ")
    source = tmp_path / "停车场.csv"
    source.write_text("名称,泊位,剩余\n万达停车场,500,12\n火车站停车场,300,x\n", encoding="gbk")
    call_command("ingest", str(source), dataset="parking", department="JTJ", bad_rows="quarantine", publish=True)
    out = capsys.readouterr().out
    assert "已新建草稿数据集 parking" in out and "v1" in out and "已成为当前版本" in out
    dataset = Dataset.objects.get(slug="parking")
    assert dataset.status == "draft" and "暂不能发布" in out  # the standard still asks for a summary and fields
    version = DataVersion.objects.get(dataset=dataset)
    assert version.is_current and version.source_encoding == "gb18030" and version.row_count == 2
    assert dataset.resources.filter(format="API").exists()
    with pytest.raises(CommandError, match="--department"):
        call_command("ingest", str(source), dataset="unknown-one")
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("ingest", str(tmp_path / "missing.csv"), dataset="parking")
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,泊位\n甲,1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="导入失败"):
        call_command("ingest", str(bad), dataset="parking")
    assert "第 2 行" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_kill_9_during_ingest_leaves_the_old_version_served_and_cleanup_removes_the_rest(
    client, dataset, upload, settings, tmp_path, child_database_url
):
    first = upload("线路,速度\n1路,30\n2路,40\n")
    services.version_publish(by=None, version=first)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    big = tmp_path / "big.csv"
    duckdb.connect().execute(
        f"COPY (SELECT i % 300 || '路' AS 线路, (i * 7) % 80 AS 速度, 'x' || i AS 备注 FROM range(4000000) t(i)) "
        f"TO '{big}' (HEADER)"
    )
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url,
        "CITYDATA_VAR_DIR": str(settings.VAR_DIR),
        "CITYDATA_STORAGE_URL": str(settings.STORAGE_URL),
    }
    command = [sys.executable, "-m", "citydata", "ingest", str(big), "--dataset", "bus", "--publish", "-v", "0"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            phase = DataVersion.objects.filter(dataset=dataset, number=2).values_list("phase", flat=True).first()
            if phase in ("inferring", "loading") or child.poll() is not None:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the ingest finished before it could be interrupted; make the file bigger"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    body = client.get("/api/v1/datasets/bus/records").json()
    assert body["version"] == 1 and body["total"] == 2  # still the old version, whole
    interrupted = DataVersion.objects.get(dataset=dataset, number=2)
    assert interrupted.status == "running"
    DataVersion.objects.filter(pk=interrupted.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=30))
    report = services.cleanup(grace=dt.timedelta(0))
    interrupted.refresh_from_db()
    assert report["interrupted"] == 1 and interrupted.status == "failed" and interrupted.error_code == "interrupted"
    # the half-done upload is gone; the served version's file and its serving copy stay
    first.refresh_from_db()
    assert sorted(key for key, _ in get_storage().list_keys()) == [first.layout["native"], first.data_key]
    assert not any((settings.VAR_DIR / "work").iterdir())
    assert client.get("/api/v1/datasets/bus/records").json()["total"] == 2
