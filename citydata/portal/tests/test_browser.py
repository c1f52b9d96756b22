"""End to end in real headless Chromium: register, log in, create an API key, call the API with it."""

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("CITYDATA_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def test_register_login_create_key_and_call_the_api(live_server, browser, shots, viewport):
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    email = f"browser-{viewport['width']}@example.cn"
    password = "Browser-pass-2026"
    label = "desktop" if viewport["width"] > 600 else "phone"

    page.goto(live_server.url + "/")
    assert "绵阳市公共数据开放平台" in page.title()
    page.screenshot(path=str(shots / f"{label}-home.png"), full_page=True)

    page.get_by_role("link", name="注册", exact=True).first.click()
    page.get_by_label("手机号或邮箱").fill(email)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/register/verify/")
    code = re.search(r"验证码是 (\d{6})", mail.outbox[-1].body).group(1)
    page.get_by_label("验证码").fill(code)
    page.get_by_label("昵称").fill("浏览器用户")
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("确认密码").fill(password)
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="完成注册").click()
    page.wait_for_url("**/account/")
    assert "注册成功" in page.content()

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(live_server.url + "/")
    page.get_by_role("link", name="登录", exact=True).first.click()
    page.get_by_label("手机号或邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/account/")
    page.screenshot(path=str(shots / f"{label}-account.png"), full_page=True)

    page.get_by_label("密钥名称").fill("浏览器测试")
    page.get_by_role("button", name="创建密钥").click()
    secret = page.locator("#api-key-secret").inner_text().strip()
    assert secret.startswith("cd_")
    page.screenshot(path=str(shots / f"{label}-key.png"), full_page=True)

    request = urllib.request.Request(  # noqa: S310 - the live test server over http
        live_server.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live test server
        me = json.loads(response.read())
    assert me["login"] == email and me["display_name"] == "浏览器用户"
    assert problems == []


def test_api_docs_page_renders_without_csp_errors(live_server, browser, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    page.screenshot(path=str(shots / "api-docs.png"))
    assert "CityData API" in page.content()
    assert problems == []
