import json
import re
from pathlib import Path

import pytest
from django.core import mail

from citydata.accounts import services
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(make_user):
    user = make_user(display_name="开发者")
    key, secret = services.apikey_create(by=user, name="测试")
    return user, key, secret


def test_me_with_bearer_key(client, api_key):
    user, _, secret = api_key
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.pk and body["display_name"] == "开发者" and body["primary_role"] == "registered"


def test_me_with_x_api_key_header(client, api_key):
    _, _, secret = api_key
    assert client.get("/api/v1/me", headers={"X-API-Key": secret}).status_code == 200


def test_revoked_key_is_refused_with_the_error_shape(client, api_key):
    user, key, secret = api_key
    services.apikey_revoke(by=user, key=key)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_api_key", "message": response.json()["message"], "details": None}
    assert "API 密钥" in response.json()["message"]


def test_a_bad_key_is_refused_even_with_a_session(client, api_key):
    user, _, _ = api_key
    client.force_login(user, backend="citydata.accounts.backends.MobileOrEmailBackend")
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer cd_00000000_nope"}).status_code == 401


def test_error_messages_follow_accept_language(client):
    zh = client.get("/api/v1/me").json()["message"]
    en = client.get("/api/v1/me", headers={"Accept-Language": "en"}).json()["message"]
    assert re.search(r"[\u4e00-\u9fff]", zh)
    assert not re.search(r"[\u4e00-\u9fff]", en) and "API key" in en


def test_create_list_and_revoke_keys_through_the_api(client, api_key):
    _, _, secret = api_key
    auth = {"Authorization": f"Bearer {secret}"}
    created = client.post("/api/v1/me/api-keys", {"name": "第二个"}, content_type="application/json", headers=auth)
    assert created.status_code == 201 and created.json()["secret"].startswith("cd_")
    listed = client.get("/api/v1/me/api-keys?limit=1", headers=auth).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"] and "secret" not in listed["items"][0]
    rest = client.get(f"/api/v1/me/api-keys?limit=1&cursor={listed['next_cursor']}", headers=auth).json()
    assert rest["items"][0]["prefix"] != listed["items"][0]["prefix"] and rest["next_cursor"] is None
    revoked = client.delete(f"/api/v1/me/api-keys/{created.json()['prefix']}", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["active"] is False


def test_cannot_revoke_someone_elses_key(client, api_key, make_user):
    _, key, _ = api_key
    other = make_user()
    _, other_secret = services.apikey_create(by=other, name="别人的")
    response = client.delete(f"/api/v1/me/api-keys/{key.prefix}", headers={"Authorization": f"Bearer {other_secret}"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_validation_errors_have_the_shape(client, api_key):
    _, _, secret = api_key
    response = client.post(
        "/api/v1/me/api-keys",
        {"name": ""},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["details"][0]["field"] == "name"


def test_register_through_the_api():
    from django.test import Client

    client = Client()
    sent = client.post(
        "/api/v1/auth/codes", {"identifier": "api@example.cn", "purpose": "register"}, content_type="application/json"
    )
    assert sent.status_code == 202
    code = re.search(r"验证码是 (\d{6})", mail.outbox[-1].body).group(1)
    created = client.post(
        "/api/v1/auth/register",
        {"identifier": "api@example.cn", "code": code, "password": PASSWORD},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["login"] == "api@example.cn"
    again = client.post(
        "/api/v1/auth/codes", {"identifier": "api@example.cn", "purpose": "register"}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_registered"


MALFORMED_BODIES = [
    "",
    "not json",
    "[]",
    "null",
    '{"identifier": null}',
    '{"identifier": 12, "purpose": "register"}',
    '{"identifier": "' + "a" * 5000 + '", "purpose": "register"}',
    '{"identifier": "@", "purpose": "register"}',
    '{"identifier": "x@y", "purpose": "reset"}',
    '{"identifier": "\\u0000", "purpose": "register"}',
    '{"identifier": "13800000000", "purpose": "delete"}',
    '{"identifier": "a@b.cn", "code": "' + "9" * 50 + '", "password": "x"}',
    '{"identifier": "a@b.cn", "code": ["1"], "password": {"a": 1}}',
    '{"identifier": "13800000000", "code": "123456", "password": "' + "p" * 500 + '"}',
]


@pytest.mark.parametrize("path", ["/api/v1/auth/codes", "/api/v1/auth/register", "/api/v1/auth/password-reset"])
@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_malformed_auth_requests_get_a_4xx_not_a_500(client, path, body):
    response = client.post(path, body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"code", "message", "details"}


def test_openapi_document_matches_the_committed_copy(client):
    live = client.get("/api/v1/openapi.json").json()
    committed = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text())
    assert live == committed, "The API changed: run `make openapi` and commit docs/openapi.json"


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and b"openapi.json" in response.content


def test_unknown_paths_and_wrong_methods_keep_the_error_shape(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = client.put("/api/v1/health")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed" and "GET" in wrong["Allow"]


def test_nul_bytes_are_refused_not_crashing(client, api_key):
    _, _, secret = api_key
    auth = {"Authorization": f"Bearer {secret}"}
    body = client.post("/api/v1/me/api-keys", '{"name": "a\\u0000b"}', content_type="application/json", headers=auth)
    assert body.status_code == 422 and body.json()["code"] == "validation_error"
    path = client.delete("/api/v1/me/api-keys/a%00b", headers=auth)
    assert path.status_code == 400 and path.json()["code"] == "bad_request"


def test_oversized_body_is_a_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/api/v1/auth/codes", '{"identifier": "' + "a" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_session_writes_without_csrf_get_a_chinese_message(make_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(), backend="citydata.accounts.backends.MobileOrEmailBackend")
    response = client.post("/api/v1/me/api-keys", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert "CSRF 校验失败" in response.json()["message"]


def test_unparseable_body_message_is_translated(client):
    response = client.post("/api/v1/auth/codes", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_body"
    assert "JSON" in response.json()["message"] and "请求体" in response.json()["message"]
