"""The conditional-opening pages through HTTP: each page for each role, refusals for everyone else, every action
form (with its validation shown in place), bad input answered with a 4xx, and the SLA figures."""

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from citydata.access import queries, services
from citydata.access.models import AgreementTemplate, Application, Grant, GrantStatus, GrantUsage, Panel, State
from citydata.accounts.models import Membership, Organisation

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n% test\n"


def login(client, user):
    client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    return client


def text(response) -> str:
    return response.content.decode()


def form_data(**overrides):
    data = {
        "datasets": ["power"],
        "fields": ["power:户号", "power:街道", "power:用电量"],
        "purpose": "研究居民用电与气温的关系",
        "scenario": "高校课题组建模分析",
        "period_start": timezone.localdate().isoformat(),
        "period_end": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
        "expected_volume": "每日不超过 1 万行",
        "security_measures": "专人专机，数据不出内网",
        "organisation": "",
    }
    data.update(overrides)
    return data


def submitted(apply, people):
    application = apply()
    return services.application_submit(by=people["applicant"], application=application, commitment=True)


def evaluating(apply, people):
    application = submitted(apply, people)
    services.application_accept(by=people["reviewer"], application=application)
    return services.application_evaluate(by=people["reviewer"], application=application)


# --- applying -------------------------------------------------------------------------------------------------


def test_the_form_offers_the_departments_conditional_datasets_with_their_fields(client, conditional, people):
    assert client.get("/applications/new/?dataset=power").status_code == 302  # sign in first
    login(client, people["applicant"])
    page = client.get("/applications/new/?dataset=power")
    body = text(page)
    assert page.status_code == 200
    assert 'name="datasets" value="power" checked' in body  # preselected from ?dataset
    assert all(f'value="power:{f}"' in body for f in ("户号", "户名", "街道", "月份", "用电量"))
    assert services.COMMITMENT_TEXT in body and "保存草稿" in body and "提交申请" in body
    chooser = client.get("/applications/new/")
    assert chooser.status_code == 200 and "/applications/new/?dataset=power" in text(chooser)
    assert client.get("/applications/new/?dataset=nope").status_code == 404


def test_save_a_draft_then_submit_it(client, conditional, people):
    login(client, people["applicant"])
    saved = client.post("/applications/new/?dataset=power", form_data(save="1"))
    application = Application.objects.get(applicant=people["applicant"])
    assert saved.status_code == 302 and saved["Location"] == f"/applications/{application.number}/"
    assert application.state == State.DRAFT
    assert [i.fields for i in application.items.all()] == [["户号", "街道", "用电量"]]
    page = text(client.get(saved["Location"]))
    assert "修改申请" in page and "act/submit/" in page and "草稿" in page
    # the case page's own submit form needs the commitment, in place
    refused = client.post(f"/applications/{application.number}/act/submit/")
    assert refused.status_code == 400 and "请阅读并签署《数据安全承诺书》" in text(refused)
    done = client.post(f"/applications/{application.number}/act/submit/", {"commitment": "on"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.commitment_sha256 == services.commitment_sha256()


def test_submit_straight_from_the_form_needs_the_commitment_and_loses_nothing(client, conditional, people):
    login(client, people["applicant"])
    refused = client.post("/applications/new/?dataset=power", form_data(submit="1", purpose="我的独特用途"))
    assert refused.status_code == 400
    body = text(refused)
    assert "提交前请阅读并签署《数据安全承诺书》" in body and "我的独特用途" in body
    assert 'value="power:街道" checked' in body and 'value="power:户名" checked' not in body
    assert not Application.objects.exists()
    done = client.post("/applications/new/?dataset=power", form_data(submit="1", commitment="on"))
    assert done.status_code == 302
    application = Application.objects.get()
    assert application.state == State.SUBMITTED and application.accept_due is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": ""}, "请填写申请用途"),
        ({"fields": []}, "请为“居民用电量”勾选所需字段"),
        ({"datasets": []}, "请至少选择一个有条件开放的数据集"),
        ({"datasets": ["elsewhere"]}, "所选数据集不在可申请范围内"),
        ({"fields": ["power:户号", "power:不存在"]}, "所选字段不属于可申请的数据集"),
        ({"period_end": "2000-01-01"}, "使用结束日期不能早于开始日期"),
        ({"period_start": "昨天"}, "日期格式应为 YYYY-MM-DD"),
        ({"period_end": "2040-01-01"}, "使用期限最长三年"),
        ({"organisation": "999999"}, "只能选择您所在的组织"),
        ({"expected_volume": "x" * 201}, "预计调用量不能超过 200 字"),
    ],
)
def test_validation_errors_are_shown_in_place(client, conditional, people, overrides, message):
    login(client, people["applicant"])
    refused = client.post("/applications/new/?dataset=power", form_data(save="1", **overrides))
    assert refused.status_code == 400 and message in text(refused)
    assert "高校课题组建模分析" in text(refused)  # what was typed stays
    assert not Application.objects.exists()


