"""Keeping the index in step with what it covers: each registered source (`sources.py`: datasets, the standard's
rules) says which of its objects belong in the index and what their documents hold; anything else of that kind is
removed. Called by the `index_documents` task after changes, by the periodic catch-up job and by
`citydata search-reindex`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from citydata.search import analysis, sources
from citydata.search.backends import FIELDS, get_backend
from citydata.search.models import FacetSet, SearchDocument, Synonym

BATCH = 500


def teach_vocabulary() -> None:
    """The catalog's own words go into the segmenter's dictionary (call it through `engine.cache.teach`,
    which throttles it)."""
    from citydata.accounts.models import Department
    from citydata.catalog.models import DatasetField, Domain

    words: set[str] = set(Department.objects.values_list("name", flat=True))
    words |= set(Domain.objects.values_list("name", flat=True))
    words |= set(DatasetField.objects.values_list("title", flat=True).distinct()[:20000])
    for synonym in Synonym.objects.filter(active=True):
        words |= set(synonym.words)
    analysis.add_words(words)


FACET_COLUMNS = ("kind", "department_code", "open_type", "frequency", "domains", "formats")


def _signature(document: SearchDocument) -> str:
    values = [getattr(document, name) for name in FACET_COLUMNS]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _assign_facet_sets(documents: list[SearchDocument]) -> None:
    """Point each document at the row of its combination of facet values, creating the combinations not seen yet."""
    by_signature = {_signature(d): d for d in documents}
    FacetSet.objects.bulk_create(
        [FacetSet(signature=sig, **{n: getattr(d, n) for n in FACET_COLUMNS}) for sig, d in by_signature.items()],
        ignore_conflicts=True,
    )
    ids = dict(FacetSet.objects.filter(signature__in=list(by_signature)).values_list("signature", "id"))
    for document in documents:
        document.facet_set_id = ids[_signature(document)]


def reindex(kind: str, ids: Iterable[int]) -> dict[str, int]:
    """Index the given objects of one kind as their source builds them; remove those it no longer indexes (a
    withdrawn dataset, a disabled rule, a deleted object)."""
    from citydata.search.engine import cache

    source = sources.get(kind)
    if source is None:
        raise ValueError(f"no search source of kind {kind!r}")
    ids = list(ids)
    cache.teach()
    backend = get_backend()
    indexed = removed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        documents = source.documents(chunk)
        if documents:
            _assign_facet_sets(documents)
        with transaction.atomic():
            gone = list(
                SearchDocument.objects.filter(kind=kind, object_id__in=chunk)
                .exclude(object_id__in=[d.object_id for d in documents])
                .values_list("id", flat=True)
            )
            if gone:
                backend.delete(gone)
                SearchDocument.objects.filter(id__in=gone).delete()
                removed += len(gone)
            if documents:
                SearchDocument.objects.bulk_create(
                    documents,
                    update_conflicts=True,
                    unique_fields=["kind", "object_id"],
                    update_fields=[
                        f.name
                        for f in SearchDocument._meta.concrete_fields
                        if f.name not in ("id", "kind", "object_id")
                    ],
                )
                by_object = dict(
                    SearchDocument.objects.filter(
                        kind=kind, object_id__in=[d.object_id for d in documents]
                    ).values_list("object_id", "id")
                )
                backend.replace([(by_object[d.object_id], _field_terms(d)) for d in documents])
                indexed += len(documents)
    return {"indexed": indexed, "removed": removed}


def reindex_datasets(ids: Iterable[int]) -> dict[str, int]:
    """Index the given datasets if published, remove them from the index otherwise."""
    return reindex("dataset", ids)


def _field_terms(document: SearchDocument) -> dict[str, Any]:
    return {**{name: getattr(document, name) for name in FIELDS}, "facet_set": document.facet_set_id}


def reindex_all() -> dict[str, int]:
    """Every object of every source, and no document whose object or source no longer exists."""
    from citydata.search.engine import cache

    cache.teach(force=True)  # a full rebuild takes in every new department, domain and field title
    report = {"indexed": 0, "removed": 0}
    backend = get_backend()
    for kind, source in sources.SOURCES.items():
        ids = source.every_id()
        done = reindex(kind, ids)
        orphans = list(SearchDocument.objects.filter(kind=kind).exclude(object_id__in=ids).values_list("id", flat=True))
        if orphans:
            backend.delete(orphans)
            SearchDocument.objects.filter(id__in=orphans).delete()
        report["indexed"] += done["indexed"]
        report["removed"] += done["removed"] + len(orphans)
    unknown = list(SearchDocument.objects.exclude(kind__in=list(sources.SOURCES)).values_list("id", flat=True))
    if unknown:
        backend.delete(unknown)
        SearchDocument.objects.filter(id__in=unknown).delete()
        report["removed"] += len(unknown)
    # Combinations no document uses any more stay: they are few, and deleting them here could race an index task
    # that has just created one for a document it has not saved yet.
    return report


def stale(since: dt.datetime) -> dict[str, list[int]]:
    """Objects changed since `since` (the catch-up job's last run), by kind, for the sources that can tell."""
    return {kind: s.changed_since(since) for kind, s in sources.SOURCES.items() if s.changed_since is not None}
