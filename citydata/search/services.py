"""Changes operators make to search: the synonym table (audited), and the query log searches write."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.errors import DomainError
from citydata.search import analysis
from citydata.search.models import SearchQuery, Synonym
from citydata.security import audit


def _clean_terms(raw: str) -> str:
    words = []
    for word in raw.replace("，", ",").replace("、", ",").split(","):
        word = analysis.fold(word).strip()
        if word and word not in words:
            words.append(word)
    if len(words) < 2:
        raise DomainError(_("至少填写两个词，用逗号分隔。"), code="invalid", details={"field": "terms"})
    if any(len(w) > 20 for w in words):
        raise DomainError(_("每个词不超过 20 个字。"), code="invalid", details={"field": "terms"})
    text = ",".join(words)
    if len(text) > 300:
        raise DomainError(_("一组同义词总长不超过 300 个字。"), code="invalid", details={"field": "terms"})
    return text


@transaction.atomic
def synonym_save(*, by: User, terms: str, active: bool = True, synonym: Synonym | None = None) -> Synonym:
    """Add or change a group of synonyms; searches use it at once."""
    authz.authorize(by, "console.view")
    text = _clean_terms(terms)
    clash = Synonym.objects.filter(terms=text)
    if synonym is not None:
        clash = clash.exclude(pk=synonym.pk)
    if clash.exists():
        raise DomainError(_("这组同义词已经存在。"), code="duplicate", details={"field": "terms"})
    before = {"terms": synonym.terms, "active": synonym.active} if synonym else {}
    if synonym is None:
        synonym = Synonym.objects.create(terms=text, active=active)
    else:
        synonym.terms, synonym.active, synonym.updated_at = text, active, timezone.now()
        synonym.save()
    audit.record(by, "search.synonym_save", synonym, changes=audit.diff(before, {"terms": text, "active": active}))
    return synonym


@transaction.atomic
def synonym_delete(*, by: User, synonym: Synonym) -> None:
    authz.authorize(by, "console.view")
    audit.record(by, "search.synonym_delete", synonym, changes={"terms": {"before": synonym.terms, "after": None}})
    synonym.delete()


def log_query(text: str, results: int, source: str) -> None:
    SearchQuery.objects.create(text=analysis.fold(text).strip()[:100], results=results, source=source[:10])


def prune_queries() -> int:
    """Query logs follow the call logs' retention."""
    cutoff = timezone.now() - dt.timedelta(days=settings.CALL_LOG_DAYS)
    return SearchQuery.objects.filter(created_at__lt=cutoff).delete()[0]
