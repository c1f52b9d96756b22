"""The Redis (RQ) task backend, end to end with real processes and a real Redis server."""

import os
import socket
import subprocess
import sys

import pytest


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379"),
]


def citydata(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "citydata", *args], env=env, capture_output=True, text=True, timeout=timeout, check=True
    )


@pytest.fixture
def rq_env(child_database_url, redis_url):
    """The environment of worker processes on a Redis database of this test run's own (see the root conftest)."""
    import redis

    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    yield {
        **os.environ,
        "CITYDATA_TASK_BACKEND": "rq",
        "CITYDATA_REDIS_URL": redis_url,
        "DATABASE_URL": child_database_url,
    }
    server.flushdb()


def test_rq_worker_runs_a_task_and_its_result_is_readable(rq_env):
    enqueue = "from citydata.jobs import tasks; print(tasks.ping.enqueue('经 Redis').id)"
    task_id = citydata(rq_env, "shell", "-c", enqueue).stdout.strip().splitlines()[-1]
    status = f"from citydata.jobs import tasks; print(tasks.ping.get_result('{task_id}').status)"
    assert citydata(rq_env, "shell", "-c", status).stdout.strip().splitlines()[-1] == "READY"
    read = f"from citydata.jobs import tasks; r = tasks.ping.get_result('{task_id}'); print(r.status, r.return_value)"
    citydata(rq_env, "worker", "--batch", "--no-scheduler", "--verbosity", "0")
    assert citydata(rq_env, "shell", "-c", read).stdout.strip().splitlines()[-1] == "SUCCESSFUL 经 Redis"


def test_rq_scheduler_claims_slots_in_the_database(rq_env):
    from citydata.jobs.models import ScheduleRun

    citydata(rq_env, "worker", "--batch", "--verbosity", "0")
    citydata(rq_env, "worker", "--batch", "--verbosity", "0")
    names = list(ScheduleRun.objects.values_list("name", flat=True))
    assert names.count("purge_expired_codes") == 1  # the second worker found the slot taken
