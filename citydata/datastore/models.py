"""Versions of a dataset's data. Each upload becomes a `DataVersion`; the one marked current is served.
Switching the current version is one transaction, so readers see the old version or the new, never a mix."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.catalog.models import Dataset


class VersionStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("处理中")
    READY = "ready", _("可发布")
    FAILED = "failed", _("失败")
    DISCARDED = "discarded", _("已丢弃")


class BadRowPolicy(models.TextChoices):
    REJECT = "reject", _("有错误行则整个文件不导入")
    QUARANTINE = "quarantine", _("隔离错误行，导入其余行")


class DataVersion(models.Model):
    # Set by datastore.queries.readable: the conditional-data grant a read goes through (None otherwise).
    grant: Any = None

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="data_versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(_("状态"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.QUEUED)
    is_current = models.BooleanField(_("当前版本"), default=False)
    bad_rows_policy = models.CharField(
        _("错误行处理"), max_length=20, choices=BadRowPolicy.choices, default=BadRowPolicy.REJECT
    )

    source_name = models.CharField(_("源文件名"), max_length=200)
    source_format = models.CharField(_("源文件格式"), max_length=20, blank=True)
    source_encoding = models.CharField(_("源文件编码"), max_length=20, blank=True)
    source_sha256 = models.CharField(_("源文件 SHA-256"), max_length=64, blank=True)
    source_size = models.BigIntegerField(_("源文件大小"), default=0)
    source_key = models.CharField(max_length=300, blank=True)  # the upload while it waits to be ingested

    row_count = models.BigIntegerField(_("行数"), default=0)
    bad_row_count = models.BigIntegerField(_("错误行数"), default=0)
    columns = models.JSONField(_("列"), default=list, blank=True)  # [{name, title, type, header}]
    point = models.JSONField(_("坐标列"), default=dict, blank=True)  # {"lng": col, "lat": col} when present
    bad_rows = models.JSONField(_("错误行"), default=list, blank=True)  # first rows: {line, column, kind, reason}
    data_key = models.CharField(max_length=300, blank=True)
    data_size = models.BigIntegerField(_("数据文件大小"), default=0)
    cluster_keys = models.JSONField(_("聚簇列"), default=list, blank=True)  # the file is ordered by these
    # Where each value of the first cluster key sits in the clustered file (records.Zones); it names the file it
    # describes, so a version whose file is rewritten (masking, compaction) simply has no usable layout.
    layout = models.JSONField(_("文件布局"), default=dict, blank=True)

    phase = models.CharField(_("阶段"), max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    error_code = models.CharField(max_length=40, blank=True)

    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("上传人")
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="data_version_number_unique"),
            # At most one current version per dataset: the switch is one transaction.
            models.UniqueConstraint(fields=["dataset"], condition=Q(is_current=True), name="one_current_version"),
            models.CheckConstraint(condition=Q(is_current=False) | Q(status="ready"), name="current_version_is_ready"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug} v{self.number}"

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]


class ApiCall(models.Model):
    """One call of the data API (R8.2): who, which dataset, what was asked and what went out."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("用户")
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("密钥")
    )
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    dataset = models.CharField(_("数据集"), max_length=100, db_index=True)
    version = models.PositiveIntegerField(_("版本"), null=True, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    format = models.CharField(_("格式"), max_length=10, blank=True)
    rows = models.BigIntegerField(_("返回行数"), default=0)
    bytes = models.BigIntegerField(_("返回字节数"), default=0)
    status = models.PositiveSmallIntegerField(_("状态码"))
    latency_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["ip", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.dataset} {self.status}"


class RateCounter(models.Model):
    """Calls in one fixed window by one caller (an IP address or an API key), for the database limiter."""

    key = models.CharField(max_length=80)
    window = models.BigIntegerField()  # Unix time of the window's start
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="rate_counter_unique")]
        indexes = [models.Index(fields=["window"])]

    def __str__(self) -> str:
        return f"{self.key} @{self.window}: {self.count}"


class StreamMessage(models.Model):
    """One record pushed to a real-time dataset (R1.3), kept as history; `id` orders the feed."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="stream_messages")
    message_id = models.CharField(_("消息标识"), max_length=80)
    key = models.CharField(_("主键"), max_length=100)
    payload = models.JSONField(_("内容"), default=dict)
    event_time = models.DateTimeField(_("发生时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("实时数据消息")
        verbose_name_plural = _("实时数据消息")
        constraints = [
            # Pushing the same message twice is harmless: the second is recognised and skipped.
            models.UniqueConstraint(fields=["dataset", "message_id"], name="stream_message_once")
        ]
        indexes = [models.Index(fields=["dataset", "id"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.key}#{self.message_id}"


class StreamState(models.Model):
    """The latest record of each key of a real-time dataset (a bus's last position, a ward's free beds)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="stream_states")
    key = models.CharField(_("主键"), max_length=100)
    payload = models.JSONField(_("内容"), default=dict)
    event_time = models.DateTimeField(_("发生时间"), null=True, blank=True)
    message = models.ForeignKey(StreamMessage, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("实时数据最新状态")
        verbose_name_plural = _("实时数据最新状态")
        constraints = [models.UniqueConstraint(fields=["dataset", "key"], name="stream_state_per_key")]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.key}"
