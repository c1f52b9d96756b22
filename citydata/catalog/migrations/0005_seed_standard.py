from django.db import migrations

AREAS = ["绵阳市", "涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县", "高新区"]
RULES = [
    ("title-area", "title_area_prefix", {"areas": AREAS}, "blocking", "数据集名称以区域开头，采用“区域 + 部门或主题 + 内容”的格式。"),
    ("title-length", "title_length", {"min": 6, "max": 40}, "blocking", "数据集名称为 6 至 40 个字。"),
    (
        "title-words",
        "forbidden_words",
        {"words": ["测试", "临时", "XXX", "某某", "等等", "数据集"]},
        "warning",
        "名称不使用“测试”“临时”“某某”等非正式用语，也不以“数据集”结尾。",
    ),
    ("description", "description", {"min_length": 20}, "blocking", "摘要至少 20 个字，说明数据内容、来源和用途，且不与名称相同。"),
    ("fields", "fields_described", {}, "blocking", "每个字段都有中文名称和说明。"),
    (
        "formats",
        "machine_readable",
        {"formats": ["CSV", "JSON", "XLSX", "XML", "GEOJSON", "PARQUET", "API", "SSE"]},
        "blocking",
        "至少提供一种机器可读格式（CSV、JSON、XLSX 等），不接受只有 PDF 或图片。",
    ),
]


def seed(apps, schema_editor):
    StandardRule = apps.get_model("catalog", "StandardRule")
    for position, (code, kind, params, severity, description) in enumerate(RULES, start=1):
        StandardRule.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "params": params, "severity": severity, "description": description, "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_standardrule")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
