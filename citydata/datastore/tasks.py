"""Background jobs of the datastore: ingest an upload, and clean up after crashed ingests."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from citydata.jobs.schedule import periodic


@task()
def ingest_version(version_id: int) -> dict:
    from citydata.datastore import ingest

    version = ingest.run(version_id)
    return {"version": version.pk, "status": version.status, "rows": version.row_count}


@task()
def cleanup_datastore() -> dict:
    from citydata.datastore import services

    return services.cleanup()


periodic("cleanup_datastore", cleanup_datastore, every=dt.timedelta(hours=1))


@task()
def prune_call_logs() -> dict:
    from citydata.datastore import metering

    return metering.prune()


periodic("prune_call_logs", prune_call_logs, daily_at=dt.time(3, 10))


@task()
def prune_stream_history() -> dict:
    from citydata.datastore import streams

    return {"removed": streams.prune()}


periodic("prune_stream_history", prune_stream_history, daily_at=dt.time(3, 40))


@task()
def compact_streams() -> dict:
    from citydata.datastore import compaction

    return compaction.compact_all()


periodic("compact_streams", compact_streams, every=dt.timedelta(hours=1))
