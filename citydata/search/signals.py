"""Catalog changes queue a re-index of the datasets they touch, after the transaction commits; the request
never waits for the index."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from citydata.catalog.models import Dataset, DatasetField, Resource
from citydata.catalog.signals import dataset_changed
from citydata.search.models import Synonym

_state = threading.local()
inline = False  # tests index in the request (their transactions never commit); production queues a task


def _queue(dataset_id: int | None) -> None:
    """Collect the datasets a transaction touches; when it commits, one task indexes them all."""
    if dataset_id is None or getattr(_state, "paused", False):
        return
    if inline:
        from citydata.search import index

        index.reindex_datasets([dataset_id])
        return
    pending = getattr(_state, "pending", None)
    if pending is None:
        pending = _state.pending = set()
        transaction.on_commit(_flush)
    pending.add(dataset_id)


def _flush() -> None:
    from citydata.search.tasks import index_datasets

    ids, _state.pending = sorted(getattr(_state, "pending", None) or ()), None
    if ids:
        index_datasets.enqueue(ids)


@contextmanager
def paused():
    """Bulk loads (the demo, catalog imports) index everything once at the end instead."""
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = False


@receiver(post_save, sender=Dataset)
@receiver(post_delete, sender=Dataset)
def _dataset_saved(sender, instance, **kwargs):
    _queue(instance.pk)


@receiver(dataset_changed)
def _dataset_changed(sender, dataset_id, **kwargs):
    _queue(dataset_id)


@receiver(post_save, sender=DatasetField)
@receiver(post_delete, sender=DatasetField)
@receiver(post_save, sender=Resource)
@receiver(post_delete, sender=Resource)
def _part_changed(sender, instance, **kwargs):
    _queue(instance.dataset_id)


@receiver(m2m_changed, sender=Dataset.domains.through)
def _domains_changed(sender, instance, action, **kwargs):
    if action.startswith("post_") and isinstance(instance, Dataset):
        _queue(instance.pk)


@receiver(post_save, sender=Synonym)
@receiver(post_delete, sender=Synonym)
def _synonyms_changed(sender, instance, **kwargs):
    from citydata.search.engine import cache

    cache.clear()
