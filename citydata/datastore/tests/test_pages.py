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
