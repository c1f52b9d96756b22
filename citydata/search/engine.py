"""Query → ranked documents. The backend finds the documents holding every word of the query (each word: itself,
its synonyms, the words inside it, its pinyin, or a one-character correction); Python ranks them so both
backends rank alike:

    score = Σ over query words of idf(word) × weight of the best field it occurs in
            (title 10, tags 6, domain 6, pinyin 5, field titles 3, department/domain 3, title bigrams 2,
            description 1)
          + phrase bonus (the whole query inside the title 8, every word in the title 4)
          + title coverage (share of the title's words the query matched) × 3
          + popularity (0.5 × log10(1 + views + 3 × downloads), at most 2) + freshness (≤ 30 days 1, ≤ a year 0.5)

`explain` gives these parts per result. Ranking is identical on both backends whenever the query matches at
most WINDOW documents (the window is chosen by the backend's own relevance beyond that). Documents of every kind
(`sources.py`: datasets, the standard's rules) are ranked together by this formula; a search's filters narrow the
match in SQL before the window is taken, and `facets()` counts every match, not only the window's.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from django.utils import timezone

from citydata.search import analysis, sources
from citydata.search.backends import Filters, Groups, get_backend, id_list
from citydata.search.models import FacetSet, SearchDocument, Synonym

WINDOW = 200  # documents ranked in Python, chosen by the backend's relevance when more match (see docs/search.md)
BROAD = 20  # a query whose every word is in more than BROAD × WINDOW documents takes its window from titles
MAX_GROUPS = 12
# Facet counts are exact over up to this many matches, and estimated from a systematic sample of about this many
# beyond (docs/performance.md: about 16 ms of CPU for 18,419 matches on SQLite, 0.65 µs a match in SQL).
FACET_EXACT = 20_000
VOCABULARY_TTL = 300.0  # seconds; the typo vocabulary is rebuilt from the index at most this often per process
PREFIX_CREDIT = 0.6  # a pinyin prefix (gj… for 公交 or 公积金) is weaker evidence than a whole word
WEIGHTS = {
    "title_terms": 10.0,
    "tag_terms": 6.0,
    "pinyin_terms": 5.0,
    "field_terms": 3.0,
    "org_terms": 3.0,
    "gram_terms": 2.0,
    "body_terms": 1.0,
}
# A domain is the catalog's classification of a dataset, so a query word naming it (信用 → 信用服务) is evidence
# like a tag's, not like a department's name or a field title that many unrelated datasets share
# (统一社会信用代码). Read from the document's domain codes at ranking time: nothing to reindex.
DOMAIN_WEIGHT = 6.0


@dataclass
class Group:
    word: str
    alternatives: list[str]  # full credit: the word, its synonyms, its pinyin
    corrected: str = ""  # the vocabulary word a typo was read as
    parts: list[str] = field(default_factory=list)  # the words inside it: credit by the share a document holds
    df: int = 0  # documents holding any of its terms

    @cached_property
    def terms(self) -> list[str]:
        return sorted(set(self.alternatives) | set(self.parts))

    @cached_property
    def exact(self) -> frozenset[str]:
        """The alternatives that are whole terms (the rest are pinyin prefixes)."""
        return frozenset(a for a in self.alternatives if not a.endswith("*"))

    @cached_property
    def stems(self) -> tuple[str, ...]:
        return tuple(a[:-1] for a in self.alternatives if a.endswith("*"))

    @cached_property
    def all_terms(self) -> frozenset[str]:
        return frozenset(self.terms)


@dataclass(slots=True)
class IndexedDocument:
    """A search document as ranking and result lists read it: loaded as plain values (a model instance per
    candidate cost more than scoring it). `load_deferred` fills in the summary and source of the hits shown."""

    id: int
    kind: str
    object_id: int
    slug: str
    title: str
    department_code: str
    department_name: str
    domains: list[str]
    open_type: str
    formats: list[str]
    frequency: str
    views: int
    downloads: int
    updated: dt.datetime | None
    title_terms: str
    tag_terms: str
    field_terms: str
    org_terms: str
    body_terms: str
    pinyin_terms: str
    gram_terms: str
    facet_set_id: int | None
    summary: str = ""
    source: str = ""
    source_id: str = ""

    @property
    def pk(self) -> int:
        return self.id


DEFERRED = ("summary", "source", "source_id")  # not needed to rank; `load_deferred` fetches them for the hits shown
LOADED = tuple(name for name in IndexedDocument.__dataclass_fields__ if name not in DEFERRED)


@dataclass
class Hit:
    document: IndexedDocument
    score: float
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.document.kind

    @property
    def url(self) -> str:
        """The path of the result's page (a dataset page, the standard page's anchor of a rule)."""
        return sources.link(self.document.kind, self.document.slug) or ""

    @property
    def label(self):
        return sources.label(self.document.kind)


@dataclass(frozen=True)
class FacetCombination:
    """A `FacetSet` as facet counting reads it: its values by facet, and the (facet, value) pairs it adds to."""

    values: dict[str, tuple[str, ...]]
    keys: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, row: FacetSet) -> FacetCombination:
        values = {
            "kind": (row.kind,),
            "domain": tuple(row.domains),
            "department": (row.department_code,),
            "open_type": (row.open_type,),
            "format": tuple(row.formats),
            "frequency": (row.frequency,),
        }
        facets = values if row.kind == "dataset" else {"kind": values["kind"]}  # dataset facets count datasets
        return cls(values, tuple((name, v) for name, vs in facets.items() for v in vs if v))


@dataclass
class Results:
    query: str
    groups: list[Group]
    hits: list[Hit]
    partial: bool = False  # no document held every word: these hold some
    matched: int = 0  # every document matching the query, of every kind, before filters, beyond the window too
    corrections: dict[str, str] = field(default_factory=dict)
    filters: Filters = field(default_factory=dict)  # what the hits were narrowed by (in SQL)
    matching: Groups = field(default_factory=list)  # the term groups the backend matched (for facet counts)

    @property
    def ids(self) -> list[int]:
        """The datasets among the hits, best first (the catalog's ranked list)."""
        return [h.document.object_id for h in self.hits if h.document.kind == "dataset"]

    @property
    def did_you_mean(self) -> str:
        """The query as the typo corrections read it, or "" when nothing was corrected."""
        if not self.corrections:
            return ""
        text = self.query
        for wrong, right in self.corrections.items():
            text = text.replace(wrong, right)
        return text


class _Cache:
    """Synonyms and the typo vocabulary, reloaded at most every `ttl` seconds."""

    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self.lock = threading.Lock()
        self.loaded: dict[str, float] = {}
        self.synonyms: dict[str, set[str]] = {}
        self.vocabulary: list[str] = []
        self.sounds: dict[str, set[str]] = {}
        self.document_total = 0
        self.domains: dict[str, set[str]] = {}
        self.combinations: dict[int, FacetCombination] = {}

    def clear(self) -> None:
        with self.lock:
            self.loaded.clear()
            self.combinations = {}

    def facet_combinations(self, ids: list[int]) -> dict[int, FacetCombination]:
        """Facet combinations by id. They never change, so they are loaded once; those indexed since are fetched
        when a count first meets them."""
        with self.lock:
            missing = [i for i in ids if i not in self.combinations]
            if missing:
                rows = FacetSet.objects.filter(id__in=id_list(missing)) if self.combinations else FacetSet.objects.all()
                for row in rows:
                    self.combinations[row.id] = FacetCombination.of(row)
            return self.combinations

    def _fresh(self, name: str) -> bool:
        return time.monotonic() - self.loaded.get(name, -1e9) < self.ttl

    def synonyms_of(self, word: str) -> set[str]:
        with self.lock:
            if not self._fresh("synonyms"):
                table: dict[str, set[str]] = {}
                for synonym in Synonym.objects.filter(active=True):
                    group = {analysis.fold(w) for w in synonym.words}
                    for w in group:
                        table.setdefault(w, set()).update(group - {w})
                self.synonyms = table
                self.loaded["synonyms"] = time.monotonic()
            return self.synonyms.get(word, set())

    def domain_words(self, codes: list[str]) -> set[str]:
        """The analysed words of the named domains (信用服务 → 信用, 服务, 信用服务)."""
        with self.lock:
            if not self._fresh("domains"):
                from citydata.catalog.models import Domain

                self.domains = {
                    code: set(analysis.words(name)) for code, name in Domain.objects.values_list("code", "name")
                }
                self.loaded["domains"] = time.monotonic()
            table = self.domains
        if len(codes) == 1:
            return table.get(codes[0], set())
        return set().union(*(table.get(c, set()) for c in codes))

    def words(self) -> list[str]:
        self._load_vocabulary()
        return self.vocabulary

    def by_sound(self, sound: str) -> set[str]:
        """Chinese words of the index that read as `sound` (yiyuan → 医院)."""
        self._load_vocabulary()
        return self.sounds.get(sound, set())

    def _load_vocabulary(self) -> None:
        with self.lock:
            if time.monotonic() - self.loaded.get("vocabulary", -1e9) < VOCABULARY_TTL:
                return
            seen: set[str] = set()
            for title, tags in SearchDocument.objects.values_list("title_terms", "tag_terms").iterator(chunk_size=5000):
                seen.update(title.split())
                seen.update(tags.split())
            words = sorted(w for w in seen if len(w) >= 2)
            sounds: dict[str, set[str]] = {}
            for word in words:
                if not word.isascii():
                    sounds.setdefault(_sound(word), set()).add(word)
            self.vocabulary = words + sorted({p for w in words for p in analysis.pinyin_terms([w])})
            self.sounds = sounds
            self.loaded["vocabulary"] = time.monotonic()

    def teach(self, *, force: bool = False) -> None:
        """Give the segmenter the catalog's vocabulary, at most every VOCABULARY_TTL seconds per process, so
        web processes cut queries with the same dictionary the indexing worker cut the documents with."""
        from citydata.search import index

        with self.lock:
            if not force and time.monotonic() - self.loaded.get("dictionary", -1e9) < VOCABULARY_TTL:
                return
            self.loaded["dictionary"] = time.monotonic()
        index.teach_vocabulary()

    def total(self) -> int:
        with self.lock:
            if not self._fresh("total"):
                self.document_total = SearchDocument.objects.count()
                self.loaded["total"] = time.monotonic()
            return self.document_total or 1


cache = _Cache()


def _correct(word: str) -> str:
    """The vocabulary word one character away from `word` (the most common form of a typo)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    if not 2 <= len(word) <= 12 or (word.isascii() and len(word) < 4):
        return ""
    candidates = process.extract(word, cache.words(), scorer=Levenshtein.distance, score_cutoff=1, limit=10)
    close = [c for c, distance, _i in candidates if distance == 1]
    if not word.isascii():
        # Chinese typos come from the input method: the wrong character with the same sound (实事 → 实时).
        # In a short word any other one-character change is just another word (车库 is not 车位).
        sound = _sound(word)
        homophones = [c for c in close if len(c) == len(word) and _sound(c) == sound]
        close = homophones or (close if len(word) >= 4 else [])
    return close[0] if close else ""


def _sound(word: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word, errors="ignore"))


def parse(query: str) -> tuple[list[Group], dict[str, str]]:
    cache.teach()
    backend = get_backend()
    groups: list[Group] = []
    corrections: dict[str, str] = {}
    for word in dict.fromkeys(analysis.query_words(query[:100])):  # unique, in order
        alternatives = {word} | cache.synonyms_of(word)
        parts = sorted({w for w in analysis.words(word) if len(w) >= 2} - alternatives) if len(word) >= 3 else []
        if analysis.is_pinyin_like(word) and len(word) >= 2:
            alternatives.add(word + "*")
            for chinese in cache.by_sound(word):  # yiyuan → 医院, and 医院's synonyms
                alternatives |= {chinese} | cache.synonyms_of(chinese)
        group = Group(word, sorted(alternatives), parts=[] if word.isascii() else parts)
        group.df = backend.count([group.terms])
        if group.df == 0:
            fixed = _correct(word)
            if fixed:
                corrections[word] = fixed
                group = Group(word, sorted({fixed} | cache.synonyms_of(fixed)), corrected=fixed)
                group.df = backend.count([group.terms])
            elif not word.isascii() and len(word) >= 3:
                # unknown to the segmenter and the index: fall back to its character pairs, all required
                for pair in analysis.bigrams(word):
                    groups.append(Group(pair, [pair], df=backend.count([[pair]])))
                continue
        groups.append(group)
    return groups[:MAX_GROUPS], corrections


def search(query: str, *, filters: Filters | None = None) -> Results:
    """Every document matching `query` and `filters`, best first (at most WINDOW). Filters are facet values
    (`FACETS`, and "kind"); a dataset facet's filter means datasets only."""
    filters = {name: value for name, value in (filters or {}).items() if value}
    groups, corrections = parse(query)
    if not groups:
        return Results(query, [], [], corrections=corrections, filters=filters)
    backend = get_backend()
    alternatives = [g.terms for g in groups]
    matching = alternatives
    ids: list[int] = []
    if min(g.df for g in groups) > BROAD * WINDOW:
        # A broad query (信息, 统计): the backend's relevance over tens of thousands of matches costs more than
        # everything else; those holding the words in their titles or tags are the candidates that rank first.
        ids = backend.match(alternatives, WINDOW, titles=True, filters=filters)
    if len(ids) < WINDOW:
        ids = backend.match(alternatives, WINDOW, filters=filters)
    partial = False
    if not ids and len(groups) > 1:
        either = [[t for g in groups for t in g.terms]]
        ids = backend.match(either, WINDOW, filters=filters)
        partial = bool(ids)
        matching = either if partial else alternatives
    rows = SearchDocument.objects.filter(id__in=id_list(ids)).values_list(*LOADED) if ids else []
    documents = [IndexedDocument(*row) for row in rows]
    total = cache.total()
    scoring = _Query(
        folded="".join(analysis.fold(query).split()),
        groups=groups,
        idf={i: math.log(1 + (total - g.df + 0.5) / (g.df + 0.5)) for i, g in enumerate(groups)},
        terms=frozenset().union(*(g.all_terms for g in groups)),
        stems=tuple(dict.fromkeys(stem for g in groups for stem in g.stems)),
        now=timezone.now(),
    )
    hits = [_score(d, scoring) for d in documents]
    hits.sort(key=lambda h: (-h.score, h.document.title, h.document.kind, h.document.object_id))
    if not filters and len(ids) < WINDOW:
        matched = len(ids)
    elif len(groups) == 1 and not partial:
        matched = groups[0].df  # already counted
    elif not ids and not partial:
        matched = backend.count(alternatives) if filters else 0
    else:
        matched = backend.count(matching)
    return Results(
        query,
        groups,
        hits,
        partial=partial,
        corrections=corrections,
        matched=matched,
        filters=filters,
        matching=matching,
    )


def load_deferred(hits: list[Hit]) -> None:
    """Fetch the fields ranking leaves out (summary, source) for the hits shown, in one query."""
    rows = {
        pk: (summary, source, source_id)
        for pk, summary, source, source_id in SearchDocument.objects.filter(
            id__in=[h.document.pk for h in hits]
        ).values_list("id", "summary", "source", "source_id")
    }
    for hit in hits:
        hit.document.summary, hit.document.source, hit.document.source_id = rows.get(hit.document.pk, ("", "", ""))


class _Fields(dict):
    """A document's term sets by field (and "domain": the words of its domains), each split only when the ranking
    first asks for it; most documents are settled by their title."""

    __slots__ = ("document", "texts")

    def __init__(self, document: IndexedDocument):
        super().__init__()
        self.document = document
        self.texts: dict[str, str] = {}

    def __missing__(self, name: str) -> set[str]:
        if name == "domain":
            value = cache.domain_words(self.document.domains)
        else:
            value = set(getattr(self.document, name).split())
        self[name] = value
        return value

    def starts(self, name: str, stem: str) -> bool:
        """Whether a term of the field starts with `stem` (a search in the field's text, not a loop over terms)."""
        text = self.texts.get(name)
        if text is None:
            raw = " ".join(self[name]) if name == "domain" else getattr(self.document, name)
            text = self.texts[name] = " " + raw
        return " " + stem in text


# Fields from the highest weight down: a group's best field is the first that holds it whole.
_BY_WEIGHT = tuple(sorted([*((w, n) for n, w in WEIGHTS.items()), (DOMAIN_WEIGHT, "domain")], key=lambda x: -x[0]))


def _holds(fields: _Fields, name: str, group: Group) -> float:
    """1 when the field holds one of the group's alternatives, PREFIX_CREDIT when only a prefix (pinyin) does."""
    terms = fields[name]
    if not group.exact.isdisjoint(terms):
        return 1.0
    credit = 0.0
    for stem in group.stems:
        if fields.starts(name, stem):
            credit = max(credit, 1.0 if stem in terms else PREFIX_CREDIT)
    return credit


def _weight(fields: _Fields, group: Group) -> float:
    """The group's best field weight; for a word matched only through the words inside it, each inner
    word counts with the best field it occurs in (企业 in the title and 信用 in a field title beat 企业 alone)."""
    full = 0.0
    for weight, name in _BY_WEIGHT:
        if weight <= full:
            break  # no later field can weigh more
        credit = _holds(fields, name, group)
        if credit:
            full = max(full, weight * credit)
            if credit == 1.0:
                break
    if not group.parts or full >= WEIGHTS["title_terms"]:
        return full
    inner = sum(next((w for w, name in _BY_WEIGHT if p in fields[name]), 0.0) for p in group.parts)
    return max(full, inner / len(group.parts))


def _in_title(fields: _Fields, group: Group) -> bool:
    if _holds(fields, "title_terms", group) == 1.0 or _holds(fields, "pinyin_terms", group) == 1.0:
        return True
    return bool(group.parts) and all(p in fields["title_terms"] for p in group.parts)


@dataclass(frozen=True)
class _Query:
    """What scoring needs of the query, computed once for every candidate."""

    folded: str  # the whole query, folded, without spaces (for the phrase bonus)
    groups: list[Group]
    idf: dict[int, float]
    terms: frozenset[str]  # every group's terms (for title coverage)
    stems: tuple[str, ...]  # every group's pinyin prefixes
    now: dt.datetime


@lru_cache(maxsize=65536)
def _folded_title(title: str) -> str:
    return analysis.fold(title)


def _score(document: IndexedDocument, query: _Query) -> Hit:
    fields = _Fields(document)
    groups = query.groups
    parts: dict[str, float] = {}
    matched_in_title = 0
    for i, group in enumerate(groups):
        weight = _weight(fields, group)
        if weight:
            parts[f"词:{group.word}"] = round(query.idf[i] * weight, 3)
        if _in_title(fields, group):
            matched_in_title += 1
    if query.folded and query.folded in _folded_title(document.title):
        parts["短语"] = 8.0
    elif groups and matched_in_title == len(groups):
        parts["短语"] = 4.0
    title_words = document.title_terms.split()
    if title_words:
        terms, stems = query.terms, query.stems
        hit_words = sum(1 for w in title_words if w in terms or w.startswith(stems))
        parts["标题覆盖"] = round(3.0 * hit_words / len(title_words), 3)
    popularity = document.views + 3 * document.downloads
    if popularity:
        parts["热度"] = round(min(2.0, 0.5 * math.log10(1 + popularity)), 3)
    if document.updated:
        age = (query.now - document.updated).days
        if age <= 30:
            parts["时效"] = 1.0
        elif age <= 365:
            parts["时效"] = 0.5
    return Hit(document, round(sum(parts.values()), 3), parts)


def highlight(text: str, groups: list[Group]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_match) runs for the query's words (for <mark> in templates)."""
    words = sorted(
        {a for g in groups for a in g.terms if not a.endswith("*") and not a.isascii()} | {g.word for g in groups},
        key=len,
        reverse=True,
    )
    if not text or not words:
        return [(text, False)]
    folded = analysis.fold(text)
    marks = [False] * len(text)
    if len(folded) == len(text):  # folding kept positions (the usual case): mark on the original text
        for word in words:
            start = folded.find(word)
            while start >= 0 and word:
                for i in range(start, start + len(word)):
                    marks[i] = True
                start = folded.find(word, start + len(word))
    pieces: list[tuple[str, bool]] = []
    for char, mark in zip(text, marks, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + char, mark)
        else:
            pieces.append((char, mark))
    return pieces


FACETS = ("domain", "department", "open_type", "format", "frequency")  # the catalog's, for datasets


@dataclass
class FacetCounts:
    counts: dict[str, dict[str, int]]  # "kind" and each of FACETS → value → matching documents
    total: int  # documents matching the query and every filter
    estimated: bool = False  # counted on a sample of a very broad match (FACET_EXACT), then scaled
    total_exact: bool = True  # without filters the total is the backend's exact count even when facets are sampled


def facets(results: Results) -> FacetCounts:
    """Facet counts over every document the query matches, beyond the ranked window. SQL groups the matches by facet
    combination (`FacetSet`, one integer per document); each facet then adds up the combinations (a few thousand
    at most) passing every filter but its own, so a facet's other values keep their counts. Dataset facets count
    datasets; "kind" counts every kind. When the ranked window holds every match, its documents are the groups."""
    counts: dict[str, dict[str, int]] = {name: {} for name in ("kind", *FACETS)}
    if not results.matching or not results.matched:
        return FacetCounts(counts, 0)
    filters = results.filters
    every = math.ceil(results.matched / FACET_EXACT) if results.matched > FACET_EXACT else 1
    if not filters and len(results.hits) == results.matched:
        rows = list(Counter(h.document.facet_set_id for h in results.hits).items())
    else:
        rows = get_backend().facet_sets(results.matching, every=every)
    combinations = cache.facet_combinations([fs for fs, _n in rows if fs is not None])
    tally: defaultdict[tuple[str, str], int] = defaultdict(int)
    total = sampled = 0
    for facet_set, n in rows:
        sampled += n
        combination = combinations.get(facet_set) if facet_set is not None else None
        if combination is None:
            continue  # a document indexed before facet combinations existed (the nightly rebuild fills them in)
        keys = combination.keys
        if filters:
            failed = [name for name, wanted in filters.items() if wanted not in combination.values[name]]
            if not failed:
                total += n
            elif len(failed) == 1:  # it counts only in the facet whose filter it fails
                keys = tuple(k for k in keys if k[0] == failed[0])
            else:
                continue
        for key in keys:
            tally[key] += n
    for (name, value), n in tally.items():
        counts[name][value] = n
    if every == 1:
        return FacetCounts(counts, total if filters else results.matched)
    scale = results.matched / sampled if sampled else 0.0
    scaled = {name: {v: max(1, round(n * scale)) for v, n in values.items()} for name, values in counts.items()}
    if not filters:
        return FacetCounts(scaled, results.matched, estimated=True)
    return FacetCounts(scaled, round(total * scale), estimated=True, total_exact=False)