def test_apply_for_an_organisation_of_the_applicant(client, conditional, people):
    organisation = Organisation.objects.create(name="绵阳某银行", uscc="91510700MA00000001", type="bank")
    Membership.objects.create(organisation=organisation, user=people["applicant"])
    login(client, people["applicant"])
    assert "绵阳某银行" in text(client.get("/applications/new/?dataset=power"))
    client.post("/applications/new/?dataset=power", form_data(save="1", organisation=str(organisation.pk)))
    assert Application.objects.get().organisation == organisation


def test_edit_a_draft_and_only_a_draft(client, apply, people):
    application = apply()
    login(client, people["applicant"])
    page = client.get(f"/applications/{application.number}/edit/")
    assert page.status_code == 200 and 'value="power:街道" checked' in text(page)
    changed = client.post(f"/applications/{application.number}/edit/", form_data(save="1", fields=["power:月份"]))
    assert changed.status_code == 302
    assert application.items.get().fields == ["月份"]
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    assert client.get(f"/applications/{application.number}/edit/").status_code == 400
    login(client, people["other"])
    assert client.get(f"/applications/{application.number}/edit/").status_code == 403


# --- the case page and its actions ---------------------------------------------------------------------------


def test_who_sees_the_case(client, apply, people, user_with_role):
    application = submitted(apply, people)
    url = f"/applications/{application.number}/"
    for person in (people["applicant"], people["reviewer"], people["operator"]):
        page = login(client, person).get(url)
        assert page.status_code == 200 and "研究居民用电与气温的关系" in text(page), person
    for outsider in (people["other"], user_with_role("provider", "WJW"), people["experts"][0]):
        assert login(client, outsider).get(url).status_code == 403
    assert login(client, people["applicant"]).get("/applications/SQ0000/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_case_shows_the_clock_history_and_only_the_actions_allowed_now(client, apply, people):
    with freeze_time(dt.datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)):
        application = submitted(apply, people)
    with freeze_time(dt.datetime(2026, 10, 9, 9, tzinfo=SHANGHAI)):
        applicant = text(login(client, people["applicant"]).get(f"/applications/{application.number}/"))
        assert "2026-10-13" in applicant and "剩余 3 个工作日" in applicant
        assert "act/accept/" not in applicant and "act/withdraw/" in applicant
        reviewer = text(login(client, people["reviewer"]).get(f"/applications/{application.number}/"))
        assert "act/accept/" in reviewer and "act/return/" in reviewer and "act/withdraw/" not in reviewer
        assert "提交申请，应在 2026-10-13 前受理" in reviewer  # the history with its notes
    with freeze_time(dt.datetime(2026, 10, 14, 9, tzinfo=SHANGHAI)):
        late = text(client.get(f"/applications/{application.number}/"))
        assert "已超期" in late


