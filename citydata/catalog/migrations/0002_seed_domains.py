from django.db import migrations

# The plan's seven priority domains first, then the domains Chinese portals commonly use.
DOMAINS = [
    ("epidemic", "防疫复工", True),
    ("health", "卫生健康", True),
    ("transport", "交通出行", True),
    ("culture-education", "文化教育", True),
    ("credit", "信用服务", True),
    ("commerce", "商业服务", True),
    ("finance", "普惠金融", True),
    ("economy", "经贸工商", False),
    ("social-security", "社保就业", False),
    ("civil-affairs", "民生服务", False),
    ("urban", "城建住房", False),
    ("environment", "生态环境", False),
    ("resources", "资源能源", False),
    ("agriculture", "农业农村", False),
    ("public-safety", "公共安全", False),
    ("government", "机构团体", False),
    ("geospatial", "地理空间", False),
    ("science", "科技创新", False),
]


def seed(apps, schema_editor):
    Domain = apps.get_model("catalog", "Domain")
    for position, (code, name, priority) in enumerate(DOMAINS, start=1):
        Domain.objects.get_or_create(code=code, defaults={"name": name, "is_priority": priority, "position": position})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
