import re
from pathlib import Path

import pytest

from citydata.config import SETTINGS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in page and "绵阳市公共数据开放平台" in page and "重点开放领域" in page


def test_platform_name_is_configurable(client, settings):
    settings.PLATFORM_NAME = "某某市公共数据开放平台"
    assert "某某市公共数据开放平台" in client.get("/").content.decode()


def test_english_is_a_complete_second_locale(client):
    page = client.get("/", headers={"Accept-Language": "en"}).content.decode()
    assert '<html lang="en">' in page and "Mianyang Public Data Open Platform" in page
    visible = re.sub(r"<[^>]+>", " ", page.split("<body", 1)[1])
    leftovers = [word for word in HAN.findall(visible)]
    assert "".join(leftovers) == "中文"  # only the language switch offering 中文


def test_language_switch_persists(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Register" in client.get("/").content.decode()


def test_chinese_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_chinese_500_page(client, settings):
    from django.test import RequestFactory

    from citydata.portal.views import error_500

    response = error_500(RequestFactory().get("/"))
    assert response.status_code == 500 and "服务器出错了" in response.content.decode()


def test_csrf_failure_page_is_chinese(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"identifier": "a@b.cn", "password": "x"})
    assert response.status_code == 403 and "页面已过期" in response.content.decode()


def test_security_headers_on_pages(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


def test_hsts_behind_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize(
    ("role", "paths"),
    [("visitor", ("/", "/login/", "/register/", "/password-reset/")), ("registered", ("/", "/account/"))],
)
def test_every_form_carries_a_csrf_token(client, client_for, role, paths):
    if role != "visitor":
        client = client_for(role)
    for path in paths:
        page = client.get(path).content.decode()
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, flags=re.S)
        assert forms, path
        assert all("csrfmiddlewaretoken" in form for form in forms), path


def test_care_mode_switches_on_and_off(client):
    client.post("/care/", {"on": "1", "next": "/"})
    assert 'class="care"' in client.get("/").content.decode()
    client.post("/care/", {"on": "0", "next": "/"})
    assert 'class="care"' not in client.get("/").content.decode()


def test_care_mode_refuses_offsite_redirects(client):
    response = client.post("/care/", {"on": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in doc]
    assert not missing, f"undocumented settings (run `make docs`): {missing}"
