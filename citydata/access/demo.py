"""Demo content of conditional opening: the agreement template, data behind a few conditional datasets, a
bank's standing feed, and applications in the states a reviewer meets (waiting, returned, with the experts,
rejected, granted and in use). Idempotent: nothing is added once an application exists."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random

from django.utils import timezone

from citydata.access import services
from citydata.access.models import AgreementTemplate, Application
from citydata.accounts.models import Organisation, User
from citydata.catalog.models import Dataset, DatasetStatus, OpenType

# The agreement's clauses run long by nature.
AGREEMENT = """公共数据开放利用协议（{number}）

甲方（数据提供方）：{department}
乙方（数据利用方）：{applicant}
平台：{platform}

第一条 开放数据范围：{datasets}。
第二条 开放字段：{fields}。乙方只能获取上述字段，其他字段不予提供。
第三条 利用目的和场景：{purpose}。乙方不得超出约定目的和场景使用数据，不得向任何第三方提供、转让或公开。
第四条 利用期限：{period_start} 至 {period_end}。期满后停止调用并删除数据，需继续使用的应申请续期。
第五条 调用方式：通过平台接口使用本协议专用密钥获取，调用频率不超过每分钟 {rate} 次、\
每日 {daily_rows} 行；平台记录每次调用。
第六条 安全责任：乙方应落实数据安全管理制度和技术措施，不得尝试重新识别已脱敏的个人信息；\
发生数据泄露等安全事件，应立即报告甲方和平台并采取补救措施。
第七条 跟踪反馈：乙方按平台要求定期提交数据利用情况报告；逾期不报的，平台可暂停授权。
第八条 违约处理：乙方违反本协议的，甲方和平台可暂停或撤销授权，并依法追究责任。
"""


def _fake_rows(dataset: Dataset, n: int, rng: random.Random) -> str:
    fields = list(dataset.fields.order_by("position"))
    lines = [",".join(f.name for f in fields)]
    for i in range(n):
        values = []
        for f in fields:
            if f.type == "integer":
                values.append(str(rng.randint(1, 500)))
            elif f.type == "decimal":
                values.append(f"{rng.uniform(100, 90000):.1f}")
            elif f.type == "boolean":
                values.append(rng.choice(["是", "是", "是", "否"]))
            elif f.type == "date":
                values.append(f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}")
            elif f.name == "month":
                values.append(f"2026-{1 + i % 10:02d}")
            else:
                values.append(f"{f.example[:-2] if len(f.example) > 4 else f.example}{i:02d}" if f.example else f"{i}")
        lines.append(",".join(v.replace(",", " ") for v in values))
    return "\n".join(lines) + "\n"


def _with_data(dataset: Dataset) -> Dataset:
    from citydata.datastore import services as data_services
    from citydata.datastore.models import DataVersion

    if not DataVersion.objects.filter(dataset=dataset, is_current=True).exists():
        csv = _fake_rows(dataset, 120, random.Random(f"access:{dataset.slug}"))
        version = data_services.version_upload(
            by=None, dataset=dataset, stream=io.BytesIO(csv.encode()), filename=f"{dataset.slug}.csv", run_now=True
        )
        data_services.version_publish(by=None, version=version)
    return dataset


def _conditional(title: str) -> Dataset | None:
    found = Dataset.objects.filter(
        title__endswith=title, open_type=OpenType.CONDITIONAL, status=DatasetStatus.PUBLISHED
    ).order_by("slug")
    return found.first()


def _apply(applicant: User, dataset: Dataset, fields: list[str], purpose: str, scenario: str, **extra) -> Application:
    today = timezone.localdate()
    application = services.application_save(
        by=applicant,
        items=[(dataset, fields)],
        purpose=purpose,
        scenario=scenario,
        period_start=today,
        period_end=today + dt.timedelta(days=365),
        expected_volume="每日约 2,000 次调用",
        security_measures="专人负责，数据存放在内网服务器，访问留痕，用后删除。",
        **extra,
    )
    services.application_submit(by=applicant, application=application, commitment=True)
    return application


def load() -> dict[str, int]:
    if Application.objects.exists():
        return {}
    users = {u.email: u for u in User.objects.filter(email__endswith="@demo.citydata.cn")}
    operator, citizen, bank_user = (users.get(f"{n}@demo.citydata.cn") for n in ("operator", "citizen", "bank"))
    expert = users.get("expert@demo.citydata.cn")
    if not (operator and citizen and bank_user):
        return {}
    if not AgreementTemplate.objects.exists():
        services.template_publish(by=operator, title="公共数据开放利用协议", body=AGREEMENT)
    power, water, gas, cases = (
        _conditional(t) for t in ("企业用电信息", "企业用水信息", "企业用气信息", "病例详情（脱敏）")
    )
    created = {"applications": 0, "grants": 0}
    # Every conditional dataset has data behind it, so whatever a visitor applies for can be read once granted.
    for dataset in Dataset.objects.filter(open_type=OpenType.CONDITIONAL, status=DatasetStatus.PUBLISHED):
        _with_data(dataset)
    bank = Organisation.objects.filter(memberships__user=bank_user).first()

    if power is not None and bank is not None:
        # A bank's routine feed: an operator-created standing grant on the utility data (R7.3).
        _with_data(power)
        fields = list(power.fields.values_list("name", flat=True))
        services.standing_grant_create(
            by=operator,
            organisation=bank,
            holder=bank_user,
            items=[(power, fields)],
            ends_on=timezone.localdate() + dt.timedelta(days=365),
        )
        created["grants"] += 1

    if water is not None:
        _with_data(water)
        fields = [f for f in water.fields.values_list("name", flat=True) if f != "paid_on_time"]
        granted = _apply(
            bank_user,
            water,
            fields,
            "小微企业信用贷款审查中核验企业用水情况",
            "普惠金融：企业授权后，银行在贷前审查中查询其近12个月用水量",
            organisation=bank,
        )
        reviewer = operator
        services.application_accept(by=reviewer, application=granted)
        services.application_evaluate(by=reviewer, application=granted)
        services.application_decide(by=reviewer, application=granted, approve=True, reason="用途明确，字段最小化。")
        granted.refresh_from_db()
        text = services.agreement_text(granted)
        services.agreement_accept(
            by=bank_user, application=granted, sha256=hashlib.sha256(text.encode()).hexdigest(), ip="127.0.0.1"
        )
        created["applications"] += 1
        created["grants"] += 1

    if cases is not None:
        _with_data(cases)
        names = list(cases.fields.values_list("name", flat=True))
        _apply(citizen, cases, names[:4], "研究传染病流行特征", "高校公共卫生课题，统计分析年龄段与来源分布")
        returned = _apply(citizen, cases, names, "绘制病例分布图", "个人兴趣研究")
        services.application_return(
            by=operator,
            application=returned,
            missing="请说明研究单位，并上传课题立项证明；个人兴趣研究不需要病例编号。",
        )
        created["applications"] += 2
        if expert is not None:
            panel_case = _apply(
                bank_user, cases, names[1:4], "评估疫情对小微企业经营的影响", "银行风险模型", organisation=bank
            )
            services.application_accept(by=operator, application=panel_case)
            services.application_evaluate(by=operator, application=panel_case)
            experts = services.experts()
            if len(experts) >= 2:
                services.panel_create(
                    by=operator,
                    subject="病例数据用于金融风控是否适当",
                    question="银行申请以病例年龄段、性别和区县数据评估小微企业经营风险，是否符合最小必要原则？",
                    members=experts[:3],
                    application=panel_case,
                )
            created["applications"] += 1

    if gas is not None:
        fields = list(gas.fields.values_list("name", flat=True))
        rejected = _apply(citizen, gas, fields, "了解邻居企业的用气情况", "个人查询")
        services.application_accept(by=operator, application=rejected)
        services.application_evaluate(by=operator, application=rejected)
        services.application_decide(
            by=operator,
            application=rejected,
            approve=False,
            reason="企业用气信息仅向经企业授权的金融机构提供，个人查询他人企业数据不符合开放条件。",
        )
        created["applications"] += 1
    return created
