from django.db import migrations

# The plan's seven priority domains first, then the domains Chinese portals commonly use.
DOMAINS = [
    ("epidemic", "防疫复工", "Epidemic control and reopening", True),
    ("health", "卫生健康", "Health", True),
    ("transport", "交通出行", "Transport", True),
    ("culture-education", "文化教育", "Culture and education", True),
    ("credit", "信用服务", "Credit services", True),
    ("commerce", "商业服务", "Business services", True),
    ("finance", "普惠金融", "Inclusive finance", True),
    ("economy", "经贸工商", "Economy and trade", False),
    ("social-security", "社保就业", "Social insurance and jobs", False),
    ("civil-affairs", "民生服务", "Public services", False),
    ("urban", "城建住房", "Urban development and housing", False),
    ("environment", "生态环境", "Environment", False),
    ("resources", "资源能源", "Resources and energy", False),
    ("agriculture", "农业农村", "Agriculture and rural affairs", False),
    ("public-safety", "公共安全", "Public safety", False),
    ("government", "机构团体", "Institutions", False),
    ("geospatial", "地理空间", "Geospatial", False),
    ("science", "科技创新", "Science and innovation", False),
]


def seed(apps, schema_editor):
    Domain = apps.get_model("catalog", "Domain")
    for position, (code, name, name_en, priority) in enumerate(DOMAINS, start=1):
        Domain.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "is_priority": priority, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
