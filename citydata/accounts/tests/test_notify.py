"""In-app notifications: written in the caller's transaction, mailed after commit, shown and marked read."""

import pytest
from django.core import mail

from citydata.accounts.models import Notification, User
from citydata.accounts.notify import notify, unread_count


@pytest.fixture
def people(db):
    a = User.objects.create_user(email="a@example.cn", password="Secret-2026!")
    b = User.objects.create_user(mobile="13800138000", password="Secret-2026!")
    return a, b


def test_notify_dedupes_skips_none_and_mails_after_commit(people, django_capture_on_commit_callbacks):
    a, b = people
    with django_capture_on_commit_callbacks(execute=True):
        created = notify([a, b, a, None], "申请已受理", "您的申请已受理。", url="/applications/1/")
    assert len(created) == 2 and unread_count(a) == 1 and unread_count(b) == 1
    # Only the person with an e-mail address is mailed, once, with the link.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@example.cn"]
    assert "申请已受理" in mail.outbox[0].subject and "/applications/1/" in mail.outbox[0].body


def test_notification_page_lists_and_marks_read(client, people):
    a, _ = people
    notify(a, "整改任务已分配", url="/quality/tasks/1/", email=False)
    client.force_login(a)
    home = client.get("/account/")
    assert 'class="badge"' in home.content.decode()
    page = client.get("/account/notifications/")
    assert page.status_code == 200 and "整改任务已分配" in page.content.decode()
    assert unread_count(a) == 0 and Notification.objects.get(user=a).read_at is not None
    assert 'class="badge"' not in client.get("/account/").content.decode()


def test_notification_page_needs_login(client, db):
    assert client.get("/account/notifications/").status_code == 302
