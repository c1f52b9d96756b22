"""The feedback pages: the dataset page's section, posting through forms (with 400s and the reason), staff
answers from the pages, complaints with one-step take-down, data requests from an empty search, the dashboard
and the backlog."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citydata.catalog.models import Dataset
from citydata.engagement import services
from citydata.engagement.models import Comment, Complaint, DataRequest, ErrorReport, Rating
from citydata.search.models import SearchQuery

pytestmark = pytest.mark.django_db


def test_the_dataset_page_shows_ratings_comments_and_reports_escaped(client, dataset, make_user):
    citizen = make_user(display_name="周市民")
    services.rating_set(by=citizen, dataset=dataset, score=4, reason="好")
    services.comment_submit(by=citizen, dataset=dataset, body="<script>alert(1)</script>很好")
    services.error_report_submit(by=citizen, dataset=dataset, problem="第 3 行<b>错</b>")
    html = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert 'id="feedback"' in html and "4.0" in html and "1 人评分" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;很好" in html and "<script>alert(1)" not in html
    assert "第 3 行&lt;b&gt;错&lt;/b&gt;" in html and "待答复" in html
    assert "投诉举报" in html and "/requests/new/" in html
    assert citizen.email not in html  # authors appear by display name only


def test_the_feedback_section_costs_a_fixed_number_of_queries(client, dataset, make_user):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/datasets/{dataset.slug}/").status_code == 200
        return len(queries)

    services.comment_submit(by=make_user(), dataset=dataset, body="一")
    services.error_report_submit(by=make_user(), dataset=dataset, problem="一")
    before = count()
    for n in range(4):
        services.comment_submit(by=make_user(), dataset=dataset, body=f"评论 {n}")
        services.error_report_submit(by=make_user(), dataset=dataset, problem=f"错误 {n}")
        services.rating_set(by=make_user(), dataset=dataset, score=3)
    assert count() == before


def test_posting_a_comment_needs_a_login_and_answers_400_with_the_reason(client, client_for, dataset):
    url = f"/datasets/{dataset.slug}/feedback/comments/"
    response = client.post(url, {"body": "匿名评论"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    user = client_for("registered")
    refused = user.post(url, {"body": ""})
    assert refused.status_code == 400 and "请填写评论内容。" in refused.content.decode()
    refused = user.post(url, {"body": "长" * 1001})
    assert refused.status_code == 400 and "评论内容不超过 1000 个字。" in refused.content.decode()
    done = user.post(url, {"body": "很有用"})
    assert done.status_code == 302 and done["Location"].endswith(f"/datasets/{dataset.slug}/#feedback")
    assert Comment.objects.get().author == user.user


def test_rating_through_the_page_is_one_per_user_and_validated(client_for, dataset):
    user = client_for("registered")
    url = f"/datasets/{dataset.slug}/feedback/rating/"
    assert user.post(url, {"score": "9"}).status_code == 400
    assert user.post(url, {"score": "5", "reason": "完整"}).status_code == 302
    assert user.post(url, {"score": "3", "reason": "字段说明不足"}).status_code == 302
    rating = Rating.objects.get()
    assert (rating.score, rating.reason) == (3, "字段说明不足")
    html = user.get(url).content.decode()
    assert "修改我的评分" in html and "字段说明不足" in html


def test_an_error_report_from_the_page_is_answered_by_the_department_on_the_page(
    client, client_for, dataset, feedback_staff
):
    citizen = client_for("registered")
    url = f"/datasets/{dataset.slug}/feedback/reports/new/"
    form = citizen.get(url, {"field": "stops", "row": "第 3 行"})
    assert form.status_code == 200 and 'value="第 3 行"' in form.content.decode()
    refused = citizen.post(url, {"field_name": "nope", "problem": "x"})
    assert refused.status_code == 400 and "该数据集没有这个字段。" in refused.content.decode()
    response = citizen.post(url, {"field_name": "stops", "row_ref": "第 3 行", "problem": "站点数为负数"})
    report = ErrorReport.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/datasets/{dataset.slug}/feedback/reports/{report.pk}/"
    )
    detail = citizen.get(response["Location"]).content.decode()
    assert "站点数为负数" in detail and "答复纠错" not in detail
    answer_url = f"/datasets/{dataset.slug}/feedback/reports/{report.pk}/answer/"
    assert citizen.post(answer_url, {"decision": "confirm", "answer": "x"}).status_code == 403
    client.force_login(feedback_staff, backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert "答复纠错" in client.get(response["Location"]).content.decode()
    assert client.post(answer_url, {"decision": "confirm", "answer": ""}).status_code == 400
    assert client.post(answer_url, {"decision": "confirm", "answer": "属实，已安排修正"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "confirmed"
    client.logout()
    public = client.get(response["Location"]).content.decode()
    assert "属实，已安排修正" in public and "已确认，整改中" in public


def test_anyone_can_complain_and_staff_take_the_dataset_down_in_one_step(
    client, dataset, feedback_staff, user_with_role
):
    url = f"/datasets/{dataset.slug}/feedback/complaint/"
    refused = client.post(url, {"kind": "personal_data", "description": "第 5 行有身份证号"})
    assert refused.status_code == 400 and "请填写联系方式。" in refused.content.decode()
    response = client.post(url, {"kind": "personal_data", "description": "第 5 行有身份证号", "contact": "13800001234"})
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/complaints/{complaint.token}/"
    page = client.get(response["Location"]).content.decode()
    assert "第 5 行有身份证号" in page and "一键下线" not in page
    assert client.get("/complaints/wrong-token/").status_code == 404
    someone = user_with_role("registered")
    client.force_login(someone, backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert client.post(f"/complaints/{complaint.token}/take-down/").status_code == 403
    client.force_login(feedback_staff, backend="citydata.accounts.backends.MobileOrEmailBackend")
    page = client.get(response["Location"]).content.decode()
    assert "一键下线数据集" in page and "13800001234" in page
    assert client.post(f"/complaints/{complaint.token}/take-down/").status_code == 302
    assert Dataset.objects.get(pk=dataset.pk).status == "withdrawn"
    client.logout()
    assert client.get(f"/datasets/{dataset.slug}/").status_code == 404
    client.force_login(feedback_staff, backend="citydata.accounts.backends.MobileOrEmailBackend")
    resolve = f"/complaints/{complaint.token}/resolve/"
    assert client.post(resolve, {"decision": "maybe", "answer": "x"}).status_code == 400
    assert client.post(resolve, {"decision": "dismissed", "answer": "为单位电话"}).status_code == 302
    assert Dataset.objects.get(pk=dataset.pk).status == "published"


def test_an_empty_search_offers_a_prefilled_data_request(client, client_for, dataset):
    html = client.get("/datasets/", {"q": "火星基地气象"}).content.decode()
    assert "提交数据需求" in html and "/requests/new/?q=%E7%81%AB%E6%98%9F" in html
    user = client_for("registered")
    form = user.get("/requests/new/", {"q": "火星基地气象"}).content.decode()
    assert 'value="火星基地气象"' in form and "没有找到与“火星基地气象”相关的数据集" in form
    response = user.post("/requests/new/", {"title": "火星基地气象", "query": "火星基地气象", "purpose": "科普"})
    request = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    assert request.query == "火星基地气象" and request.requester == user.user
    assert "火星基地气象" in client.get("/requests/").content.decode()


def test_the_department_answers_a_request_on_its_page(client, client_for, make_dataset, feedback_staff, department):
    request = services.data_request_submit(
        by=client_for("registered").user, title="公交站点客流", department=department("JTJ")
    )
    client.force_login(feedback_staff, backend="citydata.accounts.backends.MobileOrEmailBackend")
    url = f"/requests/{request.pk}/"
    assert "答复需求" in client.get(url).content.decode()
    refused = client.post(f"{url}decline/", {"answer": "涉及安全", "legal_basis": ""})
    assert refused.status_code == 400 and "请填写不予开放依据。" in refused.content.decode()
    assert client.post(f"{url}fulfil/", {"dataset": "no-such"}).status_code == 400
    assert client.post(f"{url}route/", {"department": department("JTJ").pk}).status_code == 403
    assert client.post(f"{url}bogus/", {}).status_code == 404
    flows = make_dataset("绵阳市公交站点客流统计", slug="stop-flows")
    assert client.post(f"{url}fulfil/", {"dataset": flows.slug, "answer": ""}).status_code == 302
    request.refresh_from_db()
    assert request.status == "fulfilled" and request.dataset == flows
    client.logout()
    assert "绵阳市公交站点客流统计" in client.get(url).content.decode()
    listed = client.get("/requests/", {"status": "fulfilled"}).content.decode()
    assert "公交站点客流" in listed
    assert client.get("/requests/", {"status": "nonsense"}).status_code == 400


def test_the_requests_list_pages(client, make_user):
    user = make_user()
    for n in range(23):
        DataRequest.objects.create(requester=user, title=f"需求 {n:02d}")
    first = client.get("/requests/")
    html = first.content.decode()
    assert "需求 22" in html and "需求 02" not in html and "cursor=" in html
    cursor = first.context["page"].next_cursor
    second = client.get("/requests/", {"cursor": cursor}).content.decode()
    assert "需求 02" in second and "需求 22" not in second


def test_the_dashboard_shows_reply_rates_by_department_and_scopes_providers(
    client, dataset, make_dataset, make_user, feedback_staff, user_with_role
):
    wjw_data = make_dataset("绵阳市医疗机构名录", dept="WJW", slug="hospitals")
    answered = services.error_report_submit(by=make_user(), dataset=dataset, problem="一")
    services.error_report_answer(by=feedback_staff, report=answered, confirmed=False, answer="无误")
    services.error_report_submit(by=make_user(), dataset=dataset, problem="二")
    overdue = services.error_report_submit(by=make_user(), dataset=wjw_data, problem="三")
    ErrorReport.objects.filter(pk=overdue.pk).update(due_at=overdue.created_at)
    operator = user_with_role("operator")
    client.force_login(operator, backend="citydata.accounts.backends.MobileOrEmailBackend")
    page = client.get("/manage/feedback/")
    assert page.status_code == 200
    rows = {r.key: r for r in page.context["rows"]}
    assert (rows["JTJ"].received, rows["JTJ"].answered, rows["JTJ"].reply_rate) == (2, 1, 50)
    assert rows["WJW"].overdue_open == 1
    html = page.content.decode()
    assert "已超期未答复" in html and "绵阳市医疗机构名录" in html
    client.force_login(feedback_staff, backend="citydata.accounts.backends.MobileOrEmailBackend")
    own = client.get("/manage/feedback/")
    assert [r.key for r in own.context["rows"]] == ["JTJ"]
    assert client.get("/manage/feedback/", {"department": "WJW"}).status_code == 403
    assert client.get("/manage/feedback/reports/").status_code == 200
    assert "绵阳市医疗机构名录" not in client.get("/manage/feedback/reports/", {"status": "all"}).content.decode()
    client.force_login(make_user(), backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert client.get("/manage/feedback/").status_code == 403


def test_operators_moderate_comments_in_the_queue(client, dataset, make_user, user_with_role):
    operator = user_with_role("operator")
    services.moderation_mode_set(by=operator, mode="pre")
    comment = services.comment_submit(by=make_user(), dataset=dataset, body="待审核")
    client.force_login(operator, backend="citydata.accounts.backends.MobileOrEmailBackend")
    queue = client.get("/manage/feedback/comments/").content.decode()
    assert "待审核" in queue
    assert client.post(f"/manage/feedback/comments/{comment.pk}/hide/", {"reason": ""}).status_code == 400
    assert client.post(f"/manage/feedback/comments/{comment.pk}/approve/").status_code == 302
    assert Comment.objects.get().status == "published"
    assert client.post(f"/manage/feedback/comments/{comment.pk}/hide/", {"reason": "离题"}).status_code == 302
    client.logout()
    html = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert "该评论已被屏蔽：离题" in html


def test_operators_turn_zero_result_queries_into_backlog_entries(client, client_for, user_with_role):
    for _ in range(3):
        SearchQuery.objects.create(text="共享单车停放点", results=0)
    SearchQuery.objects.create(text="公交", results=12)
    assert client_for("provider", "JTJ").get("/manage/feedback/backlog/").status_code == 403
    operator = user_with_role("operator")
    client.force_login(operator, backend="citydata.accounts.backends.MobileOrEmailBackend")
    html = client.get("/manage/feedback/backlog/").content.decode()
    assert "共享单车停放点" in html and ">公交<" not in html
    assert client.post("/manage/feedback/backlog/", {"query": "共享单车停放点", "searches": "3"}).status_code == 302
    entry = DataRequest.objects.get()
    assert (entry.source, entry.search_count, entry.requester) == ("search", 3, None)
    assert f"/requests/{entry.pk}/" in client.get("/manage/feedback/backlog/").content.decode()


def test_suggestions_are_public_once_answered(client, client_for, user_with_role):
    author = client_for("registered")
    assert author.post("/suggestions/", {"title": "", "body": "x"}).status_code == 400
    assert author.post("/suggestions/", {"title": "夜间模式", "body": "希望增加夜间模式"}).status_code == 302
    suggestion = author.user.suggestions.get()
    author.logout()
    assert client.get(f"/suggestions/{suggestion.pk}/").status_code == 404
    services.suggestion_answer(by=user_with_role("operator"), suggestion=suggestion, answer="已列入计划")
    assert "已列入计划" in client.get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert "夜间模式" in client.get("/suggestions/").content.decode()
