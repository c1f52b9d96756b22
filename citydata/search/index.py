"""Keeping the index in step with the catalog: a published dataset is one document; anything else is
removed. Called by the `index_datasets` task after catalog changes, by the periodic catch-up job and by
`citydata search-reindex`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from citydata.catalog.models import Dataset, DatasetStatus, Domain, Resource
from citydata.search import analysis
from citydata.search.backends import get_backend
from citydata.search.models import FacetSet, SearchDocument, Synonym

BATCH = 500


def teach_vocabulary() -> None:
    """The catalog's own words go into the segmenter's dictionary (call it through `engine.cache.teach`,
    which throttles it)."""
    from citydata.accounts.models import Department
    from citydata.catalog.models import DatasetField

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


def _terms(dataset: Dataset) -> dict[str, str]:
    title_words = analysis.words(dataset.title)
    tags = [str(t) for t in (dataset.tags or [])]
    tag_words = analysis.words(" ".join(tags))
    fields = [f.title for f in dataset.fields.all()] + [f.name for f in dataset.fields.all()]
    org = [dataset.department.name] + [d.name for d in dataset.domains.all()]
    return {
        "title_terms": analysis.joined(title_words),
        "tag_terms": analysis.joined(tag_words),
        "field_terms": analysis.joined(analysis.words(" ".join(fields))),
        "org_terms": analysis.joined(analysis.words(" ".join(org))),
        "body_terms": analysis.joined(analysis.words(dataset.description[:4000])),
        "pinyin_terms": analysis.joined(
            analysis.pinyin_terms(title_words + tag_words)
            + analysis.pinyin_runs(analysis.words(dataset.title, search_mode=False))
            + _title_pinyin(dataset.title)
        ),
        "gram_terms": analysis.joined(analysis.bigrams(dataset.title)),
    }


def _title_pinyin(title: str) -> list[str]:
    """The whole title's pinyin as one term too, so a run such as gongjiaoshishi matches by prefix."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin("".join(analysis.words(title, search_mode=False)), errors="ignore")
    return ["".join(syllables)] if len(syllables) > 1 else []


def _document(dataset: Dataset) -> SearchDocument:
    return SearchDocument(
        kind="dataset",
        object_id=dataset.pk,
        slug=dataset.slug,
        title=dataset.title[:200],
        summary=dataset.description[:300],
        department_code=dataset.department.code,
        department_name=dataset.department.name[:120],
        domains=sorted(d.code for d in dataset.domains.all()),
        open_type=dataset.open_type,
        formats=sorted({r.format for r in dataset.resources.all() if r.format}),
        frequency=dataset.update_frequency,
        views=dataset.view_count,
        downloads=dataset.download_count,
        updated=dataset.last_data_update or dataset.updated_at,
        source=dataset.source,
        source_id=dataset.source_id[:200],
        indexed_at=timezone.now(),
        **_terms(dataset),
    )


def _datasets():
    return Dataset.objects.select_related("department").prefetch_related(
        "domains", "fields", Prefetch("resources", queryset=Resource.objects.only("id", "dataset_id", "format"))
    )


def reindex_datasets(ids: Iterable[int]) -> dict[str, int]:
    """Index the given datasets if published, remove them from the index otherwise."""
    from citydata.search.engine import cache

    ids = list(ids)
    cache.teach()
    backend = get_backend()
    indexed = removed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        datasets = list(_datasets().filter(pk__in=chunk, status=DatasetStatus.PUBLISHED))
        documents = [_document(d) for d in datasets]
        if documents:
            _assign_facet_sets(documents)
        with transaction.atomic():
            gone = list(
                SearchDocument.objects.filter(kind="dataset", object_id__in=chunk)
                .exclude(object_id__in=[d.pk for d in datasets])
                .values_list("id", flat=True)
            )
            if gone:
                backend.delete(gone)
                SearchDocument.objects.filter(id__in=gone).delete()
                removed += len(gone)
            if documents:
                saved = SearchDocument.objects.bulk_create(
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
                        kind="dataset", object_id__in=[d.object_id for d in saved]
                    ).values_list("object_id", "id")
                )
                backend.replace([(by_object[d.object_id], _field_terms(d)) for d in documents])
                indexed += len(documents)
    return {"indexed": indexed, "removed": removed}


def _field_terms(document: SearchDocument) -> dict[str, str]:
    from citydata.search.backends import FIELDS

    return {name: getattr(document, name) for name in FIELDS}


def reindex_all() -> dict[str, int]:
    """Every dataset, and documents whose dataset no longer exists."""
    from citydata.search.engine import cache

    cache.teach(force=True)  # a full rebuild takes in every new department, domain and field title
    ids = list(Dataset.objects.values_list("pk", flat=True))
    report = reindex_datasets(ids)
    orphans = list(
        SearchDocument.objects.filter(kind="dataset").exclude(object_id__in=ids).values_list("id", flat=True)
    )
    if orphans:
        get_backend().delete(orphans)
        SearchDocument.objects.filter(id__in=orphans).delete()
    report["removed"] += len(orphans)
    return report


def stale_ids(since) -> list[int]:
    """Datasets changed since `since` (the catch-up job's last run), by their update time."""
    return list(Dataset.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
