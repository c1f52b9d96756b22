"""Background jobs of the quality app: runs, reassessment after changes, the nightly pass and due schedules."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


def assess_ids(ids: list[int]) -> int:
    from citydata.catalog.models import Dataset, DatasetStatus
    from citydata.quality import services

    done = 0
    for dataset in Dataset.objects.filter(pk__in=ids, status=DatasetStatus.PUBLISHED).select_related("department"):
        services.dataset_assess(dataset=dataset)
        done += 1
    return done


@task()
def assess_datasets(ids: list[int]) -> dict:
    """Reassess datasets that changed (a new data version, new metadata)."""
    return {"assessed": assess_ids(ids)}


@task()
def execute_run(run_id: int) -> dict:
    from citydata.quality import services

    run = services.run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "datasets": run.datasets_checked, "tasks": run.tasks_created}


@task()
def nightly_quality() -> dict:
    """Probe every link, reassess every published dataset and store the day's department and city scores."""
    from citydata.quality import services

    return services.assess_all()


periodic("nightly_quality", nightly_quality, daily_at=dt.time(1, 30))


@task()
def start_due_inspections() -> dict:
    from citydata.quality import services

    return {"started": [run.pk for run in services.schedules_due()]}


periodic("start_due_inspections", start_due_inspections, every=dt.timedelta(minutes=15))
