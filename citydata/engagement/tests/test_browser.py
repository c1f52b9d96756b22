"""In headless Chromium on a phone-sized screen: log in, open a dataset, report an error from its page, and
see the report with its deadline; no console or CSP errors, nothing wider than the screen."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_posting_an_error_report_on_a_phone(live_server, browser, dataset, make_user):
    from citydata.engagement.models import ErrorReport

    user = make_user(email="phone@example.cn", display_name="手机用户")
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/login/?next=/datasets/{dataset.slug}/")
    page.get_by_label("手机号或邮箱").fill(user.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/datasets/{dataset.slug}/")

    page.locator("#feedback").scroll_into_view_if_needed()
    page.get_by_role("link", name="我要纠错").click()
    page.wait_for_url("**/feedback/reports/new/")
    page.get_by_role("button", name="提交纠错").click()  # empty: refused with the reason, nothing stored
    page.wait_for_selector("#id_problem_errors")
    assert "请填写问题描述。" in page.locator("#id_problem_errors").inner_text()

    page.get_by_label("有问题的字段").select_option("stops")
    page.get_by_label("行或记录").fill("第 3 行")
    page.get_by_label("问题描述").fill("站点数是负数：-5")
    page.get_by_role("button", name="提交纠错").click()
    page.wait_for_selector("#report-status")
    report = ErrorReport.objects.get()
    assert page.url.endswith(f"/datasets/{dataset.slug}/feedback/reports/{report.pk}/")
    text = page.locator("main").inner_text()
    assert "站点数是负数：-5" in text and "待答复" in text and "纠错已提交" in text
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    assert (report.field_name, report.row_ref, report.reporter_id) == ("stops", "第 3 行", user.pk)
    # The refused empty form answers 400 on purpose; anything else in the console is a fault.
    assert [p for p in problems if "status of 400" not in p] == []
