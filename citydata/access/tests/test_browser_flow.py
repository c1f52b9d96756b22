"""The acceptance test of issue 7: the full flow, from application to data download through the grant's key, in
headless Chromium with an applicant, a provider, an operator and two experts, each signed in through the real
login form in a browser context of their own."""

import csv
import io
import os
import re
import urllib.request
from pathlib import Path

import pytest

from citydata.access.models import Application, Grant, Panel, State
from conftest import PASSWORD


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: CITYDATA_SCREENSHOTS to keep them, else the test's own folder."""
    folder = Path(os.environ.get("CITYDATA_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser, base: str, user, **context_options):
    context = browser.new_context(locale="zh-CN", **context_options)
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("input[name=identifier]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_full_flow_from_application_to_download_with_the_grant_key(live_server, browser, shots, conditional, people):
    from playwright.sync_api import expect

    base = live_server.url
    first, second = people["experts"]

    # The applicant finds the dataset, applies for three of its five fields and submits.
    applicant = signed_in(browser, base, people["applicant"], viewport={"width": 390, "height": 844})
    applicant.goto(base + "/datasets/power/")
    applicant.click("#apply-online")
    applicant.wait_for_url("**/applications/new/?dataset=power")
    applicant.screenshot(path=str(shots / "access-apply-390.png"), full_page=True)
    assert applicant.evaluate("document.documentElement.scrollWidth") <= 390
    expect(applicant.locator("input[name=datasets][value=power]")).to_be_checked()
    for field in ("户号", "街道", "用电量"):
        applicant.check(f"input[name=fields][value='power:{field}']")
    applicant.fill("#id_purpose", "研究居民用电与气温的关系")
    applicant.fill("#id_scenario", "高校课题组建模分析")
    applicant.fill("#id_expected_volume", "每日不超过 1 万行")
    applicant.fill("#id_security_measures", "专人专机，数据不出内网")
    applicant.click("button[name=submit]")  # without the commitment: refused in place, nothing lost
    expect(applicant.locator("#id_commitment_errors")).to_contain_text("数据安全承诺书")
    expect(applicant.locator("#id_purpose")).to_have_value("研究居民用电与气温的关系")
    expect(applicant.locator("input[name=fields][value='power:街道']")).to_be_checked()
    applicant.check("#id_commitment")
    applicant.click("button[name=submit]")
    applicant.wait_for_url(re.compile(r"/applications/SQ\d+/$"))
    number = applicant.url.rstrip("/").rsplit("/", 1)[-1]
    expect(applicant.locator(".messages .msg.success")).to_contain_text("已提交")
    expect(applicant.locator("#clock")).to_contain_text("剩余")

    # The case page on a 390-pixel phone: nothing wider than the screen.
    applicant.screenshot(path=str(shots / "access-application-390.png"), full_page=True)
    assert applicant.evaluate("document.documentElement.scrollWidth") <= 390

    # The provider accepts it and starts the evaluation.
    provider = signed_in(browser, base, people["reviewer"])
    provider.goto(f"{base}/workspace/applications/")
    provider.click(f"text={number}")
    provider.click("#act-accept button")
    expect(provider.locator(".messages .msg.success")).to_contain_text("已受理")
    provider.click("#act-evaluate button")
    expect(provider.locator(".messages .msg.success")).to_contain_text("已开始评估")

    # The operator puts a question to two experts.
    operator = signed_in(browser, base, people["operator"])
    operator.goto(f"{base}/applications/{number}/")
    operator.click("text=提交专家议事")
    operator.check(f"input[name=experts][value='{first.pk}']")
    operator.check(f"input[name=experts][value='{second.pk}']")
    operator.fill("#id_question", "户号能否原样提供？")
    operator.click("#panel-form button[type=submit]")
    operator.wait_for_url(re.compile(r"/panels/\d+/$"))
    panel_url = operator.url

    # Each expert finds the panel on their workbench, reads the case and votes.
    for expert, vote, opinion in ((first, "approve", "用途明确，可以提供"), (second, "approve", "建议限定使用期限")):
        page = signed_in(browser, base, expert, viewport={"width": 390, "height": 844})
        page.goto(base + "/expert/")
        page.click("#open-panels a")
        expect(page.locator("#case")).to_contain_text("户号能否原样提供？")
        expect(page.locator("#case")).to_contain_text("研究居民用电与气温的关系")
        page.screenshot(path=str(shots / "access-panel-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.check(f"input[name=vote][value={vote}]")
        page.fill("#id_text", opinion)
        page.click("#opinion-form button[type=submit]")
        expect(page.locator(".messages .msg.success")).to_contain_text("意见已提交")
        page.context.close()

    # The operator reads both opinions and closes the panel.
    operator.goto(panel_url)
    expect(operator.locator("#opinions")).to_contain_text("建议限定使用期限")
    operator.fill("#id_summary", "一致同意提供")
    operator.click("#close-form button[type=submit]")
    expect(operator.locator("#result")).to_contain_text("同意")
    assert Panel.objects.get().result == "approve"

    # The provider approves with a reason.
    provider.goto(f"{base}/applications/{number}/")
    provider.click("details:has(#act-approve) > summary")
    provider.fill("#act-approve textarea[name=reason]", "用途明确，专家同意")
    provider.click("#act-approve button[type=submit]")
    expect(provider.locator(".messages .msg.success")).to_contain_text("已批准")

    # The applicant signs the agreement and reads the key, shown once.
    applicant.goto(f"{base}/applications/{number}/")
    expect(applicant.locator("#decision")).to_contain_text("用途明确，专家同意")
    applicant.click("text=阅读并签署开放利用协议")
    expect(applicant.locator("#agreement-text")).to_contain_text(number)
    applicant.check("#id_accept")
    applicant.click("#sign-form button[type=submit]")
    secret = applicant.locator("#grant-key").inner_text().strip()
    assert secret.startswith("cd_")
    expect(applicant.locator("pre.code").first).to_contain_text(f"Authorization: Bearer {secret}")
    applicant.screenshot(path=str(shots / "access-key-390.png"), full_page=True)
    applicant.click("#to-grant")
    expect(applicant.locator("#scope")).to_contain_text("户号、街道、用电量")
    applicant.screenshot(path=str(shots / "access-grant-390.png"), full_page=True)
    assert applicant.evaluate("document.documentElement.scrollWidth") <= 390
    assert secret not in applicant.content()
    assert Application.objects.get(number=number).state == State.GRANTED

    # The data, downloaded with the key over HTTP: the granted columns and nothing else.
    url = f"{base}/api/v1/datasets/power/records?_format=csv"
    assert url.startswith("http://")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the live test server
        rows = list(csv.reader(io.StringIO(answer.read().decode("utf-8-sig"))))
    assert rows[0] == ["户号", "街道", "用电量"] and len(rows) == 31
    assert "居民" not in str(rows)  # 户名 never leaves
    grant = Grant.objects.get(application__number=number)
    assert grant.usage.get().rows == 30

    # The usage shows on the grant page for the provider too.
    provider.goto(f"{base}/grants/{grant.pk}/")
    expect(provider.locator("#usage")).to_contain_text("30")
