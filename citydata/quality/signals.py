"""What the quality app listens to: a dataset changed (a new data version, new metadata) → reassess it after
commit; a department confirmed a user's error report → a rectification task.

The reassessment is a follow-up job, not a domain cascade: it only recomputes derived findings and scores, in
a task after the transaction commits (like the search index)."""

from __future__ import annotations

import logging
import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from citydata.catalog.models import DatasetField, Resource
from citydata.catalog.signals import dataset_changed

logger = logging.getLogger("citydata.quality")
_state = threading.local()
inline = False  # assess in the committing thread instead of queueing a task (tests; they capture on_commit)


def _flush() -> None:
    from citydata.quality.tasks import assess_datasets, assess_ids

    ids, _state.pending = sorted(getattr(_state, "pending", None) or ()), None
    if ids and inline:
        assess_ids(ids)
    elif ids:
        assess_datasets.enqueue(ids)


def _queue(dataset_id: int | None) -> None:
    """Collect the datasets a transaction touches; when it commits, one task reassesses them all."""
    if dataset_id is None:
        return
    # Is our flush already waiting for this transaction's commit? (After a rollback it is gone, and so must be
    # the ids collected for it.)
    waiting = any(entry[1] is _flush for entry in transaction.get_connection().run_on_commit)
    if not waiting or getattr(_state, "pending", None) is None:
        _state.pending = set()
    _state.pending.add(dataset_id)
    if not waiting:
        transaction.on_commit(_flush)  # outside a transaction this runs at once


@receiver(dataset_changed)
def _dataset_changed(sender, dataset_id, **kwargs):
    _queue(dataset_id)


@receiver(post_save, sender=DatasetField)
@receiver(post_delete, sender=DatasetField)
@receiver(post_save, sender=Resource)
@receiver(post_delete, sender=Resource)
def _part_changed(sender, instance, **kwargs):
    _queue(instance.dataset_id)


def _connect_engagement() -> None:
    try:
        from citydata.engagement.signals import error_report_confirmed
    except ImportError:  # the engagement app is optional for the quality app
        return

    @receiver(error_report_confirmed, weak=False, dispatch_uid="quality.error_report_confirmed")
    def _error_report_confirmed(sender, report, by=None, **kwargs):
        from citydata.quality import services

        services.task_from_error_report(report=report, by=by)

    from citydata.engagement.signals import error_report_resolved

    @receiver(error_report_resolved, weak=False, dispatch_uid="quality.error_report_resolved")
    def _error_report_resolved(sender, report, by=None, **kwargs):
        from citydata.quality import services

        services.task_close_for_report(report=report, by=by)


_connect_engagement()
