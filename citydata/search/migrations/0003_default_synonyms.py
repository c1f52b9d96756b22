"""The synonyms searchers in Chinese cities use most; operators edit and extend them at /manage/search/."""

from django.db import migrations

DEFAULTS = [
    "公交,公共汽车,公车,巴士",
    "医院,医疗机构,卫生院",
    "企业,法人,公司",
    "床位,病床",
    "实时,动态",
    "停车场,停车位,车位",
    "充电桩,充电站",
    "学校,中小学",
    "信用,征信",
    "违法,处罚,行政处罚",
    "药店,药房,零售药店",
    "养老,养老院,养老机构",
    "地铁,轨道交通",
    "出租车,网约车,巡游车",
    "空气质量,空气,aqi",
    "人口,户籍",
    "景区,景点,旅游景区",
    "许可,行政许可,审批",
]


def add(apps, schema_editor):
    Synonym = apps.get_model("search", "Synonym")
    for terms in DEFAULTS:
        Synonym.objects.get_or_create(terms=terms)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext_index")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