def test_every_review_action_through_its_form(client, apply, people):
    application = submitted(apply, people)
    base = f"/applications/{application.number}/act"
    login(client, people["reviewer"])
    refused = client.post(f"{base}/return/", {"missing": "  "})
    assert refused.status_code == 400 and "请填写需补正的内容" in text(refused)
    assert client.post(f"{base}/return/", {"missing": "请补充课题立项证明"}).status_code == 302
    application.refresh_from_db()
    assert application.state == State.RETURNED
    page = text(login(client, people["applicant"]).get(f"/applications/{application.number}/"))
    assert "请补充课题立项证明" in page and "暂停计时" in page
    assert client.post(f"{base}/submit/", {"commitment": "on"}).status_code == 302
    login(client, people["reviewer"])
    assert client.post(f"{base}/accept/").status_code == 302
    assert client.post(f"{base}/evaluate/").status_code == 302
    refused = client.post(f"{base}/reject/", {"reason": ""})
    assert refused.status_code == 400 and "请填写决定理由" in text(refused)
    assert client.post(f"{base}/reject/", {"reason": "涉及个人隐私，用途不充分"}).status_code == 302
    application.refresh_from_db()
    assert application.state == State.REJECTED and application.decision_reason == "涉及个人隐私，用途不充分"
    shown = text(login(client, people["applicant"]).get(f"/applications/{application.number}/"))
    assert "涉及个人隐私，用途不充分" in shown


def test_illegal_or_foreign_actions_are_refused_without_a_500(client, apply, people):
    application = submitted(apply, people)
    base = f"/applications/{application.number}/act"
    login(client, people["applicant"])
    assert client.post(f"{base}/accept/").status_code == 403  # not the department
    assert client.post(f"{base}/explode/").status_code == 404
    assert client.get(f"{base}/withdraw/").status_code == 405
    login(client, people["reviewer"])
    refused = client.post(f"{base}/evaluate/")  # not accepted yet
    assert refused.status_code == 400 and "不能变更为" in text(refused)
    assert client.post(f"{base}/withdraw/").status_code == 403  # only the applicant withdraws
    assert client.post("/applications/NOPE/act/accept/").status_code == 404
    login(client, people["applicant"])
    assert client.post(f"{base}/withdraw/", {"reason": "不再需要"}).status_code == 302
    application.refresh_from_db()
    assert application.state == State.WITHDRAWN


