"""The operators' quality dashboard in headless Chromium on a phone-sized screen."""

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_starts_a_run_and_reads_its_report_on_a_phone(live_server, browser, make_dataset, user_with_role):
    from playwright.sync_api import expect

    from citydata.catalog.models import Dataset
    from citydata.quality import services
    from citydata.quality.models import InspectionRun

    dataset = make_dataset(contact_name="")
    Dataset.objects.filter(pk=dataset.pk).update(
        update_frequency="daily", last_data_update=timezone.now() - dt.timedelta(days=9)
    )
    operator = user_with_role("operator")
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=identifier]", operator.email)
    page.fill("input[name=password]", "Test-pass-2026")
    page.click("button[type=submit].primary")
    page.goto(live_server.url + "/manage/quality/")
    expect(page.locator("h1")).to_have_text("数据质量")
    page.click("text=发起巡查")
    page.select_option("select[name=scope]", "all")
    page.click("button:text('开始巡查')")
    expect(page.locator("#run-status")).to_have_text("排队中")  # the worker has not picked it up yet
    run = InspectionRun.objects.get()
    services.run_execute(run_id=run.pk)  # what the worker does
    page.reload()
    expect(page.locator("#run-status")).to_have_text("已完成")
    expect(page.locator("#report-JTJ")).to_be_visible()
    page.goto(live_server.url + "/manage/quality/")
    expect(page.locator("#dept-JTJ")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
