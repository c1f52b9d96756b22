"""Changes to what the index covers (datasets, the standard's rules) queue a re-index of the objects they touch,
after the transaction commits; the request never waits for the index."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from citydata.catalog.models import Dataset, DatasetField, Resource, StandardRule
from citydata.catalog.signals import dataset_changed, standard_changed
from citydata.search.models import Synonym

_state = threading.local()
inline = False  # tests index in the request (their transactions never commit); production queues a task


def queue(kind: str, object_id: int | None) -> None:
    """Collect the objects a transaction touches, by kind; when it commits, one task per kind indexes them.
    Another document source (`sources.py`) calls this when one of its objects changes."""
    if object_id is None or getattr(_state, "paused", False):
        return
    if inline:
        from citydata.search import index

        index.reindex(kind, [object_id])
        return
    pending = getattr(_state, "pending", None)
    if pending is None:
        pending = _state.pending = {}
        transaction.on_commit(_flush)
    pending.setdefault(kind, set()).add(object_id)


def _flush() -> None:
    from citydata.search.tasks import index_documents

    pending, _state.pending = getattr(_state, "pending", None) or {}, None
    for kind, ids in sorted(pending.items()):
        if ids:
            index_documents.enqueue(kind, sorted(ids))


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
    queue("dataset", instance.pk)


@receiver(dataset_changed)
def _dataset_changed(sender, dataset_id, **kwargs):
    queue("dataset", dataset_id)


@receiver(post_save, sender=DatasetField)
@receiver(post_delete, sender=DatasetField)
@receiver(post_save, sender=Resource)
@receiver(post_delete, sender=Resource)
def _part_changed(sender, instance, **kwargs):
    queue("dataset", instance.dataset_id)


@receiver(m2m_changed, sender=Dataset.domains.through)
def _domains_changed(sender, instance, action, **kwargs):
    if action.startswith("post_") and isinstance(instance, Dataset):
        queue("dataset", instance.pk)


@receiver(post_save, sender=StandardRule)
@receiver(post_delete, sender=StandardRule)
def _rule_saved(sender, instance, **kwargs):
    queue("standard", instance.pk)


@receiver(standard_changed)
def _rule_changed(sender, rule_id, **kwargs):
    queue("standard", rule_id)


@receiver(post_save, sender=Synonym)
@receiver(post_delete, sender=Synonym)
def _synonyms_changed(sender, instance, **kwargs):
    from citydata.search.engine import cache

    cache.clear()
