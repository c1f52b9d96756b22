import datetime as dt

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from citydata.jobs import schedule, tasks
from citydata.jobs.models import ScheduleRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_runs_queued_tasks():
    result = tasks.ping.enqueue("你好")
    assert DBTaskResult.objects.get(id=result.id).status == "READY"
    call_command("worker", batch=True, no_scheduler=True, verbosity=0)
    stored = DBTaskResult.objects.get(id=result.id)
    assert stored.status == "SUCCESSFUL" and stored.return_value == "你好"


def test_a_slot_is_claimed_once_however_many_workers_tick():
    now = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai: both jobs are due
    first = schedule.tick(worker_id="worker-a", now=now)
    second = schedule.tick(worker_id="worker-b", now=now + dt.timedelta(seconds=5))
    # at 11:00 every job is due: the hourly ones and the nightly ones (all before 11:00)
    due = sorted(schedule.SCHEDULE)
    assert {"purge_expired_codes", "verify_audit_chain", "cleanup_datastore"} <= set(due)
    assert sorted(first) == due and second == []
    assert ScheduleRun.objects.count() == DBTaskResult.objects.count() == len(due)
    # the next hour is a new slot for the hourly jobs only
    later = schedule.tick(worker_id="worker-b", now=now + dt.timedelta(hours=1))
    assert sorted(later) == sorted(name for name, job in schedule.SCHEDULE.items() if job.every is not None)
    assert "purge_expired_codes" in later and "verify_audit_chain" not in later


def test_daily_job_is_not_due_before_its_time():
    early = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)  # 02:00 Shanghai, before 02:30
    assert "verify_audit_chain" not in schedule.tick(worker_id="w", now=early)


def test_scheduled_audit_check_runs_in_the_worker_and_flags_a_break(make_user):
    from django.db import connection

    from citydata.accounts import services
    from citydata.security.models import AuditEvent

    user = make_user()
    services.user_update_profile(user=user, by=user, display_name="甲")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE security_auditevent SET note = 'x' WHERE seq = 1")
    result = tasks.verify_audit_chain.enqueue()
    call_command("worker", batch=True, no_scheduler=True, verbosity=0)
    assert DBTaskResult.objects.get(id=result.id).return_value == {"checked": 0, "broken_at": 1}
    assert AuditEvent.objects.filter(action="audit.chain_broken").exists()


def test_purge_removes_only_stale_rows(make_user):
    from django.utils import timezone

    from citydata.accounts.models import LoginAttempt, VerificationCode

    old = timezone.now() - dt.timedelta(days=3)
    VerificationCode.objects.create(target="a@b.cn", purpose="register", digest="x", created_at=old, expires_at=old)
    VerificationCode.objects.create(
        target="a@b.cn", purpose="register", digest="y", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    LoginAttempt.objects.create(identifier="a@b.cn", succeeded=False, created_at=old)
    LoginAttempt.objects.create(identifier="a@b.cn", succeeded=False)
    assert tasks.purge_expired_codes.call() == {"codes": 1, "attempts": 1}
    assert VerificationCode.objects.count() == 1 and LoginAttempt.objects.count() == 1


def test_two_worker_processes_run_each_task_exactly_once(child_database_url):
    import os
    import subprocess
    import sys

    results = [tasks.ping.enqueue(f"job-{i}") for i in range(30)]
    env = {**os.environ, "DATABASE_URL": child_database_url}
    command = [sys.executable, "-m", "citydata", "worker", "--batch", "--no-scheduler", "--verbosity", "0"]
    workers = [subprocess.Popen(command, env=env) for _ in range(2)]  # noqa: S603
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    stored = {r.id: r for r in DBTaskResult.objects.filter(id__in=[r.id for r in results])}
    assert all(s.status == "SUCCESSFUL" and len(s.worker_ids) == 1 for s in stored.values())
    assert sorted(s.return_value for s in stored.values()) == sorted(f"job-{i}" for i in range(30))
