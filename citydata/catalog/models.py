"""Catalog state: domains, inventory entries (数据家底) with their classification, datasets, fields and resources."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department


def _city_label(value: str, national):
    """The city's own word for an open type when it configured one (CITYDATA_OPEN_TYPE_LABELS), in Chinese
    pages; the national wording otherwise and in other languages. Lazy, so the setting is read when shown."""

    def label() -> str:
        own = settings.OPEN_TYPE_LABELS.get(value)
        return own if own and (get_language() or "zh").startswith("zh") else str(national)

    return lazy(label, str)()


class OpenType(models.TextChoices):
    """The three tiers of opening (R2.1), plus entries registered but not yet classified."""

    OPEN = "open", _city_label("open", _("无条件开放"))
    CONDITIONAL = "conditional", _city_label("conditional", _("有条件开放"))
    CLOSED = "closed", _city_label("closed", _("不予开放"))
    PENDING = "pending", _city_label("pending", _("待分类"))


OPEN_LIST_TYPES = (OpenType.OPEN, OpenType.CONDITIONAL)


class Sensitivity(models.TextChoices):
    """Data levels of GB/T 43697-2024."""

    GENERAL = "general", _("一般数据")
    IMPORTANT = "important", _("重要数据")
    CORE = "core", _("核心数据")


class Frequency(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
    IRREGULAR = "irregular", _("不定期")


class Domain(models.Model):
    """A subject domain (领域). The plan's seven priority domains are flagged; the vocabulary is data."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    is_priority = models.BooleanField(_("重点领域"), default=False)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("领域")
        verbose_name_plural = _("领域")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language (the vocabulary is Chinese first)."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name


class InventoryEntry(models.Model):
    """One data resource a department holds, published or not, with its classification (R2.1, R2.2)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="inventory")
    code = models.CharField(_("资源编码"), max_length=60)
    name = models.CharField(_("资源名称"), max_length=120)
    description = models.TextField(_("资源摘要"), blank=True)
    open_type = models.CharField(_("开放类型"), max_length=20, choices=OpenType.choices)
    sensitivity = models.CharField(
        _("数据级别"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.GENERAL
    )
    sub_level = models.CharField(_("细分级别"), max_length=40, blank=True)
    impact_objects = models.CharField(_("影响对象"), max_length=200, blank=True)
    review_due = models.DateField(_("复核日期"), null=True, blank=True)
    legal_basis_name = models.CharField(_("不予开放依据（法规或文件名称）"), max_length=200, blank=True)
    legal_basis_article = models.CharField(_("条款"), max_length=100, blank=True)
    legal_basis_url = models.URLField(_("依据链接"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("数据资源")
        verbose_name_plural = _("数据资源目录")
        ordering = ["department__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["department", "code"], name="inventory_code_unique_per_department"),
            # Not open only with a cited basis (R2.2): the database refuses it even if a service forgot to.
            models.CheckConstraint(
                condition=~Q(open_type="closed") | ~Q(legal_basis_name=""), name="closed_entry_has_legal_basis"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DatasetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class Dataset(models.Model):
    """An opened dataset (数据集) of one department (R1.1)."""

    # Set by datastore.queries.readable_dataset when the dataset is read through a conditional-data grant
    # (the grant, and the fields it allows); not stored.
    grant: Any = None
    granted_fields: list[str] | None = None

    slug = models.SlugField(_("标识"), max_length=100, unique=True)
    title = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("摘要"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="datasets")
    domains = models.ManyToManyField(Domain, related_name="datasets", verbose_name=_("领域"))
    tags = models.JSONField(_("标签"), default=list, blank=True)
    open_type = models.CharField(_("开放类型"), max_length=20, choices=OpenType.choices, default=OpenType.OPEN)
    licence = models.CharField(_("开放协议"), max_length=80, default="公共数据开放协议 v1.0")
    update_frequency = models.CharField(_("更新频率"), max_length=20, choices=Frequency.choices)
    temporal_start = models.DateField(_("时间范围起"), null=True, blank=True)
    temporal_end = models.DateField(_("时间范围止"), null=True, blank=True)
    spatial_coverage = models.CharField(_("空间范围"), max_length=100, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=DatasetStatus.choices, default=DatasetStatus.DRAFT)
    withdrawn_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    inventory_entry = models.ForeignKey(
        InventoryEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="datasets",
        verbose_name=_("对应资源"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    last_data_update = models.DateTimeField(_("数据更新时间"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("浏览量"), default=0)
    download_count = models.PositiveIntegerField(_("下载量"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    source = models.CharField(_("来源平台"), max_length=20, blank=True)
    source_id = models.CharField(_("来源标识"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("数据集")
        verbose_name_plural = _("数据集")
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"]),
            models.Index(fields=["status", "-download_count", "-id"]),
            models.Index(fields=["status", "-view_count", "-id"]),
            models.Index(fields=["department", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reason=""), name="withdrawn_dataset_has_reason"
            ),
            # An imported record is imported once: re-running an import finds it by its source identifier.
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~Q(source_id=""), name="dataset_source_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FieldType(models.TextChoices):
    STRING = "string", _("字符串")
    INTEGER = "integer", _("整数")
    DECIMAL = "decimal", _("小数")
    BOOLEAN = "boolean", _("布尔")
    DATE = "date", _("日期")
    DATETIME = "datetime", _("日期时间")
    POINT = "point", _("坐标")


class DatasetField(models.Model):
    """One column of a dataset, as declared by its department."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("字段名"), max_length=64)
    title = models.CharField(_("中文名称"), max_length=60)
    type = models.CharField(_("类型"), max_length=20, choices=FieldType.choices, default=FieldType.STRING)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    example = models.CharField(_("示例"), max_length=100, blank=True)
    sensitive = models.BooleanField(_("敏感字段"), default=False)
    category = models.CharField(
        _("字段类别"),
        max_length=40,
        blank=True,
        help_text=_("与本部门分级分类细则中的字段类别对应，例如 个人身份信息。"),
    )

    class Meta:
        verbose_name = _("字段")
        verbose_name_plural = _("字段")
        ordering = ["dataset", "position"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="field_name_unique_per_dataset")]

    def __str__(self) -> str:
        return f"{self.name} {self.title}"


