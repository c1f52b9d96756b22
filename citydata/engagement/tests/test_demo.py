"""The demo content loads through the services as the demo users, covers every state, and loads once."""

from __future__ import annotations

import pytest

from citydata.accounts import demo as accounts_demo
from citydata.engagement import demo
from citydata.engagement.models import Comment, Complaint, DataRequest, ErrorReport, Rating

pytestmark = pytest.mark.django_db


def test_the_demo_covers_every_state_and_is_idempotent(make_dataset):
    accounts_demo.load()
    for n, title in enumerate(["绵阳市地面公交线路信息", "绵阳市出租车企业名录", "绵阳市公交站点信息"]):
        make_dataset(title, slug=f"jtj-{n}")
    for n, title in enumerate(["绵阳市医疗机构名录", "绵阳市预防接种门诊"]):
        make_dataset(title, dept="WJW", slug=f"wjw-{n}")
    created = demo.load()
    assert created == {"comments": 3, "ratings": 4, "error_reports": 2, "data_requests": 5, "complaints": 1}
    assert set(DataRequest.objects.values_list("status", flat=True)) == {"open", "accepted", "declined", "fulfilled"}
    assert set(ErrorReport.objects.values_list("status", flat=True)) == {"open", "confirmed"}
    assert Complaint.objects.get().status == "open"
    assert demo.load() == {"comments": 0, "ratings": 0, "error_reports": 0, "data_requests": 0, "complaints": 0}
    assert (Comment.objects.count(), Rating.objects.count()) == (3, 4)
