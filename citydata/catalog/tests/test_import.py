"""`citydata import-catalog`: CKAN and DCAT files, vocabulary normalisation, re-runs without duplicates."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from citydata.catalog.models import Dataset

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture
def departments(department):
    department("JTJ", "市交通运输局")
    department("DW", "国网绵阳供电公司")
    department("WJW", "市卫生健康委员会")


def run(path, fmt, *extra, capsys=None):
    call_command("import-catalog", str(path), "--format", fmt, *extra)
    return capsys.readouterr().out if capsys else ""


def test_ckan_package_search_imports_as_drafts_and_reruns_add_nothing(departments, capsys):
    out = run(DATA / "ckan_package_search.json", "ckan", capsys=capsys)
    assert "新建 2 个" in out and "跳过 1 个" in out and "不存在的局" in out
    bus = Dataset.objects.get(source="ckan", source_id="bus-stops-fucheng")
    assert bus.slug == "bus-stops-fucheng" and bus.status == "draft" and bus.department.code == "JTJ"
    assert bus.update_frequency == "monthly" and bus.open_type == "open" and bus.tags == ["公交", "站点"]
    assert [d.code for d in bus.domains.all()] == ["transport"]
    assert sorted(r.format for r in bus.resources.all()) == ["API", "CSV"]
    power = Dataset.objects.get(source_id="enterprise-power-usage")
    assert power.open_type == "conditional"  # 受限开放 → 有条件开放
    again = run(DATA / "ckan_package_search.json", "ckan", capsys=capsys)
    assert "新建 0 个" in again and "已存在 2 个" in again
    assert Dataset.objects.filter(source="ckan").count() == 2


def test_dcat_jsonld_follows_references_and_skips_not_open(departments, capsys):
    out = run(DATA / "dcat_catalog.jsonld", "dcat", capsys=capsys)
    assert "新建 1 个" in out and "不予开放的数据不作为数据集导入" in out
    beds = Dataset.objects.get(source="dcat", source_id="hospital-beds")
    assert beds.title == "绵阳市医院实时床位" and beds.department.code == "WJW"
    assert beds.update_frequency == "realtime"  # EU frequency vocabulary: CONT
    assert [r.format for r in beds.resources.all()] == ["JSON"]


def test_department_option_overrides_and_unknown_code_is_refused(departments, tmp_path):
    with pytest.raises(CommandError, match="部门编码 NOPE 不存在"):
        run(DATA / "ckan_package_search.json", "ckan", "--department", "NOPE")
    run(DATA / "ckan_package_search.json", "ckan", "--department", "JTJ")
    assert Dataset.objects.filter(source="ckan", department__code="JTJ").count() == 3


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ('{"success": true', "ckan", "不是有效的 JSON"),
        ('{"hello": 1}', "ckan", "缺少 result 字段"),
        ('{"@graph": []}', "dcat", "没有找到任何数据集"),
        ("名称,部门\n甲,乙\n", "csv", "CSV 模板缺少列"),
    ],
)
def test_invalid_files_are_refused_with_the_problem_named(departments, tmp_path, content, fmt, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run(path, fmt)
    assert not Dataset.objects.exists()


def test_csv_template_in_gbk(departments, tmp_path, capsys):
    path = tmp_path / "catalog.csv"
    rows = "标识,数据集名称,摘要,提供部门,领域,开放类型,更新频率,数据格式\n"
    rows += "jtj-parking,绵阳市停车场信息,全市公共停车场的位置和泊位数。,JTJ,交通出行,无条件开放,每日,CSV、JSON\n"
    path.write_bytes(rows.encode("gbk"))
    assert "新建 1 个" in run(path, "csv", capsys=capsys)
    parking = Dataset.objects.get(source_id="jtj-parking")
    assert parking.update_frequency == "daily" and sorted(r.format for r in parking.resources.all()) == ["CSV", "JSON"]
