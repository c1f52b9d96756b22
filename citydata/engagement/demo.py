"""Demo content of the engagement app, loaded by `citydata demo` after the catalog and its data. Idempotent:
a second run finds the citizen's demo comment and adds nothing.

Everything goes through the services as the demo users (see accounts/demo.py): comments and ratings, an
answered and an open error report, data requests in every state, a backlog entry from a search that found
nothing, a suggestion, and one complaint about exposed personal data (open, dataset left online).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from citydata.accounts.models import Department, User
from citydata.catalog.models import Dataset, DatasetStatus
from citydata.engagement import services
from citydata.engagement.models import Comment, ErrorReport

MARK = "数据很实用，建议增加历史数据下载。"


def _user(email: str) -> User | None:
    return User.objects.filter(email=email).first()


def _published(code: str, n: int) -> list[Dataset]:
    return list(
        Dataset.objects.filter(department__code=code, status=DatasetStatus.PUBLISHED)
        .prefetch_related("fields")
        .order_by("id")[:n]
    )


@transaction.atomic
def load() -> dict[str, int]:
    created = {"comments": 0, "ratings": 0, "error_reports": 0, "data_requests": 0, "complaints": 0}
    citizen = _user("citizen@demo.citydata.cn")
    bank = _user("bank@demo.citydata.cn")
    operator = _user("operator@demo.citydata.cn")
    jtj_staff = _user("jtj@demo.citydata.cn")
    wjw_staff = _user("wjw@demo.citydata.cn")
    jtj, wjw = _published("JTJ", 3), _published("WJW", 2)
    if None in (citizen, bank, operator, jtj_staff, wjw_staff) or len(jtj) < 3 or len(wjw) < 2:
        return created
    assert citizen and bank and operator and jtj_staff and wjw_staff
    if Comment.objects.filter(author=citizen, body=MARK).exists():
        return created
    bus, second, third = jtj

    # Comments (post-moderation: published at once) with a department reply, and ratings.
    first = services.comment_submit(by=citizen, dataset=bus, body=MARK)
    services.comment_reply(by=jtj_staff, comment=first, reply="感谢建议，历史数据将于下季度按月归档开放。")
    services.comment_submit(by=bank, dataset=bus, body="接口响应很快，字段说明清楚。")
    services.comment_submit(by=citizen, dataset=wjw[0], body="希望补充各医院的夜间急诊信息。")
    created["comments"] += 3
    for user, dataset, score, reason in [
        (citizen, bus, 5, "更新及时，字段说明完整"),
        (bank, bus, 4, "希望提供更长的历史"),
        (citizen, second, 3, "部分字段缺少单位"),
        (bank, wjw[0], 4, "数据准确"),
    ]:
        services.rating_set(by=user, dataset=dataset, score=score, reason=reason)
        created["ratings"] += 1

    # Error reports: one answered (confirmed: the quality app opens a rectification task), one open.
    fields = list(second.fields.all())
    field_name = fields[0].name if fields else ""
    answered = services.error_report_submit(
        by=citizen,
        dataset=second,
        field_name=field_name,
        row_ref="第 12 行",
        problem="该行数值与实际情况不符，疑似录入错误。",
    )
    services.error_report_answer(
        by=jtj_staff, report=answered, confirmed=True, answer="经核实属实，已安排在 5 个工作日内更正并重新发布。"
    )
    services.error_report_submit(
        by=bank, dataset=bus, row_ref="第 3 行", problem="时间字段出现 2099 年的日期。", correction="2024-03-01"
    )
    created["error_reports"] += 2

    # Data requests in every state.
    departments = {d.code: d for d in Department.objects.filter(code__in=["JTJ", "WJW"])}
    services.data_request_submit(by=citizen, title="全市公共充电桩实时空闲状态", purpose="新能源车出行导航")
    accepted = services.data_request_submit(
        by=citizen, title="公交车辆实时满载率", purpose="错峰出行提示", department=departments["JTJ"]
    )
    services.data_request_accept(by=jtj_staff, request=accepted, answer="已受理，计划随公交实时位置数据一并开放。")
    declined = services.data_request_submit(
        by=bank, title="个人就诊记录明细", purpose="保险理赔核验", department=departments["WJW"]
    )
    services.data_request_decline(
        by=wjw_staff,
        request=declined,
        answer="就诊记录属于个人敏感信息，不纳入公共数据开放范围；如需核验，可通过有条件开放申请授权查询。",
        legal_basis="《中华人民共和国个人信息保护法》第二十八条",
    )
    fulfilled = services.data_request_submit(
        by=bank, title=third.title, purpose="商业选址分析", department=departments["JTJ"]
    )
    services.data_request_fulfil(by=jtj_staff, request=fulfilled, dataset=third)
    services.data_request_from_search(by=operator, query="共享单车停放点", searches=6)
    created["data_requests"] += 5

    # A suggestion answered by the operators, and one complaint waiting for review.
    suggestion = services.suggestion_submit(
        by=citizen, title="希望提供数据更新订阅", body="数据集更新时能否通知关注者？"
    )
    services.suggestion_answer(by=operator, suggestion=suggestion, answer="已列入下一版本计划。")
    services.complaint_submit(
        by=citizen,
        dataset=wjw[1],
        description="联系人一列含有个人手机号码，请核查是否应当脱敏。",
        location="联系电话列",
    )
    created["complaints"] += 1

    # One report left past its deadline, so the operators' dashboard has an overdue item to show.
    late = timezone.now() - dt.timedelta(days=10)
    ErrorReport.objects.filter(dataset=bus, status="open").update(created_at=late, due_at=late + dt.timedelta(days=7))
    return created
