"""`citydata pii-scan FILE [--json]`: the human report, the JSON object, bad input, and no raw values printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from citydata.privacy.tests.conftest import resident_id

RAW = {
    "id": resident_id("51070319900307123"),
    "id2": resident_id("51070419851111002"),
    "mobile": "13812345678",
    "mobile2": "13987654321",
    "name": "张三丰",
    "address": "四川省绵阳市涪城区临园路东段12号",
}


@pytest.fixture
def health_csv(tmp_path) -> Path:
    path = tmp_path / "体检.csv"
    lines = ["姓名,身份证号,联系电话,家庭住址,备注"]
    lines.append(f"{RAW['name']},{RAW['id']},{RAW['mobile']},{RAW['address']},复查")
    lines.append(f"李四,{RAW['id2']},13800001111,绵阳市游仙区芙蓉汉城3栋2单元501室,家属王五电话{RAW['mobile2']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def assert_no_raw_values(output: str) -> None:
    for value in RAW.values():
        assert value not in output, value


def test_human_report_in_chinese(health_csv, capsys):
    call_command("pii-scan", str(health_csv))
    out = capsys.readouterr().out
    assert "体检.csv：2 行，5 列" in out
    assert "身份证号：居民身份证号 100.0%" in out and "510703********" in out
    assert "备注（自由文本）" in out and "手机号码：1 处" in out and "139****4321" in out
    assert_no_raw_values(out)


def test_json_is_one_object_with_columns_and_cells(health_csv, capsys):
    call_command("pii-scan", str(health_csv), json=True)
    out = capsys.readouterr().out
    payload = json.loads(out)
    columns = {c["name"]: c["types"] for c in payload["columns"]}
    assert columns["身份证号"][0]["type"] == "resident_id" and columns["身份证号"][0]["share"] == 1.0
    assert 0 < columns["姓名"][0]["confidence"] <= 1
    note = "家属王五电话" + RAW["mobile2"]
    assert {(c["row"], c["column"], c["type"], c["start"], c["end"]) for c in payload["cells"]} == {
        (1, "备注", "person_name", 2, 4),
        (1, "备注", "mobile", note.index(RAW["mobile2"]), len(note)),
    }
    assert_no_raw_values(out)


def test_gbk_and_the_hyphenated_name(tmp_path, capsys):
    path = tmp_path / "gbk.csv"
    path.write_text(f"身份证号\n{RAW['id']}\n", encoding="gbk")
    call_command("pii-scan", str(path), json=True)
    assert json.loads(capsys.readouterr().out)["columns"][0]["types"][0]["type"] == "resident_id"


def test_bad_input_is_a_chinese_error(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("pii-scan", str(tmp_path / "missing.csv"))
    (tmp_path / "报告.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        call_command("pii-scan", str(tmp_path / "报告.pdf"))
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CommandError, match="文件是空的"):
        call_command("pii-scan", str(tmp_path / "empty.csv"))


def test_console_script_exits_non_zero_without_a_traceback(tmp_path, settings, health_csv):
    citydata = Path(sys.executable).parent / "citydata"
    env = {**os.environ, "CITYDATA_VAR_DIR": str(settings.VAR_DIR)}
    missing = subprocess.run(
        [str(citydata), "pii-scan", str(tmp_path / "missing.csv")], capture_output=True, text=True, env=env, timeout=120
    )
    assert missing.returncode != 0 and "找不到文件" in missing.stderr and "Traceback" not in missing.stderr
    ok = subprocess.run([str(citydata), "pii-scan", str(health_csv), "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["cells"]
    assert_no_raw_values(ok.stdout + ok.stderr)
