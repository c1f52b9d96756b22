"""The search index: one row per searchable object (a dataset, a rule of the data-opening standard; see
`sources.py`) with its analysed terms, kept in step by a background task; the full-text index itself (SQLite FTS5
or a PostgreSQL tsvector) mirrors these rows."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FacetSet(models.Model):
    """One combination of facet values that indexed documents share: kind, department, open type, frequency,
    domains and formats. Each document points at its combination, so one grouped query counts a search's matches
    by combination (an integer) and every facet's counts are sums over those groups. 100,000 generated datasets
    have about 3,400 combinations. Rows are never changed: another combination is another row."""

    signature = models.CharField(max_length=64, unique=True)  # sha256 of the values, to find the row again
    kind = models.CharField(max_length=20)
    department_code = models.CharField(max_length=32, blank=True)
    open_type = models.CharField(max_length=20, blank=True)
    frequency = models.CharField(max_length=20, blank=True)
    domains = models.JSONField(default=list, blank=True)
    formats = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("搜索分面组合")
        verbose_name_plural = _("搜索分面组合")

    def __str__(self) -> str:
        return f"{self.kind}:{self.department_code}:{self.open_type}:{self.frequency}"


class SearchDocument(models.Model):
    """One searchable object. `kind` names its source (`sources.py`); the facet columns are empty for kinds other
    than datasets."""

    kind = models.CharField(max_length=20, default="dataset")
    object_id = models.BigIntegerField()
    slug = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    department_code = models.CharField(max_length=32, blank=True)
    department_name = models.CharField(max_length=120, blank=True)
    domains = models.JSONField(default=list, blank=True)
    open_type = models.CharField(max_length=20, blank=True)
    formats = models.JSONField(default=list, blank=True)
    frequency = models.CharField(max_length=20, blank=True)
    views = models.PositiveIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, blank=True)
    source_id = models.CharField(max_length=200, blank=True)
    # analysed terms, space-separated, by field (the ranking weighs them differently)
    title_terms = models.TextField(blank=True)
    tag_terms = models.TextField(blank=True)
    field_terms = models.TextField(blank=True)
    org_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    pinyin_terms = models.TextField(blank=True)
    gram_terms = models.TextField(blank=True)
    indexed_at = models.DateTimeField(default=timezone.now)
    facet_set = models.ForeignKey(FacetSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("搜索索引条目")
        verbose_name_plural = _("搜索索引条目")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_once")]
        # Facet counting reads (id, facet_set) for every match: a narrow index, not the wide rows of terms.
        indexes = [models.Index(fields=["id", "facet_set"], name="search_document_facets")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.slug}"


class Synonym(models.Model):
    """A group of words that mean the same to searchers (公交, 公共汽车, 公车); operators edit them."""

    terms = models.CharField(_("同义词"), max_length=300, help_text=_("用逗号分隔，例如：公交,公共汽车,公车"))
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.terms

    @property
    def words(self) -> list[str]:
        return [w.strip() for w in self.terms.replace("，", ",").split(",") if w.strip()]


class SearchQuery(models.Model):
    """One search as asked (folded text), how many results it had, and where (R6.1 analytics): the
    operators' top and zero-result queries come from here; zero-result ones are unmet demand for data."""

    text = models.CharField(_("搜索词"), max_length=100, db_index=True)
    results = models.PositiveIntegerField(_("结果数"), default=0)
    source = models.CharField(_("来源"), max_length=10, default="page")  # page or api
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("搜索记录")
        verbose_name_plural = _("搜索记录")

    def __str__(self) -> str:
        return f"{self.text} ({self.results})"


class SearchClick(models.Model):
    """A result someone opened from a search (the page's links and the API's `click_url` go through a signed
    redirect): which result (a dataset, or another kind's object), at which position, for which logged search.
    Operators read click-through by position from these."""

    query = models.ForeignKey(
        SearchQuery, on_delete=models.CASCADE, null=True, blank=True, related_name="clicks", verbose_name=_("搜索")
    )
    kind = models.CharField(_("类型"), max_length=20, default="dataset")
    slug = models.CharField(_("结果"), max_length=100)
    position = models.PositiveSmallIntegerField(_("位置"))  # 1 is the first result
    source = models.CharField(_("来源"), max_length=10, default="page")  # page or api
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("搜索点击")
        verbose_name_plural = _("搜索点击")

    def __str__(self) -> str:
        return f"{self.slug} #{self.position}"
