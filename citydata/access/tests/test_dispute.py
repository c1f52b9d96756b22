"""Expert deliberation on a classification dispute: no application involved, the dataset's department sees it."""

from citydata.access import services
from citydata.access.models import Panel


def test_operators_form_a_dispute_panel_and_experts_decide(client, conditional, people, user_with_role):
    a, b = people["experts"]
    client.force_login(people["operator"])
    page = client.get("/manage/panels/new/", {"dataset": "power"})
    assert page.status_code == 200 and 'value="power"' in page.content.decode()
    refused = client.post("/manage/panels/new/", {"dataset": "no-such", "subject": "争议", "question": "?",
                                                 "experts": [a.pk, b.pk], "workdays": 5})  # fmt: skip
    assert refused.status_code == 400 and "没有标识为" in refused.content.decode()
    created = client.post("/manage/panels/new/", {"dataset": "power", "subject": "户号是否属于个人信息",
                                                 "question": "部门认为户号可有条件开放，运营方认为应不予开放。",
                                                 "experts": [a.pk, b.pk], "workdays": 5})  # fmt: skip
    panel = Panel.objects.get()
    assert created.status_code == 302 and panel.dataset == conditional and panel.application is None
    services.opinion_submit(by=a, panel=panel, vote="reject", text="户号可关联到个人")
    services.opinion_submit(by=b, panel=panel, vote="reject", text="同意不予开放")
    services.panel_close(by=people["operator"], panel=panel, summary="维持不予开放")
    client.force_login(people["reviewer"])  # the dataset's own department reads the outcome
    shown = client.get(f"/panels/{panel.pk}/").content.decode()
    assert "维持不予开放" in shown and "户号可关联到个人" in shown
    client.force_login(user_with_role("provider", "WJW"))
    assert client.get(f"/panels/{panel.pk}/").status_code == 403
    client.force_login(people["reviewer"])
    assert client.get("/manage/panels/new/").status_code == 403
