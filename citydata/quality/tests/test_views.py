"""The quality pages: who sees what, forms that validate, lists that page, the fix-and-recheck flow."""

import datetime as dt

import pytest
from django.utils import timezone

from citydata.catalog.models import Dataset
from citydata.quality import services
from citydata.quality.models import InspectionRun, InspectionSchedule, RectificationTask

pytestmark = pytest.mark.django_db


def _stale(dataset):
    Dataset.objects.filter(pk=dataset.pk).update(
        update_frequency="daily", last_data_update=timezone.now() - dt.timedelta(days=9)
    )


def test_operator_dashboard_shows_findings_by_department(client_for, make_dataset):
    dataset = make_dataset(contact_name="")
    _stale(dataset)
    services.run_start(by=None, run_now=True)
    client = client_for("operator")
    page = client.get("/manage/quality/").content.decode()
    assert 'id="dept-JTJ"' in page and "按时更新率" in page and 'id="city-score"' in page
    assert client.get("/manage/quality/departments/JTJ/").status_code == 200


def test_department_staff_see_only_their_own(client_for, make_dataset, department):
    make_dataset()
    department("WJW")
    provider = client_for("provider", "JTJ")
    response = provider.get("/manage/quality/")
    assert response.status_code == 302 and response["Location"] == "/manage/quality/departments/JTJ/"
    assert provider.get("/manage/quality/departments/JTJ/").status_code == 200
    assert provider.get("/manage/quality/departments/WJW/").status_code == 403
    assert provider.get("/manage/quality/runs/").status_code == 403
    assert client_for("registered").get("/manage/quality/").status_code == 403


def test_starting_a_run_from_the_page_validates_the_scope(client_for, make_dataset):
    make_dataset()
    client = client_for("operator")
    response = client.post("/manage/quality/runs/", {"scope": "department", "create_tasks": "on"})
    assert response.status_code == 400 and "按部门巡查时请选择部门" in response.content.decode()
    response = client.post("/manage/quality/runs/", {"scope": "bogus"})
    assert response.status_code == 400 and "请选择巡查范围" in response.content.decode()
    response = client.post("/manage/quality/runs/", {"scope": "department", "department": "JTJ", "create_tasks": "on"})
    run = InspectionRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/manage/quality/runs/{run.pk}/"
    services.run_execute(run_id=run.pk)  # what the worker does
    page = client.get(f"/manage/quality/runs/{run.pk}/").content.decode()
    assert "已完成" in page and "按部门汇总" in page


def test_run_report_pages_its_findings(client_for, make_dataset):
    for n in range(3):
        make_dataset(f"绵阳市公交第{n}号线路表", contact_name="", csv=f"线路,站点数,开通日期\n{n}路,3,2015-01-01\n")
    run = services.run_start(by=None, run_now=True)
    client = client_for("operator")
    first = client.get(f"/manage/quality/runs/{run.pk}/?limit=2")
    assert first.status_code == 200 and "cursor=" in first.content.decode()
    assert 'id="report-JTJ"' in first.content.decode()
    assert client.get(f"/manage/quality/runs/{run.pk}/?cursor=%%%").status_code == 400


def test_schedules_page(client_for):
    client = client_for("operator")
    response = client.post("/manage/quality/schedules/", {"name": "", "scope": "all", "cadence": "weekly"})
    assert response.status_code == 400 and "请填写计划名称" in response.content.decode()
    response = client.post(
        "/manage/quality/schedules/",
        {"name": "每周巡查", "scope": "all", "cadence": "weekly", "first_run_at": "2026-13-01"},
    )
    assert response.status_code == 400 and "时间格式" in response.content.decode()
    response = client.post("/manage/quality/schedules/", {"name": "每周巡查", "scope": "all", "cadence": "weekly"})
    assert response.status_code == 302
    schedule = InspectionSchedule.objects.get()
    assert "每周巡查" in client.get("/manage/quality/schedules/").content.decode()
    assert client.post(f"/manage/quality/schedules/{schedule.pk}/delete/").status_code == 302
    assert not InspectionSchedule.objects.exists()


def test_a_department_fixes_a_task_from_the_page(client_for, make_dataset):
    dataset = make_dataset(csv="线路,站点数,开通日期\n1路,3,2015-01-01\n")
    services.run_start(by=None, run_now=True)
    task = RectificationTask.objects.get(check_code="content.capacity")
    assert client_for("provider", "WJW").get(f"/manage/quality/tasks/{task.pk}/").status_code == 404
    client = client_for("provider", "JTJ")
    listing = client.get("/manage/quality/tasks/?status=open").content.decode()
    assert task.title in listing
    assert client.get("/manage/quality/tasks/?limit=1&status=open").status_code == 200
    response = client.post(f"/manage/quality/tasks/{task.pk}/", {"action": "fixed", "note": "x" * 2001})
    assert response.status_code == 400 and "2000" in response.content.decode()
    response = client.post(f"/manage/quality/tasks/{task.pk}/", {"action": "fixed", "note": "已补充"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "rejected"
    assert "复核未通过" in client.get(f"/manage/quality/tasks/{task.pk}/").content.decode()
    assert client.get(f"/datasets/{dataset.slug}/quality/").status_code == 200


def test_the_public_quality_page_works_for_visitors_and_hides_tasks(client, make_dataset):
    dataset = make_dataset(contact_name="")
    page = client.get(f"/datasets/{dataset.slug}/quality/").content.decode()
    assert "联系方式" in page and 'id="tasks"' not in page
    assert client.get("/datasets/nope/quality/").status_code == 404


def test_task_list_queries_do_not_grow_with_the_page(client_for, make_dataset, django_assert_max_num_queries):
    from citydata.quality.models import RectificationTask

    for n in range(3):
        make_dataset(f"绵阳市公交第{n}号线路表", csv=f"线路,站点数,开通日期\n{n}路,3,2015-01-01\n")
    services.run_start(by=None, run_now=True)
    assert RectificationTask.objects.count() >= 3
    client = client_for("operator")
    client.get("/manage/quality/tasks/?limit=1")  # warm the session and permission caches
    with django_assert_max_num_queries(12) as few:
        client.get("/manage/quality/tasks/?limit=1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/manage/quality/tasks/?limit=100")


def test_a_task_post_without_a_known_action_is_a_400(client_for, make_dataset):
    dataset = make_dataset("绵阳市公交站点信息", csv="线路,站点数,开通日期\n1路,3,2015-01-01\n")  # too few rows
    services.run_start(by=None, scope="all", run_now=True)
    task = RectificationTask.objects.filter(dataset=dataset).first()
    assert task is not None
    client = client_for("operator")
    for data in ({}, {"action": "nonsense"}):
        answer = client.post(f"/manage/quality/tasks/{task.pk}/", data)
        assert answer.status_code == 400 and "请求无效" in answer.content.decode()
