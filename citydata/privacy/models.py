"""What the platform knows about personal data in each data version: the masking applied, the scan of what would be
published, the re-identification risk, the operator's override of the publication gate; the dataset's standing
masking plan; and the periodic scans of published versions with the tasks they give departments."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department
from citydata.catalog.models import Dataset
from citydata.datastore.models import DataVersion


class VersionPrivacy(models.Model):
    """The privacy state of one data version. Every scan result here is masked: rows, columns, types, counts and
    masked examples, never a raw value."""

    version = models.OneToOneField(DataVersion, on_delete=models.CASCADE, related_name="privacy")
    plan = models.JSONField(_("已执行的脱敏方案"), default=list, blank=True)  # [{column, strategy, params, source}]
    report = models.JSONField(_("扫描结果"), default=dict, blank=True)  # {rows, columns: [...], cells: {...}}
    blocking = models.JSONField(_("阻止发布的发现"), default=list, blank=True)  # [{column, type, count, examples}]
    warnings = models.JSONField(_("需确认的发现"), default=list, blank=True)
    suggested = models.JSONField(_("建议脱敏方案"), default=list, blank=True)
    scanned_at = models.DateTimeField(_("扫描时间"), null=True, blank=True)

    quasi_identifiers = models.JSONField(_("准标识符"), default=list, blank=True)
    sensitive_column = models.CharField(_("敏感属性列"), max_length=100, blank=True)
    k = models.PositiveIntegerField(_("k 匿名"), null=True, blank=True)
    l_diversity = models.PositiveIntegerField(_("l 多样性"), null=True, blank=True)
    smallest_classes = models.JSONField(_("最小等价类"), default=list, blank=True)
    proposal = models.JSONField(_("建议泛化"), default=dict, blank=True)  # {steps: [...], k, l, reached}

    override_reason = models.TextField(_("放行理由"), blank=True)
    override_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("放行人")
    )
    override_at = models.DateTimeField(_("放行时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("数据版本隐私检查")
        verbose_name_plural = _("数据版本隐私检查")

    def __str__(self) -> str:
        return f"{self.version} privacy"

    @property
    def overridden(self) -> bool:
        return self.override_at is not None


class MaskingPlan(models.Model):
    """The masking a dataset's uploads get in ingest, before their Parquet file is stored: the last plan a provider
    applied, so next month's upload of the same table is masked without another click."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="masking_plan")
    steps = models.JSONField(_("脱敏步骤"), default=list)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("修改人")
    )
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("脱敏方案")
        verbose_name_plural = _("脱敏方案")

    def __str__(self) -> str:
        return f"{self.dataset_id} masking plan"


class ScanRun(models.Model):
    """One run of the periodic scan of published versions (R8.3)."""

    started_at = models.DateTimeField(_("开始时间"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    versions = models.PositiveIntegerField(_("扫描版本数"), default=0)
    with_findings = models.PositiveIntegerField(_("有发现的版本数"), default=0)
    findings = models.PositiveIntegerField(_("发现数"), default=0)
    tasks_opened = models.PositiveIntegerField(_("新建整改任务数"), default=0)
    errors = models.PositiveIntegerField(_("失败数"), default=0)

    class Meta:
        verbose_name = _("隐私定期扫描")
        verbose_name_plural = _("隐私定期扫描")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"scan {self.started_at:%Y-%m-%d %H:%M}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    RESOLVED = "resolved", _("已整改")


class PrivacyTask(models.Model):
    """Personal data the periodic scan found in a published version: a task for the owning department with a
    deadline. One open task per version; a later scan updates it instead of opening another."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="privacy_tasks")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="privacy_tasks")
    version = models.ForeignKey(DataVersion, on_delete=models.CASCADE, related_name="privacy_tasks")
    findings = models.JSONField(_("发现"), default=list)  # [{column, type, count, examples}] — masked
    status = models.CharField(_("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    opened_by_run = models.ForeignKey(ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now, db_index=True)
    deadline = models.DateTimeField(_("整改期限"))
    last_seen_at = models.DateTimeField(_("最近一次发现"), default=timezone.now)
    resolved_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("整改人")
    )
    resolution = models.TextField(_("整改说明"), blank=True)

    class Meta:
        verbose_name = _("个人信息整改任务")
        verbose_name_plural = _("个人信息整改任务")
        ordering = ["status", "deadline"]
        constraints = [
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(status="open"), name="one_open_privacy_task_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.version_id} {self.status}"

    @property
    def overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and timezone.now() > self.deadline
