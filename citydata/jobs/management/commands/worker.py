"""`citydata worker`: run background tasks and the scheduler of periodic jobs."""

from __future__ import annotations

import os
import socket
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils.crypto import get_random_string

from citydata.jobs import schedule

# django-tasks-rq stores task results on its own Job class; the RQ worker must use it.
RQ_JOB_CLASS = "django_tasks_rq.backend.Job"


def _scheduler_loop(stop: threading.Event, worker_id: str, interval: float) -> None:
    while not stop.is_set():
        try:
            schedule.tick(worker_id=worker_id)
        except Exception:  # noqa: BLE001 - a failed tick must not kill the worker; it is logged and retried
            schedule.logger.exception("scheduler tick failed")
        finally:
            close_old_connections()
        stop.wait(interval)
    connections.close_all()


class Command(BaseCommand):
    help = "Run background tasks and periodic jobs. Several workers may run at once; each job runs once per slot."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", action="store_true", help="Schedule due jobs once, run every queued task, then exit."
        )
        parser.add_argument("--queues", default="*", help="Queues to process, comma-separated (default: all).")
        parser.add_argument("--no-scheduler", action="store_true", help="Only run tasks; another worker schedules.")
        parser.add_argument("--tick", type=float, default=30.0, help="Seconds between scheduler ticks (default 30).")

    def handle(self, *args, batch: bool, queues: str, no_scheduler: bool, tick: float, **options):
        worker_id = f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(6)}"
        verbosity = options.get("verbosity", 1)
        rq = "django_rq" in settings.INSTALLED_APPS
        if batch:
            if not no_scheduler:
                schedule.tick(worker_id=worker_id)
            if rq:
                call_command("rqworker", "default", burst=True, job_class=RQ_JOB_CLASS, verbosity=verbosity)
            else:
                call_command(
                    "db_worker",
                    batch=True,
                    queue_name=queues,
                    reload=False,
                    startup_delay=False,
                    worker_id=worker_id,
                    verbosity=verbosity,
                )
            return
        stop = threading.Event()
        if not no_scheduler:
            thread = threading.Thread(
                target=_scheduler_loop, args=(stop, worker_id, tick), daemon=True, name="scheduler"
            )
            thread.start()
        self.stdout.write(f"CityData worker {worker_id} started ({'rq' if rq else 'database'} backend)")
        try:
            if rq:
                call_command("rqworker", "default", job_class=RQ_JOB_CLASS, verbosity=verbosity)
            else:
                call_command("db_worker", queue_name=queues, reload=False, worker_id=worker_id, verbosity=verbosity)
        finally:
            stop.set()
