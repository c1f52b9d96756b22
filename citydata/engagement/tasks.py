"""Background jobs of the engagement app: the feedback deadline clock."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


@task()
def feedback_deadlines() -> dict:
    from citydata.engagement import services

    return services.deadlines_tick()


periodic("feedback_deadlines", feedback_deadlines, every=dt.timedelta(hours=1))