class ResourceKind(models.TextChoices):
    FILE = "file", _("文件")
    API = "api", _("接口")
    STREAM = "stream", _("实时数据流")


class Resource(models.Model):
    """A way to get a dataset's data: a file, an API endpoint or a real-time stream."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources")
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=20, choices=ResourceKind.choices, default=ResourceKind.FILE)
    format = models.CharField(_("格式"), max_length=20)
    url = models.CharField(_("地址"), max_length=500, blank=True)
    size_bytes = models.BigIntegerField(_("大小（字节）"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("资源")
        verbose_name_plural = _("资源")
        ordering = ["dataset", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.format})"


class OpenListStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已发布")
    RETURNED = "returned", _("已退回")


class OpenListVersion(models.Model):
    """A department's open list (开放清单) as submitted for review: a frozen snapshot of its inventory.

    The newest approved version is the published open list; every version is kept so any two
    can be compared (R2.3)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="open_lists")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=20, choices=OpenListStatus.choices, default=OpenListStatus.SUBMITTED
    )
    entries = models.JSONField(_("清单内容"), default=list)
    note = models.CharField(_("提交说明"), max_length=200, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    submitted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("提交人")
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("审核人")
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("开放清单版本")
        verbose_name_plural = _("开放清单版本")
        ordering = ["department", "-number"]
        constraints = [models.UniqueConstraint(fields=["department", "number"], name="open_list_number_unique")]

    def __str__(self) -> str:
        return f"{self.department} v{self.number}"


class RuleSeverity(models.TextChoices):
    WARNING = "warning", _("提示")
    BLOCKING = "blocking", _("阻止发布")


class StandardRule(models.Model):
    """One rule of the metadata and naming standard (R7.1). The rule kinds are code
    (`catalog.standard.RULE_KINDS`); which rules apply, with what parameters and severity, is data."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    kind = models.CharField(_("规则类型"), max_length=40)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    severity = models.CharField(_("级别"), max_length=20, choices=RuleSeverity.choices, default=RuleSeverity.WARNING)
    description = models.CharField(_("规则说明"), max_length=300)
    enabled = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("标准规则")
        verbose_name_plural = _("数据开放标准")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.description


class Masking(models.TextChoices):
    """De-identification a rule requires before data of that kind is opened (applied by the privacy issue)."""

    NONE = "none", _("无需脱敏")
    SUPPRESS = "suppress", _("删除字段")
    PARTIAL = "partial", _("部分遮蔽")
    PSEUDONYM = "pseudonym", _("假名化")
    GENERALISE = "generalise", _("泛化")
    DATE_SHIFT = "date_shift", _("日期偏移")
    TOP_BOTTOM = "top_bottom", _("顶底编码")


class ClassificationRuleSet(models.Model):
    """One version of a department's classification rules (分级分类细则, R2.4). Versions are never edited:
    a change publishes a new one. `rules` is a list of {sensitivity | field_category, allowed_open_type,
    masking, note}."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="classification_rules")
    number = models.PositiveIntegerField(_("版本号"))
    rules = models.JSONField(_("规则"), default=list)
    note = models.CharField(_("修订说明"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("发布人")
    )
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("分级分类细则")
        verbose_name_plural = _("分级分类细则")
        ordering = ["department", "-number"]
        constraints = [models.UniqueConstraint(fields=["department", "number"], name="rule_set_number_unique")]

    def __str__(self) -> str:
        return f"{self.department} v{self.number}"


class OpeningTarget(models.Model):
    """How many datasets should be open by the end of `year` (R1.2): city-wide when `department` is empty,
    else for that department. Without a city row the platform uses CITYDATA_ANNUAL_TARGET."""

    year = models.PositiveSmallIntegerField(_("年份"))
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="opening_targets"
    )
    target = models.PositiveIntegerField(_("目标数量"))
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("开放目标")
        verbose_name_plural = _("开放目标")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "department"], condition=Q(department__isnull=False), name="target_per_department"
            ),
            models.UniqueConstraint(fields=["year"], condition=Q(department__isnull=True), name="target_per_city"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.department or '全市'} {self.target}"
