"""The gate page in Chromium: a provider sees the blocked version, applies the suggested plan and publishes."""

from __future__ import annotations

import pytest

from citydata.datastore.models import DataVersion
from citydata.privacy.tests.test_gate import health_rows, upload


@pytest.mark.django_db(transaction=True)
def test_provider_masks_and_publishes_from_the_gate_page(live_server, browser, user_with_role, department):
    from citydata.catalog import services as catalog_services
    from citydata.catalog.models import Domain

    dataset = catalog_services.dataset_create(
        by=None,
        department=department("WJW"),
        slug="clinic-visits",
        data={
            "title": "绵阳市门诊就诊记录",
            "description": "全市门诊就诊记录，按月更新。",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get_or_create(code="health", defaults={"name": "医疗卫生", "is_priority": True})[0]],
    )
    content, raw = health_rows(12)
    upload(dataset, content)
    user = user_with_role("provider", "WJW")
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})  # a phone
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/login/")
    page.fill("input[name=identifier]", user.email)
    page.fill("input[name=password]", "Test-pass-2026")
    page.click("button[type=submit].primary")
    page.goto(live_server.url + "/manage/datasets/clinic-visits/data/v1/")
    page.click("text=隐私检查与脱敏")
    page.wait_for_selector("[data-gate=blocked]")
    html = page.content()
    assert "身份证号" in html and not [v for v in raw if v in html]
    page.click("#apply-suggested")
    page.wait_for_selector("[data-gate=clear]")
    page.click("#gate button.primary")  # 发布为当前版本
    page.wait_for_url("**/data/")
    assert DataVersion.objects.get(dataset=dataset).is_current
    assert not [e for e in errors if "Content Security Policy" in e]
