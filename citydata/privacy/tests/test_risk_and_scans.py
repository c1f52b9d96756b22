"""k-anonymity blocks publication and the proposed generalisation reaches the threshold; the periodic scan opens
tasks for departments, notifies them and shows on the operator's dashboard."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from citydata.catalog import services as catalog_services
from citydata.catalog.models import DatasetField, Domain
from citydata.datastore import services as datastore
from citydata.datastore.models import DataVersion
from citydata.privacy import services
from citydata.privacy.models import PrivacyTask, ScanRun
from citydata.security.models import AuditEvent

pytestmark = pytest.mark.django_db
DISTRICTS = ["涪城区", "游仙区", "安州区", "三台县", "盐亭县"]


@pytest.fixture
def survey(department):
    return catalog_services.dataset_create(
        by=None,
        department=department("WJW"),
        slug="health-survey",
        data={
            "title": "绵阳市居民健康调查",
            "description": "居民健康状况抽样调查的汇总数据，按年更新。",
            "update_frequency": "yearly",
        },
        domains=[Domain.objects.get_or_create(code="health", defaults={"name": "医疗卫生", "is_priority": True})[0]],
    )


def survey_csv(n: int = 200) -> str:
    lines = ["年龄,性别,区县,诊断"]
    for i in range(n):
        lines.append(
            f"{20 + (i * 7) % 60},{'男' if i % 2 else '女'},{DISTRICTS[i % 5]},{['高血压', '糖尿病', '哮喘'][i % 3]}"
        )
    return "\n".join(lines) + "\n"


def upload(dataset, content: str):
    return datastore.version_upload(
        by=None, dataset=dataset, stream=io.BytesIO(content.encode()), filename="s.csv", run_now=True
    )


def test_a_version_below_k_cannot_be_published_and_the_proposal_reaches_the_threshold(
    client, survey, user_with_role, settings
):
    settings.PRIVACY_MIN_K = 5
    provider = user_with_role("provider", "WJW")
    version = upload(survey, survey_csv())
    assert version.status == "ready", version.error
    client.force_login(provider, backend="citydata.accounts.backends.MobileOrEmailBackend")
    gate = client.post(
        f"/api/v1/datasets/{survey.slug}/versions/1/privacy/risk",
        {"quasi_identifiers": ["年龄", "性别", "区县"], "sensitive": "诊断"},
        content_type="application/json",
    ).json()
    assert gate["k"] < 5 and gate["risk_blocked"] and gate["blocked"]
    assert gate["smallest_classes"][0]["count"] == gate["k"]
    assert gate["proposal"]["reached"] and gate["proposal"]["k"] >= 5
    assert {s["column"] for s in gate["proposal"]["steps"]} <= {"年龄", "性别", "区县"}
    assert all(s["strategy"] == "generalise" for s in gate["proposal"]["steps"])
    with pytest.raises(datastore.DomainError) as caught:
        datastore.version_publish(by=provider, version=version)
    assert caught.value.code == "privacy_blocked" and "k 匿名" in str(caught.value.message)

    page = client.get(f"/manage/datasets/{survey.slug}/data/v1/privacy/").content.decode()
    assert "建议泛化" in page and "执行建议泛化" in page
    assert client.post(f"/manage/datasets/{survey.slug}/data/v1/privacy/proposal/").status_code == 302
    after = client.get(f"/api/v1/datasets/{survey.slug}/versions/1/privacy").json()
    assert after["k"] >= 5 and after["l"] >= 2 and not after["blocked"]
    # measured independently on the stored file
    import duckdb

    from citydata.datastore.storage import get_storage

    version.refresh_from_db()
    path = get_storage().local_path(version.data_key)
    smallest = (
        duckdb.connect()
        .execute(f'SELECT min(n) FROM (SELECT count(*) n FROM \'{path}\' GROUP BY "年龄", "性别", "区县")')  # noqa: S608
        .fetchone()[0]
    )
    assert smallest == after["k"] >= 5
    datastore.version_publish(by=provider, version=version)
    assert AuditEvent.objects.filter(action="privacy.quasi_identifiers").exists()


def test_unreachable_threshold_is_said_plainly(survey, user_with_role, settings):
    settings.PRIVACY_MIN_K = 500
    version = upload(survey, survey_csv(20))
    privacy = services.quasi_identifiers_set(
        by=user_with_role("provider", "WJW"), version=version, columns=["年龄", "性别"]
    )
    assert privacy.proposal["reached"] is False


def test_periodic_scan_opens_a_task_notifies_the_department_and_shows_on_the_dashboard(client, survey, user_with_role):
    provider = user_with_role("provider", "WJW")
    version = upload(survey, "区县,联系人,电话\n涪城区,张伟,13812345678\n游仙区,王芳,13987654321\n")
    # the version went out before today's detectors knew better: simulate with the platform's own publish
    datastore.version_publish(by=None, version=version)
    DatasetField.objects.filter(dataset=survey).update(description="说明")
    catalog_services.dataset_publish(by=None, dataset=survey)
    run = services.scan_published()
    assert run.versions == 1 and run.with_findings == 1 and run.tasks_opened == 1
    task = PrivacyTask.objects.get()
    assert task.department.code == "WJW" and task.deadline > timezone.now() + dt.timedelta(days=4)
    assert {f["column"] for f in task.findings} == {"联系人", "电话"}
    assert "13812345678" not in str(task.findings) and "138****5678" in str(task.findings)
    assert provider.notifications.filter(subject__contains="个人信息").exists()
    again = services.scan_published()
    assert again.tasks_opened == 0 and PrivacyTask.objects.count() == 1  # the open task is refreshed

    client.force_login(provider, backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert "138****5678" in client.get("/manage/privacy/tasks/").content.decode()
    assert client.get("/manage/privacy/").status_code == 403
    refused = client.post(f"/manage/privacy/tasks/{task.pk}/resolve/", {"note": "已处理"})
    assert refused.status_code == 302 and PrivacyTask.objects.get().status == "open"  # still the current version

    operator = user_with_role("operator")
    client.force_login(operator, backend="citydata.accounts.backends.MobileOrEmailBackend")
    page = client.get("/manage/privacy/").content.decode()
    assert "测试部门WJW" in page and "<svg" in page
    data = client.get("/api/v1/privacy/dashboard").json()
    assert data["open"] == 1 and data["trend"][-1]["findings"] >= 2 and data["runs"][0]["tasks_opened"] == 0

    # the department publishes a masked version and closes the task
    fixed = upload(survey, "区县,联系人,电话\n涪城区,张*,138****5678\n")
    datastore.version_publish(by=provider, version=fixed)
    client.force_login(provider, backend="citydata.accounts.backends.MobileOrEmailBackend")
    client.post(f"/manage/privacy/tasks/{task.pk}/resolve/", {"note": "已发布脱敏后的第 2 版"})
    task.refresh_from_db()
    assert task.status == "resolved" and task.resolved_by == provider
    assert services.scan_published().with_findings == 0
    assert ScanRun.objects.count() == 3


def test_periodic_job_is_registered():
    from citydata.jobs.schedule import SCHEDULE

    assert "scan_published_versions" in SCHEDULE
    assert DataVersion  # keep the import for readers of this module