def test_attachments_are_checked_and_downloaded_only_by_viewers(client, apply, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    application = apply()
    url = f"/applications/{application.number}/attachments/"
    login(client, people["applicant"])
    refused = client.post(url, {"attachment": SimpleUploadedFile("plan.exe", b"MZ....")})
    assert refused.status_code == 400 and "附件只接受 PDF" in text(refused)
    assert client.post(url, {}).status_code == 400
    fake = client.post(url, {"attachment": SimpleUploadedFile("plan.pdf", b"not a pdf")})
    assert fake.status_code == 400 and "附件内容与扩展名不符" in text(fake)
    assert client.post(url, {"attachment": SimpleUploadedFile("立项证明.pdf", PDF)}).status_code == 302
    attachment = application.attachments.get()
    download = client.get(f"/applications/{application.number}/attachments/{attachment.pk}/")
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Disposition"].startswith("attachment;") and download["Content-Type"] == "application/pdf"
    assert (
        login(client, people["other"])
        .get(f"/applications/{application.number}/attachments/{attachment.pk}/")
        .status_code
        == 403
    )
    assert client.post(url, {"attachment": SimpleUploadedFile("x.pdf", PDF)}).status_code == 403
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    login(client, people["reviewer"])
    assert client.get(f"/applications/{application.number}/attachments/{attachment.pk}/").status_code == 200
    assert client.get(f"/applications/{application.number}/attachments/99999/").status_code == 404


# --- agreement and key --------------------------------------------------------------------------------------------


def approved(apply, people):
    application = evaluating(apply, people)
    return services.application_decide(by=people["reviewer"], application=application, approve=True, reason="用途明确")


def test_sign_the_agreement_and_see_the_key_once(client, apply, people):
    application = approved(apply, people)
    url = f"/applications/{application.number}/agreement/"
    login(client, people["reviewer"])
    assert client.get(url).status_code == 403  # only the applicant signs
    login(client, people["applicant"])
    page = client.get(url)
    body = text(page)
    digest = hashlib.sha256(services.agreement_text(application).encode()).hexdigest()
    assert page.status_code == 200 and f'name="sha256" value="{digest}"' in body and application.number in body
    not_ticked = client.post(url, {"sha256": digest})
    assert not_ticked.status_code == 400 and "请勾选同意协议" in text(not_ticked)
    stale = client.post(url, {"sha256": "0" * 64, "accept": "on"})
    assert stale.status_code == 400 and "协议文本已更新" in text(stale)
    assert client.post(url, {"sha256": "not hex", "accept": "on"}).status_code == 400
    signed = client.post(url, {"sha256": digest, "accept": "on"})
    assert signed.status_code == 201
    secret = re.search(r'id="grant-key">(cd_[^<]+)<', text(signed)).group(1)
    assert f"Authorization: Bearer {secret}" in text(signed) and "/api/v1/datasets/power/records" in text(signed)
    grant = Grant.objects.get(application=application)
    assert grant.api_key.prefix in secret
    records = client.get("/api/v1/datasets/power/records", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert records.status_code == 200 and set(records.json()["items"][0]) == {"户号", "街道", "用电量"}
    # afterwards the agreement page shows what was signed, never the key again
    after = text(client.get(url))
    assert "已签署的开放利用协议" in after and secret not in after and digest in after
    assert secret not in text(client.get(f"/grants/{grant.pk}/"))
    assert client.post(url, {"sha256": digest, "accept": "on"}).status_code == 200  # shows the signed text
    case = text(client.get(f"/applications/{application.number}/"))
    assert f"/grants/{grant.pk}/" in case


def test_no_agreement_before_approval_and_none_without_a_template(client, apply, people):
    application = evaluating(apply, people)
    login(client, people["applicant"])
    assert client.get(f"/applications/{application.number}/agreement/").status_code == 400
    services.application_decide(by=people["reviewer"], application=application, approve=True, reason="可以")
    AgreementTemplate.objects.all().delete()
    page = client.get(f"/applications/{application.number}/agreement/")
    assert page.status_code == 400 and "尚未发布开放利用协议模板" in text(page)


# --- panels -----------------------------------------------------------------------------------------------------------


def test_operator_forms_a_panel_experts_vote_operator_closes(client, apply, people, user_with_role):
    application = evaluating(apply, people)
    first, second = people["experts"]
    url = f"/applications/{application.number}/panel/"
    assert login(client, people["reviewer"]).get(url).status_code == 403  # operators only
    login(client, people["operator"])
    form = client.get(url)
    assert form.status_code == 200 and str(first) in text(form)
    too_few = client.post(
        url, {"experts": [first.pk], "subject": "议题", "question": "是否可以开放户号", "workdays": 5}
    )
    assert too_few.status_code == 400 and "至少需要两名专家" in text(too_few)
    bad_days = client.post(
        url, {"experts": [first.pk, second.pk], "subject": "议题", "question": "问", "workdays": "x"}
    )
    assert bad_days.status_code == 400 and "议事期限应为1至30个工作日" in text(bad_days)
    outsider = people["other"]
    not_expert = client.post(
        url, {"experts": [first.pk, outsider.pk], "subject": "议", "question": "问", "workdays": 5}
    )
    assert not_expert.status_code == 400 and "只能从专家库中选择专家" in text(not_expert)
    created = client.post(
        url,
        {
            "experts": [first.pk, second.pk],
            "subject": "户号是否需要脱敏",
            "question": "户号可否原样提供？",
            "workdays": 5,
        },
    )
    panel = Panel.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/panels/{panel.pk}/"
    application.refresh_from_db()
    assert application.state == State.DELIBERATING

    # experts: the case, the question, their form; not each other's opinions before the close
    login(client, first)
    expert_home = text(client.get("/expert/"))
    assert f"/panels/{panel.pk}/" in expert_home and "户号是否需要脱敏" in expert_home
    page = text(client.get(f"/panels/{panel.pk}/"))
    assert "户号可否原样提供？" in page and "研究居民用电与气温的关系" in page and 'name="vote"' in page
    assert client.get(f"/applications/{application.number}/").status_code == 200  # the case itself
    refused = client.post(f"/panels/{panel.pk}/", {"form": "opinion", "vote": "maybe", "text": ""})
    assert refused.status_code == 400 and "请选择同意、不同意或弃权" in text(refused)
    assert (
        client.post(f"/panels/{panel.pk}/", {"form": "opinion", "vote": "approve", "text": "可原样提供"}).status_code
        == 302
    )
    assert client.post(f"/panels/{panel.pk}/", {"form": "close", "summary": "x"}).status_code == 403
    assert client.post(f"/panels/{panel.pk}/", {"form": "what"}).status_code == 400
    login(client, second)
    assert "可原样提供" not in text(client.get(f"/panels/{panel.pk}/"))
    assert (
        client.post(f"/panels/{panel.pk}/", {"form": "opinion", "vote": "reject", "text": "应先脱敏"}).status_code
        == 302
    )
    assert login(client, user_with_role("expert")).get(f"/panels/{panel.pk}/").status_code == 403
    assert login(client, people["applicant"]).get(f"/panels/{panel.pk}/").status_code == 403
    assert client.get("/panels/99999/").status_code == 404

    # the operator sees every opinion and closes with a summary
    login(client, people["operator"])
    page = text(client.get(f"/panels/{panel.pk}/"))
    assert "可原样提供" in page and "应先脱敏" in page and "2 / 2" in page
    assert client.post(f"/panels/{panel.pk}/", {"form": "close", "summary": ""}).status_code == 400
    assert (
        client.post(f"/panels/{panel.pk}/", {"form": "close", "summary": "意见分歧，建议脱敏后提供"}).status_code == 302
    )
    panel.refresh_from_db()
    application.refresh_from_db()
    assert panel.closed_at and panel.result == "abstain" and application.state == State.EVALUATING
    # after the close every opinion is on the record for the experts and the case
    for person in (first, people["reviewer"]):
        shown = text(login(client, person).get(f"/panels/{panel.pk}/"))
        assert "可原样提供" in shown and "应先脱敏" in shown and "意见分歧，建议脱敏后提供" in shown
    assert "应先脱敏" in text(client.get(f"/applications/{application.number}/"))
    assert "户号是否需要脱敏" not in text(login(client, first).get("/expert/"))  # no longer open


# --- grants ---------------------------------------------------------------------------------------------------------


def test_the_grant_page_for_holder_department_and_operator(client, granted, people, user_with_role):
    application, grant, _secret = granted
    GrantUsage.objects.create(grant=grant, day=timezone.localdate(), calls=7, rows=700, bytes=20480)
    for person in (people["applicant"], people["reviewer"], people["operator"]):
        page = login(client, person).get(f"/grants/{grant.pk}/")
        body = text(page)
        assert page.status_code == 200 and "户号、街道、用电量" in body and "700" in body and "20.0\xa0KB" in body
    holder = text(login(client, people["applicant"]).get(f"/grants/{grant.pk}/"))
    assert "report-form" in holder and "revoke-form" not in holder
    staff = text(login(client, people["reviewer"]).get(f"/grants/{grant.pk}/"))
    assert "revoke-form" in staff and "report-form" not in staff
    for outsider in (people["other"], user_with_role("provider", "WJW"), people["experts"][0]):
        assert login(client, outsider).get(f"/grants/{grant.pk}/").status_code == 403
    assert client.get("/grants/99999/").status_code == 404


def test_usage_reports_by_the_holder(client, granted, people):
    _application, grant, _secret = granted
    url = f"/grants/{grant.pk}/act/report/"
    login(client, people["applicant"])
    refused = client.post(url, {"built": "", "results": "论文一篇"})
    assert refused.status_code == 400 and "请填写开发利用情况" in text(refused) and "论文一篇" in text(refused)
    assert client.post(url, {"built": "用电预测模型", "results": "论文一篇", "incidents": ""}).status_code == 302
    page = text(client.get(f"/grants/{grant.pk}/"))
    assert "用电预测模型" in page
    assert login(client, people["reviewer"]).post(url, {"built": "x", "results": "y"}).status_code == 403


def test_department_manages_the_grant(client, granted, people):
    _application, grant, secret = granted
    act = f"/grants/{grant.pk}/act"
    assert login(client, people["applicant"]).post(f"{act}/revoke/", {"reason": "x"}).status_code == 403
    login(client, people["reviewer"])
    assert client.post(f"{act}/unknown/").status_code == 404
    assert client.get(f"{act}/suspend/").status_code == 405
    limits = client.post(f"{act}/limits/", {"rate_per_minute": "30", "daily_rows": "5000", "ip_allowlist": "bad ip"})
    assert limits.status_code == 400 and "不是有效的 IP 地址或网段" in text(limits)
    bad_number = client.post(f"{act}/limits/", {"rate_per_minute": "many", "daily_rows": "5000"})
    assert bad_number.status_code == 400 and "1 至 100000" in text(bad_number)
    ok = client.post(
        f"{act}/limits/", {"rate_per_minute": "30", "daily_rows": "5000", "ip_allowlist": "10.0.0.0/8\n\n192.168.1.1"}
    )
    assert ok.status_code == 302
    grant.refresh_from_db()
    assert (grant.rate_per_minute, grant.daily_rows, grant.ip_allowlist) == (30, 5000, ["10.0.0.0/8", "192.168.1.1/32"])
    assert client.post(f"{act}/suspend/", {"reason": ""}).status_code == 400
    assert client.post(f"{act}/suspend/", {"reason": "核查中"}).status_code == 302
    assert "resume-form" in text(client.get(f"/grants/{grant.pk}/"))
    assert client.post(f"{act}/resume/", {"reason": ""}).status_code == 302
    past = client.post(f"{act}/renew/", {"ends_on": "2001-01-01"})
    assert past.status_code == 400 and "续期后的结束日期应晚于原结束日期" in text(past)
    assert client.post(f"{act}/renew/", {"ends_on": "不是日期"}).status_code == 400
    later = grant.ends_on + dt.timedelta(days=30)
    assert client.post(f"{act}/renew/", {"ends_on": later.isoformat()}).status_code == 302
    assert client.post(f"{act}/revoke/", {"reason": ""}).status_code == 400
    assert client.post(f"{act}/revoke/", {"reason": "超范围使用"}).status_code == 302
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REVOKED and grant.ends_on == later
    assert client.post(f"{act}/revoke/", {"reason": "再次"}).status_code == 400
    client.logout()
    assert client.get("/api/v1/datasets/power/records", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_my_applications_and_grants(client, granted, apply, people):
    application, grant, _secret = granted
    draft = apply(fields=["月份"])
    login(client, people["applicant"])
    page = client.get("/applications/")
    body = text(page)
    assert page.status_code == 200 and application.number in body and draft.number in body
    assert f"/grants/{grant.pk}/" in body and "已授权" in body
    assert client.get("/applications/?cursor=%%%").status_code == 400
    assert draft.number not in text(login(client, people["other"]).get("/applications/"))


# --- the department's side ---------------------------------------------------------------------------------------


def test_the_queue_for_department_staff_and_operators(client, apply, people, user_with_role):
    waiting = submitted(apply, people)
    draft = apply()
    login(client, people["reviewer"])
    page = client.get("/workspace/applications/")
    body = text(page)
    assert page.status_code == 200 and waiting.number in body and draft.number not in body
    assert waiting.number in text(client.get("/workspace/applications/?state=submitted"))
    assert waiting.number not in text(client.get("/workspace/applications/?state=accepted"))
    assert waiting.number not in text(client.get("/workspace/applications/?overdue=on"))
    bad = client.get("/workspace/applications/?state=nonsense")
    assert bad.status_code == 400 and "请从列表中选择" in text(bad)
    assert client.get("/workspace/applications/?cursor=abc").status_code == 400
    assert waiting.number not in text(login(client, user_with_role("provider", "WJW")).get("/workspace/applications/"))
    assert waiting.number in text(login(client, people["operator"]).get("/workspace/applications/?department=FGW"))
    assert login(client, people["applicant"]).get("/workspace/applications/").status_code == 403
    with freeze_time(timezone.now() + dt.timedelta(days=20)):
        late = text(login(client, people["reviewer"]).get("/workspace/applications/?overdue=on"))
        assert waiting.number in late and "已超期" in late


def _at(day: str, hour: int = 10):
    return freeze_time(dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI))


def test_sla_figures_per_department(apply, people, user_with_role, conditional):
    """FGW receives three applications: one accepted after 2 working days, one after 6 (late: National Day
    is skipped, the make-up Saturday 10/10 counts), one still waiting past its deadline; one approval and one
    rejection with its reason. A draft is not received."""
    with _at("2026-09-28"):  # Monday
        quick = apply()
        services.application_submit(by=people["applicant"], application=quick, commitment=True)
        slow = apply()
        services.application_submit(by=people["applicant"], application=slow, commitment=True)
    with _at("2026-09-30"):
        services.application_accept(by=people["reviewer"], application=quick)  # 9/29, 9/30
    with _at("2026-10-12"):
        services.application_accept(by=people["reviewer"], application=slow)  # 9/29 9/30 10/8 10/9 10/10 10/12
        waiting = apply()
        services.application_submit(by=people["applicant"], application=waiting, commitment=True)
    for application, approve in ((quick, True), (slow, False)):
        services.application_evaluate(by=people["reviewer"], application=application)
        reason = "有合法用途" if approve else "用途不明确"
        services.application_decide(by=people["reviewer"], application=application, approve=approve, reason=reason)
    apply()
    with _at("2026-11-02"):
        rows, total = queries.sla(people["operator"])
    [row] = rows
    slow.refresh_from_db()
    assert row.department.code == "FGW" and slow.accepted_at > slow.accept_due
    assert (row.received, row.accepted, row.on_time, row.overdue_now) == (3, 2, 1, 1)
    assert sorted(row.days) == [2, 6] and row.average_days == 4.0 and row.max_days == 6
    assert row.rate == 66.7 and row.on_time_rate == 50.0
    assert (row.approved, row.rejected) == (1, 1) and [a.decision_reason for a in row.rejections] == ["用途不明确"]
    assert (total.received, total.accepted, total.overdue_now, total.max_days) == (3, 2, 1, 6)
    with _at("2026-11-02"):
        assert queries.sla(people["operator"], since=dt.date(2026, 10, 1))[1].received == 1
        # another department's staff see their own department only, with nothing received
        other_rows, other_total = queries.sla(user_with_role("provider", "WJW"))
        assert [r.department.code for r in other_rows] == ["WJW"] and other_total.received == 0
        assert other_rows[0].rate is None


def test_sla_page_for_operators_and_providers_only(client, apply, people):
    submitted(apply, people)
    page = login(client, people["operator"]).get("/manage/applications/sla/")
    body = text(page)
    assert page.status_code == 200 and "市发展和改革委员会" in body and "sla-total" in body
    assert login(client, people["reviewer"]).get("/manage/applications/sla/").status_code == 200
    bad = client.get("/manage/applications/sla/?since=2026-13-01")
    assert bad.status_code == 400 and "日期格式应为" in text(bad)
    reversed_period = client.get("/manage/applications/sla/?since=2026-10-02&until=2026-10-01")
    assert reversed_period.status_code == 400 and "结束日期不能早于开始日期" in text(reversed_period)
    for person in (people["applicant"], people["experts"][0]):
        assert login(client, person).get("/manage/applications/sla/").status_code == 403


# --- operators: templates and standing grants -----------------------------------------------------------------------


def test_operators_publish_agreement_templates(client, conditional, people):
    assert login(client, people["reviewer"]).get("/manage/agreements/").status_code == 403
    login(client, people["operator"])
    page = client.get("/manage/agreements/")
    assert page.status_code == 200 and "{daily_rows}" in text(page) and "开放利用协议" in text(page)
    bad = client.post("/manage/agreements/", {"title": "协议", "body": "编号 {number} {unknown}"})
    assert bad.status_code == 400 and "占位符有误" in text(bad)
    assert client.post("/manage/agreements/", {"title": "", "body": "x"}).status_code == 400
    assert (
        client.post(
            "/manage/agreements/", {"title": "开放利用协议（2026版）", "body": "编号 {number}，乙方 {applicant}"}
        ).status_code
        == 302
    )
    assert AgreementTemplate.objects.order_by("-version").first().version == 2


def test_operators_open_a_standing_grant_for_a_bank(client, conditional, people, user_with_role):
    bank = Organisation.objects.create(name="绵阳商业银行", uscc="91510700MA00000002", type="bank")
    member = user_with_role("registered")
    Membership.objects.create(organisation=bank, user=member)
    assert login(client, people["reviewer"]).get("/manage/grants/standing/").status_code == 403
    login(client, people["operator"])
    assert client.get("/manage/grants/standing/").status_code == 200
    assert client.get("/manage/grants/standing/?department=NOPE").status_code == 404
    url = "/manage/grants/standing/?department=FGW"
    form = client.get(url)
    assert form.status_code == 200 and 'value="power:户号"' in text(form)
    ends = (timezone.localdate() + dt.timedelta(days=365)).isoformat()
    base = {"organisation": bank.pk, "datasets": ["power"], "fields": ["power:户号", "power:用电量"], "ends_on": ends}
    outsider = client.post(url, {**base, "holder": people["other"].email})
    assert outsider.status_code == 400 and "被授权人必须是该组织的成员" in text(outsider)
    unknown = client.post(url, {**base, "holder": "nobody@example.cn"})
    assert unknown.status_code == 400 and "没有找到" in text(unknown)
    past = client.post(url, {**base, "holder": member.email, "ends_on": "2001-01-01"})
    assert past.status_code == 400 and "结束日期应晚于今天" in text(past)
    created = client.post(url, {**base, "holder": member.email})
    assert created.status_code == 201
    secret = re.search(r'id="grant-key">(cd_[^<]+)<', text(created)).group(1)
    grant = Grant.objects.get(standing=True)
    assert grant.holder == member and grant.organisation == bank
    records = client.get("/api/v1/datasets/power/records", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert set(records.json()["items"][0]) == {"户号", "用电量"}
    assert f"/grants/{grant.pk}/" in text(client.get("/manage/grants/standing/"))


# --- links into the workflow --------------------------------------------------------------------------------------


def test_links_into_the_workflow(client, conditional, people):
    detail = text(client.get("/datasets/power/"))
    assert "/applications/new/?dataset=power" in detail
    login(client, people["applicant"])
    assert 'href="/applications/"' in text(client.get("/"))
    console = text(login(client, people["operator"]).get("/console/"))
    for url in (
        "/workspace/applications/",
        "/manage/applications/sla/",
        "/manage/agreements/",
        "/manage/grants/standing/",
    ):
        assert url in console
    workspace = text(login(client, people["reviewer"]).get("/workspace/"))
    assert "/workspace/applications/" in workspace and "/manage/applications/sla/" in workspace


# --- guards -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/applications/",
        "/applications/new/",
        "/applications/SQ1/",
        "/panels/1/",
        "/grants/1/",
        "/workspace/applications/",
        "/manage/applications/sla/",
        "/manage/agreements/",
        "/manage/grants/standing/",
    ],
)
def test_every_page_asks_visitors_to_sign_in(client, db, url):
    answer = client.get(url)
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def test_a_far_future_start_is_refused(client, conditional, people):
    login(client, people["applicant"])
    refused = client.post(
        "/applications/new/?dataset=power", form_data(save="1", period_start="9999-12-30", period_end="9999-12-31")
    )
    assert refused.status_code == 400 and "使用开始日期不能晚于一年之后" in text(refused)


def _queries_for(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_do_not_grow_queries_with_rows(client, apply, people):
    submitted(apply, people)
    login(client, people["reviewer"])
    queue_few = _queries_for(client, "/workspace/applications/")
    mine_few = _queries_for(login(client, people["applicant"]), "/applications/")
    for _n in range(4):
        submitted(apply, people)
    assert _queries_for(login(client, people["reviewer"]), "/workspace/applications/") == queue_few
    assert _queries_for(login(client, people["applicant"]), "/applications/") == mine_few
