"""What the search index holds, by kind. A source turns objects of one kind into search documents and says where a
result of that kind leads. `index.py` keeps every registered source's documents in step, the engine ranks all
kinds with one formula, and the catalog page and `GET /api/v1/search` show each result with its source's label.

Built in: datasets, and the data-opening standard (`/standards/`: the page, and one document per rule with a link
to the rule's anchor). Another kind (the apps registry, R5.1) registers one more source from its app's
`AppConfig.ready()`:

    sources.register(sources.Source(kind="app", label=_("应用"), documents=..., every_id=..., link=...))

and calls `search.signals.queue(kind, object_id)` when one of its objects changes, so the index follows it. The
facets and filters of a search (department, domain, open type, format, frequency) are the catalog's: they apply
to datasets, and another kind's documents leave those columns empty.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from citydata.search import analysis
from citydata.search.models import SearchDocument


@dataclass(frozen=True)
class Source:
    """One kind of searchable object: which of its objects are indexed, as what, and where a result leads."""

    kind: str  # SearchDocument.kind, at most 20 characters
    label: Any  # what a result of this kind is called on pages (lazy text)
    documents: Callable[[list[int]], list[SearchDocument]]  # unsaved documents of those objects that belong indexed
    every_id: Callable[[], list[int]]  # every object that may have a document (a full rebuild removes the rest)
    link: Callable[[str], str | None]  # a document's slug → the path of its page; None for a slug it cannot have
    changed_since: Callable[[dt.datetime], list[int]] | None = None  # for the catch-up job, when it can tell


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.kind] = source
    return source


def get(kind: str) -> Source | None:
    return SOURCES.get(kind)


def link(kind: str, slug: str) -> str | None:
    """Where a result leads (always a path of this site, built here, never taken from a request)."""
    source = SOURCES.get(kind)
    return source.link(slug) if source is not None and isinstance(slug, str) else None


def label(kind: str) -> Any:
    source = SOURCES.get(kind)
    return source.label if source is not None else kind


def terms(
    *, title: str, tags: Iterable[str] = (), fields: Iterable[str] = (), org: Iterable[str] = (), body: str = ""
) -> dict[str, str]:
    """The analysed term columns of a document. Every source builds its documents with this one function, so every
    kind is cut, folded and given pinyin the same way and ranked by the same weights (title 10, tags 6, pinyin 5,
    field titles 3, organisation 3, title bigrams 2, body 1)."""
    title_words = analysis.words(title)
    tag_words = analysis.words(" ".join(tags))
    return {
        "title_terms": analysis.joined(title_words),
        "tag_terms": analysis.joined(tag_words),
        "field_terms": analysis.joined(analysis.words(" ".join(fields))),
        "org_terms": analysis.joined(analysis.words(" ".join(org))),
        "body_terms": analysis.joined(analysis.words(body[:4000])),
        "pinyin_terms": analysis.joined(
            analysis.pinyin_terms(title_words + tag_words)
            + analysis.pinyin_runs(analysis.words(title, search_mode=False))
            + _title_pinyin(title)
        ),
        "gram_terms": analysis.joined(analysis.bigrams(title)),
    }


def _title_pinyin(title: str) -> list[str]:
    """The whole title's pinyin as one term too, so a run such as gongjiaoshishi matches by prefix."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin("".join(analysis.words(title, search_mode=False)), errors="ignore")
    return ["".join(syllables)] if len(syllables) > 1 else []


# --- datasets ---------------------------------------------------------------------------------------------------


def _dataset_documents(ids: list[int]) -> list[SearchDocument]:
    from citydata.catalog.models import Dataset, DatasetStatus, Resource

    datasets = Dataset.objects.select_related("department").prefetch_related(
        "domains", "fields", Prefetch("resources", queryset=Resource.objects.only("id", "dataset_id", "format"))
    )
    return [_dataset_document(d) for d in datasets.filter(pk__in=ids, status=DatasetStatus.PUBLISHED)]


def _dataset_document(dataset) -> SearchDocument:
    fields = [f.title for f in dataset.fields.all()] + [f.name for f in dataset.fields.all()]
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
        **terms(
            title=dataset.title,
            tags=[str(t) for t in (dataset.tags or [])],
            fields=fields,
            org=[dataset.department.name] + [d.name for d in dataset.domains.all()],
            body=dataset.description,
        ),
    )


def _dataset_ids() -> list[int]:
    from citydata.catalog.models import Dataset

    return list(Dataset.objects.values_list("pk", flat=True))


def _dataset_link(slug: str) -> str | None:
    if not slug or "/" in slug or "\\" in slug or len(slug) > 100:
        return None
    return reverse("catalog:dataset_detail", args=[slug])


def _datasets_changed_since(since: dt.datetime) -> list[int]:
    from citydata.catalog.models import Dataset

    return list(Dataset.objects.filter(updated_at__gte=since).values_list("pk", flat=True))


register(
    Source(
        kind="dataset",
        label=_("数据集"),
        documents=_dataset_documents,
        every_id=_dataset_ids,
        link=_dataset_link,
        changed_since=_datasets_changed_since,
    )
)


# --- the data-opening standard ---------------------------------------------------------------------------------

STANDARD_PAGE = 0  # object_id of the standard page's own document (rules have their primary keys, from 1)
RULE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # catalog.services.standard_rule_save accepts no other code


def _standard_documents(ids: list[int]) -> list[SearchDocument]:
    """The standard page (its title and introduction) and each enabled rule as the page shows it: the rule's
    wording is the title, its kind's name a tag, so 机器可读 or 摘要 find the rule, 数据开放标准 the page."""
    from citydata.catalog import standard
    from citydata.catalog.models import StandardRule

    documents = []
    with translation.override(settings.LANGUAGE_CODE):  # the index is in the catalog's language
        page_title, intro, kind_label = str(standard.PAGE_TITLE), str(standard.PAGE_INTRO), str(_("标准规范"))
        if STANDARD_PAGE in ids:
            documents.append(
                SearchDocument(
                    kind="standard",
                    object_id=STANDARD_PAGE,
                    slug="",
                    title=page_title,
                    summary=intro[:300],
                    indexed_at=timezone.now(),
                    **terms(title=page_title, tags=[kind_label], body=intro),
                )
            )
        for rule in StandardRule.objects.filter(pk__in=ids, enabled=True):
            kind = str(standard.KIND_LABELS.get(rule.kind, ""))
            severity = str(rule.get_severity_display())
            documents.append(
                SearchDocument(
                    kind="standard",
                    object_id=rule.pk,
                    slug=rule.code,
                    title=rule.description[:200],
                    summary=f"{page_title} · {severity}" + (f" · {kind}" if kind else ""),
                    indexed_at=timezone.now(),
                    **terms(title=rule.description, tags=[kind], org=[page_title], body=severity),
                )
            )
    return documents


def _standard_ids() -> list[int]:
    from citydata.catalog.models import StandardRule

    return [STANDARD_PAGE, *StandardRule.objects.values_list("pk", flat=True)]


def _standard_link(slug: str) -> str | None:
    page = reverse("catalog:standard")
    if slug == "":
        return page
    return f"{page}#rule-{slug}" if RULE_CODE.fullmatch(slug) else None


register(
    Source(
        kind="standard",
        label=_("标准规范"),
        documents=_standard_documents,
        every_id=_standard_ids,
        link=_standard_link,
    )
)
