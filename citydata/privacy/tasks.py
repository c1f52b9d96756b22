"""Background jobs of personal-data protection: the nightly re-scan of every published version (R8.3)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


@task()
def scan_published_versions() -> dict:
    from citydata.privacy import services

    run = services.scan_published()
    return {"versions": run.versions, "with_findings": run.with_findings, "tasks_opened": run.tasks_opened}


periodic("scan_published_versions", scan_published_versions, daily_at=dt.time(2, 30))
