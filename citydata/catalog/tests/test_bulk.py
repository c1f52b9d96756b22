"""Bulk import from the spreadsheet template: row-level errors, all-or-nothing unless asked, Excel and CSV."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from citydata.catalog import bulk
from citydata.catalog.models import Dataset, InventoryEntry
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db

INVENTORY_HEADER = (
    "资源编码*,资源名称*,资源摘要,开放类型*,数据级别,细分级别,影响对象,复核日期,不予开放依据,条款,依据链接"
)


def csv_file(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(lines).encode(encoding)


def xlsx_file(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_templates_have_the_chinese_headers_and_a_guide():
    assert bulk.template_csv("inventory").decode("utf-8-sig").strip() == INVENTORY_HEADER
    book = load_workbook(io.BytesIO(bulk.template_xlsx("datasets")))
    assert book.sheetnames == ["数据集", "字段", "填写说明"]
    assert [c.value for c in book["字段"][1]][:3] == ["数据集标识*", "字段名*", "中文名称*"]
    guide = [row[1] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "更新频率" in guide and "敏感字段" in guide


def test_inventory_rows_are_all_or_nothing_with_row_numbers(department):
    jtj = department("JTJ")
    raw = csv_file(
        INVENTORY_HEADER,
        "JTJ-1,公交线路,,无条件开放,一般,,,,,,",
        "JTJ-2,涉密设施,,不予开放,重要数据,,,,,,",  # no legal basis
        ",,,,,,,,,,",  # blank rows are skipped but keep the numbering
        "JTJ-1,重复,,有条件开放,,,,,,,",
        "JTJ-4,出租车,,随便开放,,,,2027-13-01,,,",
    )
    report = bulk.import_file(by=None, department=jtj, kind="inventory", filename="清单.csv", raw=raw)
    assert not report.committed and report.rows == 4 and report.refused_rows == 3
    assert [(e.row, e.column) for e in report.errors] == [(3, "不予开放依据"), (5, "资源编码"), (6, "开放类型")]
    assert "与第 2 行的资源编码重复" in report.errors[1].message and "随便开放" in report.errors[2].message
    assert not InventoryEntry.objects.exists() and not AuditEvent.objects.filter(action="inventory.create").exists()

    partial = bulk.import_file(by=None, department=jtj, kind="inventory", filename="清单.csv", raw=raw, valid_only=True)
    assert partial.committed and partial.created == 1
    assert list(InventoryEntry.objects.values_list("code", "sensitivity")) == [("JTJ-1", "general")]
    assert AuditEvent.objects.filter(action="catalog.bulk_import").count() == 1


def test_inventory_import_updates_by_code_and_is_safe_to_rerun(department):
    jtj = department("JTJ")
    first = csv_file(
        INVENTORY_HEADER,
        "JTJ-1,公交线路,,待分类,,,,2027/6/30,,,",
        "JTJ-2,涉密设施,,不予开放,核心数据,,,,《中华人民共和国保守国家秘密法》,第十三条,",
    )
    report = bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.csv", raw=first)
    assert report.committed and report.created == 2
    assert str(InventoryEntry.objects.get(code="JTJ-1").review_due) == "2027-06-30"
    again = bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.csv", raw=first)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = csv_file(INVENTORY_HEADER, "JTJ-1,公交线路,,无条件开放,,,,2027-06-30,,,")
    third = bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.csv", raw=changed)
    assert third.updated == 1 and InventoryEntry.objects.get(code="JTJ-1").open_type == "open"


def test_gbk_csv_and_missing_columns(department):
    jtj = department("JTJ")
    gbk = csv_file(INVENTORY_HEADER, "JTJ-1,公交线路,,有条件开放,,,,,,,", encoding="gbk")
    assert bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.CSV", raw=gbk).created == 1
    with pytest.raises(bulk.BulkFileError) as caught:
        bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.csv", raw=csv_file("资源名称,开放类型"))
    assert "资源编码" in str(caught.value.message)
    with pytest.raises(bulk.BulkFileError) as caught:
        bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.xlsx", raw=b"not a zip")
    assert ".xlsx" in str(caught.value.message)
    with pytest.raises(bulk.BulkFileError):
        bulk.import_file(by=None, department=jtj, kind="inventory", filename="a.pdf", raw=b"%PDF")


DATASET_ROW = [
    "bus-lines",
    "绵阳市地面公交线路",
    "全市公交线路的起讫站、首末班时间和票价，供出行查询使用。",
    "交通出行",
]


def test_datasets_with_fields_from_excel(department):
    jtj = department("JTJ")
    header = [c.header + ("*" if c.required else "") for c in bulk.DATASET_COLUMNS]
    raw = xlsx_file(
        {
            "数据集": [
                header,
                [*DATASET_ROW, "公交、线路", "无条件开放", "每月", "绵阳市", "", "", "", "CSV、JSON"],
                ["", "绵阳市停车场", "全市公共停车场的位置、泊位数和收费标准。", "transport", "", "有条件开放", "每日"],
            ],
            "字段": [
                [c.header for c in bulk.FIELD_COLUMNS],
                ["bus-lines", "line_name", "线路名称", "字符串", "", "线路的名称", "1路", "否"],
                ["bus-lines", "fare", "票价", "小数", "元", "单程票价", 2, "否"],
            ],
        }
    )
    report = bulk.import_file(by=None, department=jtj, kind="datasets", filename="d.xlsx", raw=raw)
    assert report.committed and report.created == 2, report.errors
    bus = Dataset.objects.get(slug="bus-lines")
    assert bus.status == "draft" and bus.tags == ["公交", "线路"] and bus.update_frequency == "monthly"
    assert [(f.name, f.type, f.example) for f in bus.fields.all()] == [
        ("line_name", "string", "1路"),
        ("fare", "decimal", "2"),
    ]
    assert sorted(bus.resources.values_list("format", flat=True)) == ["CSV", "JSON"]
    assert Dataset.objects.get(title="绵阳市停车场").open_type == "conditional"
    again = bulk.import_file(by=None, department=jtj, kind="datasets", filename="d.xlsx", raw=raw)
    assert again.unchanged == 1 and Dataset.objects.filter(title="绵阳市地面公交线路").count() == 1


def test_dataset_rows_refused_for_bad_fields_domains_and_foreign_slugs(department):
    jtj, wjw = department("JTJ"), department("WJW")
    header = [c.header for c in bulk.DATASET_COLUMNS]
    raw = xlsx_file(
        {
            "数据集": [
                header,
                [*DATASET_ROW, "", "无条件开放", "每月"],
                ["taken", "绵阳市医院", "全市医院的名称、地址、等级和床位数。", "卫生健康", "", "无条件开放", "每月"],
                ["x", "绵阳市某数据", "说明文字足够长，用于测试领域不存在。", "不存在的领域", "", "无条件开放", "每月"],
                ["y", "绵阳市某数据", "说明文字足够长，用于测试不予开放。", "交通出行", "", "不予开放", "每月"],
            ],
            "字段": [
                [c.header for c in bulk.FIELD_COLUMNS],
                ["bus-lines", "line-name", "线路名称"],
                ["nowhere", "a", "甲"],
            ],
        }
    )
    from citydata.catalog.models import Domain
    from citydata.catalog.services import dataset_create

    dataset_create(
        by=None,
        department=wjw,
        slug="taken",
        data={"title": "医院", "description": "医院名录", "update_frequency": "monthly"},
        domains=[Domain.objects.get(code="health")],
    )
    report = bulk.import_file(by=None, department=jtj, kind="datasets", filename="d.xlsx", raw=raw)
    assert not report.committed
    where = {(e.sheet, e.row, e.column) for e in report.errors}
    assert where == {
        ("字段", 2, "字段名"),
        ("字段", 3, "数据集标识"),
        ("", 2, "标识"),
        ("", 3, "标识"),
        ("", 4, "领域"),
        ("", 5, "开放类型"),
    }
    assert Dataset.objects.filter(department=jtj).count() == 0


def test_a_provider_imports_only_into_their_own_department(department, user_with_role):
    from citydata.errors import Forbidden

    department("JTJ")
    other = user_with_role("provider", "WJW")
    raw = csv_file(INVENTORY_HEADER, "JTJ-1,公交线路,,无条件开放,,,,,,,")
    with pytest.raises(Forbidden):
        bulk.import_file(by=other, department=department("JTJ"), kind="inventory", filename="a.csv", raw=raw)


def test_import_page_reports_rows_and_imports_valid_ones_when_asked(client_for, department):
    from django.core.files.uploadedfile import SimpleUploadedFile

    department("JTJ")
    client = client_for("provider", "JTJ")
    page = client.get("/manage/departments/JTJ/import/")
    assert page.status_code == 200 and "/manage/import/templates/inventory.xlsx" in page.content.decode()
    template = client.get("/manage/import/templates/datasets.xlsx")
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(template.content)).sheetnames[0] == "数据集"
    raw = csv_file(INVENTORY_HEADER, "JTJ-1,公交线路,,无条件开放,,,,,,,", "JTJ-2,涉密设施,,不予开放,,,,,,,")
    refused = client.post(
        "/manage/departments/JTJ/import/", {"kind": "inventory", "file": SimpleUploadedFile("a.csv", raw)}
    )
    text = refused.content.decode()
    assert refused.status_code == 400 and "没有导入任何内容" in text and "不予开放依据" in text
    assert not InventoryEntry.objects.exists()
    done = client.post(
        "/manage/departments/JTJ/import/",
        {"kind": "inventory", "valid_only": "on", "file": SimpleUploadedFile("a.csv", raw)},
    )
    assert done.status_code == 200 and "新增 1 条" in done.content.decode()
    assert list(InventoryEntry.objects.values_list("code", flat=True)) == ["JTJ-1"]
    wrong_type = client.post(
        "/manage/departments/JTJ/import/", {"kind": "inventory", "file": SimpleUploadedFile("a.pdf", b"%PDF")}
    )
    assert wrong_type.status_code == 400 and ".xlsx" in wrong_type.content.decode()
    assert client_for("provider", "WJW").get("/manage/departments/JTJ/import/").status_code == 403


def test_import_endpoint_is_all_or_nothing_and_scoped(client, department, user_with_role):
    from citydata.accounts import services as account_services

    department("JTJ")
    _, secret = account_services.apikey_create(by=user_with_role("provider", "JTJ"), name="k")
    auth = {"Authorization": f"Bearer {secret}"}
    raw = csv_file(INVENTORY_HEADER, "JTJ-1,公交线路,,无条件开放,,,,,,,", "JTJ-2,涉密设施,,不予开放,,,,,,,")
    file = io.BytesIO(raw)
    file.name = "a.csv"
    refused = client.post("/api/v1/departments/JTJ/import", {"kind": "inventory", "file": file}, headers=auth)
    body = refused.json()
    assert refused.status_code == 400 and body["code"] == "rows_refused"
    assert body["details"]["errors"] == [
        {"sheet": "", "row": 3, "column": "不予开放依据", "message": body["details"]["errors"][0]["message"]}
    ]
    file.seek(0)
    ok = client.post(
        "/api/v1/departments/JTJ/import", {"kind": "inventory", "valid_only": "true", "file": file}, headers=auth
    )
    assert ok.status_code == 200 and ok.json()["created"] == 1 and ok.json()["refused_rows"] == 1
    _, other = account_services.apikey_create(by=user_with_role("provider", "WJW"), name="k")
    file.seek(0)
    denied = client.post(
        "/api/v1/departments/JTJ/import",
        {"kind": "inventory", "file": file},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert denied.status_code == 403
