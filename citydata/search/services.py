"""Changes operators make to search: the synonym table (audited), and the query and click logs searches write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.errors import DomainError
from citydata.search import analysis, sources
from citydata.search.models import SearchClick, SearchQuery, Synonym
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


CLICK_SALT = "citydata.search.click"
CLICK_MAX_AGE = 7 * 24 * 3600  # seconds a result link counts clicks; older links still lead to the dataset


def log_query(text: str, results: int, source: str) -> SearchQuery:
    return SearchQuery.objects.create(text=analysis.fold(text).strip()[:100], results=results, source=source[:10])


def click_token(*, query_id: int | None, slug: str, position: int, source: str, kind: str = "dataset") -> str:
    """The signed value of a result link (`/search/click/?t=…`): it names the result (kind and slug), so the
    redirect can only lead to that result's page on this site, and it cannot be forged to invent clicks. A dataset's
    link keeps the shorter form links had before other kinds were indexed."""
    value = [query_id, slug, position, source[:1]] + ([kind] if kind != "dataset" else [])
    return signing.dumps(value, salt=CLICK_SALT, compress=False)


@dataclass(frozen=True)
class Click:
    slug: str
    recorded: bool
    kind: str = "dataset"
    url: str = ""  # the result's page


def click_record(*, token: str) -> Click:
    """Count a click on a search result and say where it leads. A link older than CLICK_MAX_AGE still leads to
    its result but is not counted (it was bookmarked or shared, not clicked from a search)."""
    recorded = True
    try:
        value = signing.loads(token, salt=CLICK_SALT, max_age=CLICK_MAX_AGE)
    except signing.SignatureExpired:
        value = signing.loads(token, salt=CLICK_SALT)
        recorded = False
    except (signing.BadSignature, ValueError, TypeError):
        raise DomainError(_("这个搜索结果链接无效。"), code="invalid_click") from None
    if not isinstance(value, list) or len(value) not in (4, 5):
        raise DomainError(_("这个搜索结果链接无效。"), code="invalid_click")
    query_id, slug, position, source = value[:4]
    kind = value[4] if len(value) == 5 else "dataset"
    url = sources.link(kind, slug) if isinstance(kind, str) else None
    if url is None or not isinstance(position, int) or not 1 <= position <= 1000:
        raise DomainError(_("这个搜索结果链接无效。"), code="invalid_click")
    if recorded:
        query = SearchQuery.objects.filter(pk=query_id).first() if isinstance(query_id, int) else None
        SearchClick.objects.create(
            query=query, kind=kind, slug=slug[:100], position=position, source="api" if source == "a" else "page"
        )
    return Click(slug=slug, recorded=recorded, kind=kind, url=url)


def prune_queries() -> int:
    """Query and click logs follow the call logs' retention."""
    cutoff = timezone.now() - dt.timedelta(days=settings.CALL_LOG_DAYS)
    SearchClick.objects.filter(created_at__lt=cutoff).delete()
    return SearchQuery.objects.filter(created_at__lt=cutoff).delete()[0]
