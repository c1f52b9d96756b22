"""Background jobs of search: index what changed, catch up on what signals missed (bulk updates)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


@task()
def index_documents(kind: str, ids: list[int]) -> dict:
    """Re-index these objects of one kind (`search/sources.py`): datasets, rules of the standard."""
    from citydata.search import index

    return index.reindex(kind, ids)


@task()
def index_datasets(ids: list[int]) -> dict:
    """Kept for tasks queued before `index_documents` existed."""
    from citydata.search import index

    return index.reindex("dataset", ids)


@task()
def refresh_search_index() -> dict:
    """Objects changed in the last hour (bulk updates send no signals), and popularity figures."""
    from django.utils import timezone

    from citydata.search import index

    report = {"indexed": 0, "removed": 0}
    for kind, ids in index.stale(timezone.now() - dt.timedelta(hours=1)).items():
        done = index.reindex(kind, ids)
        report = {k: report[k] + done[k] for k in report}
    return report


periodic("refresh_search_index", refresh_search_index, every=dt.timedelta(minutes=30))


@task()
def rebuild_search_index() -> dict:
    from citydata.search import index

    return index.reindex_all()


periodic("rebuild_search_index", rebuild_search_index, daily_at=dt.time(2, 30))


@task()
def prune_search_queries() -> dict:
    from citydata.search import services

    return {"removed": services.prune_queries()}


periodic("prune_search_queries", prune_search_queries, daily_at=dt.time(3, 50))
