"""Demo content of the quality app, loaded by `citydata demo` after the catalog, its data, the access and
engagement demos: datasets with a problem of every check family, then one inspection run that finds them and
hands out rectification tasks. Idempotent: the seeded datasets are made once; the run happens once.

Seeded problems: a PDF-only dataset (format), a stale daily dataset (timeliness), a column of impossible dates
and negative counts (content), the same data under two titles and a series cut into monthly datasets (content),
an undescribed field (metadata), a dead resource link on a closed port of 127.0.0.1 (service) and mobile numbers
of named people (privacy). Everything goes through the catalog and datastore services, as a provider would."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.utils import timezone

from citydata.accounts.models import Department, Role, User
from citydata.catalog import services as catalog
from citydata.catalog.models import Dataset, Domain
from citydata.datastore import services as datastore
from citydata.quality import services
from citydata.quality.models import InspectionRun

DEAD_LINK = "http://127.0.0.1:9/opendata/taxi-companies-2019.csv"  # port 9 (discard): nothing listens there
PREFIX = "qdemo-"


def _domain(code: str) -> list[Domain]:
    return list(Domain.objects.filter(code=code)[:1]) or list(Domain.objects.all()[:1])


def _meta(description: str, frequency: str = "monthly") -> dict:
    return {
        "description": description,
        "update_frequency": frequency,
        "spatial_coverage": "绵阳市全市",
        "temporal_start": dt.date(2021, 1, 1),
        "contact_name": "数据专员",
        "contact_phone": "0816-2345678",
    }


def _fields(*specs: tuple[str, str, str, str]) -> list[catalog.FieldSpec]:
    return [
        catalog.FieldSpec(name, title, kind, unit, description=f"{title}（{name}）")
        for name, title, kind, unit in specs
    ]


def _dataset(
    slug: str, department: Department, title: str, meta: dict, fields, csv: str | None, domain: str, resources=None
) -> Dataset:
    dataset = catalog.dataset_create(
        by=None,
        department=department,
        slug=PREFIX + slug,
        data={"title": title, **meta},
        domains=_domain(domain),
        fields=fields,
        resources=resources if resources is not None else [catalog.ResourceSpec(f"{title}（CSV）", "CSV")],
    )
    if csv is not None:
        version = datastore.version_upload(
            by=None, dataset=dataset, stream=io.BytesIO(csv.encode()), filename=f"{slug}.csv", run_now=True
        )
        datastore.version_publish(by=None, version=version)
    catalog.dataset_publish(by=None, dataset=dataset, when=timezone.now() - dt.timedelta(days=200))
    return Dataset.objects.get(pk=dataset.pk)


def _taxi_csv() -> str:
    rng = random.Random("taxi")
    rows = ["企业名称,车辆数,服务电话"]
    for n in range(1, 41):
        rows.append(f"绵阳市第{n}出租汽车有限公司,{rng.randint(20, 300)},0816-{2200000 + n * 137}")
    return "\n".join(rows) + "\n"


def _births_csv() -> str:
    rng = random.Random("births")
    rows = ["医院,出生日期,出生人数"]
    for n in range(200):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
        rows.append(f"绵阳市第{1 + n % 5}人民医院,{day.isoformat()},{rng.randint(1, 12)}")
    rows += ["绵阳市第2人民医院,1899-12-31,3", "绵阳市第3人民医院,2099-02-01,2", "绵阳市第4人民医院,2025-03-05,-4"]
    return "\n".join(rows) + "\n"


def _doctors_csv() -> str:
    rng = random.Random("doctors")
    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋勇艳杰涛明"
    rows = ["团队,医生姓名,手机号码"]
    for n in range(60):
        mobile = f"1{rng.choice(['38', '39', '50', '86', '58'])}{rng.randint(10_000_000, 99_999_999)}"
        rows.append(f"涪城区第{1 + n % 6}家庭医生团队,{rng.choice(surnames)}{rng.choice(given)},{mobile}")
    return "\n".join(rows) + "\n"


def _congestion_csv() -> str:
    rng = random.Random("congestion")
    rows = ["日期,道路,拥堵指数"]
    roads = ("剑南路", "临园路", "长虹大道", "绵兴路")
    for n in range(120):
        day = dt.date(2026, 6, 1) + dt.timedelta(days=n // 4)
        rows.append(f"{day.isoformat()},{roads[n % 4]},{rng.uniform(1, 3):.2f}")
    return "\n".join(rows) + "\n"


def load() -> dict[str, int]:
    """Seed the problem datasets (once) and run one inspection (once)."""
    created = {"quality_datasets": 0, "inspection_runs": 0, "rectification_tasks": 0}
    operator = User.objects.filter(role_assignments__role=Role.OPERATOR, is_active=True).order_by("id").first()
    jtj, wjw = Department.objects.filter(code="JTJ").first(), Department.objects.filter(code="WJW").first()
    if operator is None or jtj is None or wjw is None:
        return created
    if not Dataset.objects.filter(slug__startswith=PREFIX).exists():
        created["quality_datasets"] = _seed(operator, jtj, wjw)
    if not InspectionRun.objects.exists():
        run = services.run_start(by=operator, run_now=True)
        created["inspection_runs"] = 1
        created["rectification_tasks"] = run.tasks_created
    return created


def _seed(operator: User, jtj: Department, wjw: Department) -> int:
    taxi_fields = _fields(
        ("企业名称", "企业名称", "string", ""),
        ("车辆数", "车辆数", "integer", "辆"),
        ("服务电话", "服务电话", "string", ""),
    )
    # Format: a route map only as a PDF (the CSV it was published with was later replaced by the scan).
    pdf = _dataset(
        "bus-route-maps",
        jtj,
        "绵阳市公交线路走向图",
        _meta("全市公交线路的走向示意图，标注起讫站点和主要途经道路，供市民出行参考。", "yearly"),
        _fields(("线路", "线路", "string", "")),
        None,
        "transport",
    )
    catalog.resource_add(by=operator, dataset=pdf, spec=catalog.ResourceSpec("公交线路走向图（扫描件）", "PDF"))
    catalog.resource_delete(by=operator, resource=pdf.resources.get(format="CSV"))
    # Timeliness: a daily dataset last updated weeks ago (its history backdated, as it would have happened).
    stale = _dataset(
        "road-congestion-daily",
        jtj,
        "绵阳市城区主要道路拥堵指数",
        _meta("城区主要道路每日的平均拥堵指数，由交通运行监测平台计算，每日更新。", "daily"),
        _fields(("日期", "日期", "date", ""), ("道路", "道路", "string", ""), ("拥堵指数", "拥堵指数", "decimal", "")),
        _congestion_csv(),
        "transport",
    )
    Dataset.objects.filter(pk=stale.pk).update(last_data_update=timezone.now() - dt.timedelta(days=21))
    # Content: impossible birth dates and a negative count.
    _dataset(
        "births-by-hospital",
        wjw,
        "绵阳市各医院新生儿出生登记统计",
        _meta("全市各助产医院每日新生儿出生登记人数，来源于出生医学证明管理系统，每月汇总更新。"),
        _fields(
            ("医院", "医院", "string", ""),
            ("出生日期", "出生日期", "date", ""),
            ("出生人数", "出生人数", "integer", "人"),
        ),
        _births_csv(),
        "health",
    )
    # Content: the same data under two titles.
    for slug, title in (
        ("taxi-companies", "绵阳市出租汽车企业名录"),
        ("taxi-operators", "绵阳市巡游出租车经营企业信息"),
    ):
        _dataset(
            slug,
            jtj,
            title,
            _meta("全市巡游出租汽车经营企业的名称、运营车辆数和服务电话，由市交通运输局每月更新。"),
            taxi_fields,
            _taxi_csv(),
            "transport",
        )
    # Content: one series cut into a dataset per month.
    for month in (7, 8, 9):
        _dataset(
            f"bus-ridership-2026-{month:02d}",
            jtj,
            f"绵阳市2026年{month}月公交客运量",
            _meta(f"2026年{month}月全市各公交线路的月客运量，由公交集团刷卡数据汇总。", "yearly"),
            _fields(("线路", "线路", "string", ""), ("客运量", "客运量", "integer", "人次")),
            "线路,客运量\n" + "".join(f"{n}路,{10000 + n * month * 37}\n" for n in range(1, 16)),
            "transport",
        )
    # Metadata: a field added after publication without a description.
    parking = _dataset(
        "parking-lots",
        jtj,
        "绵阳市城区公共停车场信息",
        _meta("城区公共停车场的名称、地址、泊位数和收费标准，供市民查询停车。"),
        _fields(("名称", "名称", "string", ""), ("泊位数", "泊位数", "integer", "个")),
        "名称,泊位数\n" + "".join(f"第{n}停车场,{50 + n * 7}\n" for n in range(1, 31)),
        "transport",
    )
    catalog.dataset_fields_set(
        by=operator,
        dataset=parking,
        fields=[
            *[catalog.FieldSpec(f.name, f.title, f.type, f.unit, f.description) for f in parking.fields.all()],
            catalog.FieldSpec("sfbz", "收费标准"),
        ],
        expected_version=parking.version,
    )
    # Service: a download link that no longer answers.
    _dataset(
        "taxi-companies-2019",
        jtj,
        "绵阳市出租汽车企业名录（2019年）",
        _meta("2019年全市巡游出租汽车经营企业名录，由原市交通运输局客运管理处发布，作为历史资料保留。", "yearly"),
        taxi_fields,
        None,
        "transport",
        resources=[catalog.ResourceSpec("企业名录（2019）", "CSV", url=DEAD_LINK)],
    )
    # Privacy: names and mobile numbers of family doctors.
    _dataset(
        "family-doctor-teams",
        wjw,
        "涪城区家庭医生签约服务团队",
        _meta("涪城区各家庭医生签约服务团队及其成员，供居民选择签约团队。"),
        _fields(
            ("团队", "团队", "string", ""),
            ("医生姓名", "医生姓名", "string", ""),
            ("手机号码", "手机号码", "string", ""),
        ),
        _doctors_csv(),
        "health",
    )
    return Dataset.objects.filter(slug__startswith=PREFIX).count()
