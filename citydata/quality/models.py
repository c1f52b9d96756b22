"""Data quality (R6.2): what the inspection found in each dataset, the scores it earns, inspection runs
(巡查) with their schedules, rectification tasks (整改) and the history of resource-link probes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department, User
from citydata.catalog.models import Dataset, Domain, Resource


class Family(models.TextChoices):
    """The six families of checks; each carries a weight in the dataset score (`scoring.WEIGHTS`)."""

    METADATA = "metadata", _("元数据")
    FORMAT = "format", _("格式与开放等级")
    SERVICE = "service", _("服务可用性")
    CONTENT = "content", _("数据内容")
    TIMELINESS = "timeliness", _("更新及时性")
    PRIVACY = "privacy", _("个人信息保护")


class Severity(models.TextChoices):
    HIGH = "high", _("严重")
    MEDIUM = "medium", _("一般")
    LOW = "low", _("轻微")


SEVERITY_ORDER: dict[str, int] = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class FindingStatus(models.TextChoices):
    OPEN = "open", _("未解决")
    RESOLVED = "resolved", _("已解决")


class Finding(models.Model):
    """One problem one check found in one dataset (质量问题). A dataset has at most one open finding per check;
    it is resolved when a later assessment no longer sees it, and opened again (a new row) if it comes back."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="quality_findings")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="quality_findings")
    check_code = models.CharField(_("检查项"), max_length=60)
    family = models.CharField(_("类别"), max_length=20, choices=Family.choices)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    message = models.TextField(_("问题说明"))
    details = models.JSONField(_("详情"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen_at = models.DateTimeField(_("首次发现"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("最近发现"), default=timezone.now)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("质量问题")
        verbose_name_plural = _("质量问题")
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "check_code"], condition=Q(status="open"), name="one_open_finding_per_check"
            )
        ]
        indexes = [
            models.Index(fields=["status", "department", "severity"]),
            models.Index(fields=["dataset", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.check_code}"


class ScoreKind(models.TextChoices):
    DATASET = "dataset", _("数据集")
    DEPARTMENT = "department", _("部门")
    CITY = "city", _("全市")


class QualityScore(models.Model):
    """A score (0–100) with its breakdown by family, one row per object and day: the newest row is the current
    score, the rows before it are the trend."""

    kind = models.CharField(max_length=12, choices=ScoreKind.choices)
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    score = models.PositiveSmallIntegerField(_("得分"))
    breakdown = models.JSONField(_("分项"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = _("质量得分")
        verbose_name_plural = _("质量得分")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "day"], condition=Q(kind="dataset"), name="score_dataset_day"),
            models.UniqueConstraint(
                fields=["department", "day"], condition=Q(kind="department"), name="score_department_day"
            ),
            models.UniqueConstraint(fields=["day"], condition=Q(kind="city"), name="score_city_day"),
        ]
        indexes = [
            models.Index(fields=["kind", "dataset", "-day"]),
            models.Index(fields=["kind", "department", "-day"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.score}"


class VersionProfile(models.Model):
    """What the vectorised content and privacy checks measured in one data version. Versions never change, so
    the profile is computed once and reused by every later assessment (and to find duplicated datasets)."""

    version = models.OneToOneField("datastore.DataVersion", on_delete=models.CASCADE, related_name="quality_profile")
    fingerprint = models.CharField(max_length=64, db_index=True)  # the rows' content, whatever their order
    row_count = models.BigIntegerField(default=0)
    stats = models.JSONField(default=dict)
    privacy = models.JSONField(default=list)  # [{column, type, share}] personal-data columns found
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("数据版本画像")
        verbose_name_plural = _("数据版本画像")

    def __str__(self) -> str:
        return f"profile of version {self.version_id}"


class ResourceProbe(models.Model):
    """One check that a resource's address answers (the service family), kept as history."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="probes")
    url = models.CharField(max_length=500)
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("资源可用性检测")
        verbose_name_plural = _("资源可用性检测")
        indexes = [models.Index(fields=["resource", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.url} {'ok' if self.ok else 'down'}"


class Scope(models.TextChoices):
    ALL = "all", _("全部数据集")
    DEPARTMENT = "department", _("指定部门")
    DOMAIN = "domain", _("指定领域")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("巡查中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class RunCadence(models.TextChoices):
    DAILY = "daily", _("每天")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")


class InspectionSchedule(models.Model):
    """A recurring inspection an operator set up; the scheduler starts a run when `next_run_at` has passed."""

    name = models.CharField(_("名称"), max_length=60)
    scope = models.CharField(_("范围"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    cadence = models.CharField(_("周期"), max_length=10, choices=RunCadence.choices, default=RunCadence.WEEKLY)
    create_tasks = models.BooleanField(_("发现问题时生成整改任务"), default=True)
    enabled = models.BooleanField(_("启用"), default=True)
    next_run_at = models.DateTimeField(_("下次巡查"))
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("巡查计划")
        verbose_name_plural = _("巡查计划")
        ordering = ["next_run_at", "id"]

    def __str__(self) -> str:
        return self.name


class InspectionRun(models.Model):
    """One inspection (巡查) of all datasets, a department's or a domain's; its report lists the findings it saw."""

    scope = models.CharField(_("范围"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    schedule = models.ForeignKey(
        InspectionSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    create_tasks = models.BooleanField(_("生成整改任务"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    started_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    datasets_checked = models.PositiveIntegerField(_("检查数据集数"), default=0)
    tasks_created = models.PositiveIntegerField(_("生成整改任务数"), default=0)
    summary = models.JSONField(_("汇总"), default=dict, blank=True)
    error = models.TextField(blank=True)
    findings = models.ManyToManyField(Finding, related_name="runs", blank=True)

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"run {self.pk}"

    @property
    def scope_label(self) -> str:
        if self.scope == Scope.DEPARTMENT and self.department_id:
            return f"{self.get_scope_display()}：{self.department}"
        if self.scope == Scope.DOMAIN and self.domain_id:
            return f"{self.get_scope_display()}：{self.domain}"
        return str(self.get_scope_display())


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    REJECTED = "rejected", _("复核未通过")
    REVIEW = "review", _("待运营方确认")
    CLOSED = "closed", _("已关闭")


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.REJECTED, TaskStatus.REVIEW)


class TaskSource(models.TextChoices):
    INSPECTION = "inspection", _("巡查发现")
    ERROR_REPORT = "error_report", _("用户纠错")


class RectificationTask(models.Model):
    """A problem a department must fix (整改) by a deadline in working days. Tasks from a check close only when the
    check passes again; tasks from a confirmed error report close when an operator accepts the fix."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rectification_tasks")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="rectification_tasks")
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    check_code = models.CharField(_("检查项"), max_length=60, blank=True)
    run = models.ForeignKey(InspectionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    source = models.CharField(_("来源"), max_length=20, choices=TaskSource.choices, default=TaskSource.INSPECTION)
    source_ref = models.CharField(_("来源编号"), max_length=60, blank=True)  # e.g. the error report's id
    title = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    assignees = models.ManyToManyField(User, related_name="rectification_tasks", blank=True, verbose_name=_("负责人"))
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    deadline = models.DateTimeField(_("整改期限"))
    created_at = models.DateTimeField(_("下发时间"), default=timezone.now)
    fixed_at = models.DateTimeField(_("报告整改时间"), null=True, blank=True)
    fix_note = models.TextField(_("整改说明"), blank=True)
    recheck_message = models.TextField(_("复核结果"), blank=True)
    rechecks = models.PositiveSmallIntegerField(_("复核次数"), default=0)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        constraints = [
            models.UniqueConstraint(
                fields=["finding"],
                condition=Q(status__in=["open", "rejected", "review"]) & Q(finding__isnull=False),
                name="one_open_task_per_finding",
            )
        ]
        indexes = [models.Index(fields=["department", "status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.now()

    @property
    def closed_on_time(self) -> bool | None:
        if self.closed_at is None:
            return None
        return self.closed_at <= self.deadline
