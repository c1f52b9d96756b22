"""Periodic jobs. Any number of workers tick; the unique (job, slot) row decides which one enqueues.

A job is a django-tasks task plus when it is due: every N seconds, or daily at a local time.
Missed slots are not replayed: after downtime a job runs once, for the current slot.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from citydata.jobs.models import ScheduleRun

logger = logging.getLogger("citydata.jobs")


@dataclass(frozen=True)
class Periodic:
    name: str
    task: Any  # a django_tasks Task
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None

    def slot(self, now: dt.datetime) -> dt.datetime | None:
        """The start of the slot `now` falls in, or None if the job is not yet due today."""
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            epoch = int(now.timestamp())
            return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)
        assert self.daily_at is not None
        local = timezone.localtime(now)
        due = local.replace(hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0)
        return due if local >= due else None


SCHEDULE: dict[str, Periodic] = {}


def periodic(name: str, task, *, every: dt.timedelta | None = None, daily_at: dt.time | None = None) -> Periodic:
    if (every is None) == (daily_at is None):
        raise ValueError("give exactly one of every= or daily_at=")
    job = Periodic(name, task, every, daily_at)
    SCHEDULE[name] = job
    return job


def tick(*, worker_id: str, now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot nobody has claimed yet. Returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in SCHEDULE.values():
        slot = job.slot(now)
        if slot is None:
            continue
        try:
            with transaction.atomic():
                run = ScheduleRun.objects.create(name=job.name, slot=slot, claimed_by=worker_id)
                result = job.task.enqueue()
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another worker claimed this slot
        logger.info("scheduled %s for slot %s (task %s)", job.name, slot.isoformat(), run.task_id)
        enqueued.append(job.name)
    return enqueued
