"""The clocks of conditional opening: acceptance reminders and escalation, grant expiry and usage reports."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


@task()
def application_deadlines() -> dict:
    from citydata.access import services

    return services.deadlines_tick()


periodic("application_deadlines", application_deadlines, every=dt.timedelta(minutes=30))


@task()
def grant_clock() -> dict:
    from citydata.access import services

    return services.grants_tick()


periodic("grant_clock", grant_clock, daily_at=dt.time(0, 20))
