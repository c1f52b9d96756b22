"""The back-office data pages: upload, follow, publish, discard; and the browser follows an ingest to its end."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citydata.datastore.models import DataVersion

pytestmark = pytest.mark.django_db


def test_upload_page_queues_an_ingest_and_the_version_page_reports_it(client_for, dataset, settings):
    client = client_for("provider", "JTJ")
    page = client.get("/manage/datasets/bus/data/")
    assert page.status_code == 200 and "上传新版本" in page.content.decode()
    response = client.post(
        "/manage/datasets/bus/data/",
        {
            "file": SimpleUploadedFile("公交.csv", "线路,速度\n1路,30\n2路,x,1\n".encode("gbk")),
            "bad_rows": "quarantine",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("/data/v1/")
    version = DataVersion.objects.get(dataset=dataset)
    assert version.status == "queued"  # the worker picks it up
    status = client.get("/manage/datasets/bus/data/v1/status/").json()
    assert status == {"status": "queued", "status_label": "排队中", "phase": "", "progress": 0, "done": False}
    from citydata.datastore import ingest

    ingest.run(version.pk)
    report = client.get("/manage/datasets/bus/data/v1/").content.decode()
    assert "第 3 行" in report and "列数过多" in report and "gb18030" in report
    assert client.post("/manage/datasets/bus/data/v1/publish/").status_code == 302
    version.refresh_from_db()
    assert version.is_current
    assert client.post("/manage/datasets/bus/data/v1/discard/").status_code == 409  # the current one stays
    wrong = client.post(
        "/manage/datasets/bus/data/", {"file": SimpleUploadedFile("a.pdf", b"%PDF"), "bad_rows": "reject"}
    )
    assert wrong.status_code == 400 and "不支持的文件类型" in wrong.content.decode()
    assert client_for("provider", "WJW").get("/manage/datasets/bus/data/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_browser_follows_an_ingest_until_it_is_ready(live_server, browser, dataset, user_with_role, tmp_path):
    user = user_with_role("provider", "JTJ")
    source = tmp_path / "bus.csv"
    source.write_text("线路,速度\n" + "".join(f"{i}路,{i % 60}\n" for i in range(2000)), encoding="utf-8")
    page = browser.new_page(locale="zh-CN")
    page.goto(live_server.url + "/login/")
    page.fill("input[name=identifier]", user.email)
    page.fill("input[name=password]", "Test-pass-2026")
    page.click("button[type=submit].primary")
    page.goto(live_server.url + "/manage/datasets/bus/data/")
    page.set_input_files("input[type=file]", str(source))
    page.click("button[type=submit].primary")
    page.wait_for_url("**/data/v1/")
    assert page.locator("[data-status]").inner_text() == "排队中"
    from citydata.datastore import ingest

    ingest.run(DataVersion.objects.get(dataset=dataset).pk)  # what the worker does
    page.wait_for_selector("text=发布为当前版本", timeout=15000)  # the page noticed by itself
    assert "2000" in page.content()
    page.click("text=发布为当前版本")
    page.wait_for_url("**/data/")
    assert "当前" in page.content()
    assert DataVersion.objects.get(dataset=dataset).is_current


@pytest.mark.django_db(transaction=True)
def test_data_page_sorts_filters_and_pages_in_place_with_htmx(live_server, browser, published):
    from playwright.sync_api import expect

    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/datasets/bus/data/")
    page.evaluate("window.__stayed = true")  # survives only if the page is never reloaded
    first_cell = "#data-view table.data-table tbody tr:first-child td:nth-child(3)"
    page.click("#data-view th a:text('速度')")  # sort ascending by speed
    page.wait_for_url("**_sort=%E9%80%9F%E5%BA%A6**")
    expect(page.locator(first_cell)).to_have_text("0.5")
    page.click("#data-view th a:text('速度')")  # again: descending
    expect(page.locator(first_cell)).to_have_text("57.5")
    page.select_option("#fcol", "线路")
    page.fill("#fval", "2路")
    page.click("#data-view form.filters button[type=submit]")
    page.wait_for_selector("#data-view .tag")
    assert "线路 = 2路" in page.inner_text("#data-view")
    assert "_fcol" not in page.url and "%E7%BA%BF%E8%B7%AF=2%E8%B7%AF" in page.url  # the redirected address
    # the downloads follow the filter, and a bad filter shows its message in place
    assert "%E7%BA%BF%E8%B7%AF=2%E8%B7%AF" in page.get_attribute("#data-view a.button.secondary", "href")
    page.select_option("#fcol", "载客")
    page.select_option("#fop", "gt")
    page.fill("#fval", "many")
    page.click("#data-view form.filters button[type=submit]")
    page.wait_for_selector("#data-view .msg.error")
    assert "载客__gt" in page.inner_text("#data-view .msg.error")
    assert page.evaluate("window.__stayed === true")
    # the one console line is the browser noting the refused filter's 400; no script or CSP error
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
