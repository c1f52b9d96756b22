"""Conditional opening (有条件开放, R4): applications, their working-day clock, expert panels, the data-use
agreement, and the scoped grant with its own API key, usage and usage reports."""

from __future__ import annotations

import datetime as dt

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交，待受理")
    RETURNED = "returned", _("退回补正")
    ACCEPTED = "accepted", _("已受理")
    EVALUATING = "evaluating", _("评估中")
    DELIBERATING = "deliberating", _("专家议事中")
    APPROVED = "approved", _("已批准，待签协议")
    REJECTED = "rejected", _("未通过")
    SIGNED = "signed", _("已签协议")
    GRANTED = "granted", _("已授权")
    IN_USE = "in_use", _("使用中")
    EXPIRED = "expired", _("已到期")
    REVOKED = "revoked", _("已撤销")
    WITHDRAWN = "withdrawn", _("已撤回")


# Where each state may go. Every change of state is one service call that checks this table first.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.DRAFT: (State.SUBMITTED, State.WITHDRAWN),
    State.SUBMITTED: (State.ACCEPTED, State.RETURNED, State.WITHDRAWN),
    State.RETURNED: (State.SUBMITTED, State.WITHDRAWN),
    State.ACCEPTED: (State.EVALUATING, State.WITHDRAWN),
    State.EVALUATING: (State.DELIBERATING, State.APPROVED, State.REJECTED, State.WITHDRAWN),
    State.DELIBERATING: (State.EVALUATING,),
    State.APPROVED: (State.SIGNED, State.WITHDRAWN),
    State.SIGNED: (State.GRANTED,),
    State.GRANTED: (State.IN_USE, State.EXPIRED, State.REVOKED),
    State.IN_USE: (State.EXPIRED, State.REVOKED),
    State.EXPIRED: (State.GRANTED,),  # renewed
    State.REJECTED: (),
    State.REVOKED: (),
    State.WITHDRAWN: (),
}

OPEN_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.EVALUATING, State.DELIBERATING)


class ApplicantType(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANISATION = "organisation", _("法人或其他组织")


class Application(models.Model):
    """One request for one or more conditional datasets of one department."""

    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    applicant = models.ForeignKey(
        "accounts.User", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="applications"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("申请单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("数据提供部门"), on_delete=models.PROTECT, related_name="applications"
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True)

    purpose = models.TextField(_("申请用途"))
    scenario = models.TextField(_("应用场景"))
    period_start = models.DateField(_("使用开始日期"))
    period_end = models.DateField(_("使用结束日期"))
    expected_volume = models.CharField(_("预计调用量"), max_length=200)
    security_measures = models.TextField(_("安全保障措施"))
    commitment_accepted_at = models.DateTimeField(_("安全承诺书签署时间"), null=True, blank=True)
    commitment_sha256 = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # The acceptance clock (R4.3): due at the end of the N-th working day; paused while returned.
    accept_due = models.DateTimeField(_("受理期限"), null=True, blank=True)
    paused_workdays = models.PositiveSmallIntegerField(default=0)  # working days left when the clock was paused
    paused_at = models.DateTimeField(null=True, blank=True)  # when it was returned for completion
    paused_total = models.PositiveSmallIntegerField(default=0)  # working days spent waiting for the applicant
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    missing = models.TextField(_("需补正的内容"), blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("开放申请")
        verbose_name_plural = _("开放申请")
        ordering = ["-id"]
        indexes = [models.Index(fields=["department", "state"])]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="application_period")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.state == State.SUBMITTED and self.accept_due is not None and timezone.now() > self.accept_due

    def accepted_on_time(self) -> bool | None:
        if self.accepted_at is None or self.accept_due is None:
            return None
        return self.accepted_at <= self.accept_due


class ApplicationItem(models.Model):
    """A dataset asked for, with the fields needed (an empty list is not allowed: name them)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(_("所需字段"), default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "dataset"], name="application_item_unique")]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.dataset_id}"


class Attachment(models.Model):
    """A supporting document (licence, plan, commitment scan). Kept in the database: small and transactional."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """One step of an application's history, shown to the applicant and the department."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Vote(models.TextChoices):
    APPROVE = "approve", _("同意")
    REJECT = "reject", _("不同意")
    ABSTAIN = "abstain", _("弃权")


class Panel(models.Model):
    """An expert deliberation (专家议事) on an application or on a classification dispute."""

    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.CASCADE, related_name="panels")
    dataset = models.ForeignKey("catalog.Dataset", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("议题"), max_length=200)
    question = models.TextField(_("需专家审议的问题"))
    deadline = models.DateTimeField(_("意见截止时间"))
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(_("议事结论"), max_length=20, choices=Vote.choices, blank=True)
    summary = models.TextField(_("结论说明"), blank=True)

    class Meta:
        verbose_name = _("专家议事")
        verbose_name_plural = _("专家议事")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.subject


class Opinion(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="opinions")
    expert = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="opinions")
    vote = models.CharField(_("表决"), max_length=20, choices=Vote.choices, blank=True)
    text = models.TextField(_("意见"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["panel", "expert"], name="opinion_unique")]

    def __str__(self) -> str:
        return f"{self.panel_id}:{self.expert_id} {self.vote}"


class AgreementTemplate(models.Model):
    """A version of the data-use agreement (开放利用协议). Placeholders: {number} {applicant} {datasets}
    {fields} {purpose} {period_start} {period_end} {rate} {daily_rows} {department} {platform}."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Agreement(models.Model):
    """The exact text the applicant accepted, with when, from where and its digest."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="agreement")
    template = models.ForeignKey(AgreementTemplate, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField()
    accepted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.application_id} {self.sha256[:12]}"


class GrantStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("已暂停")
    REVOKED = "revoked", _("已撤销")
    EXPIRED = "expired", _("已到期")


class Grant(models.Model):
    """Scoped access to conditional data: which datasets and fields, for how long, how much, from where.
    It has its own API key; revoking it takes effect on the next request."""

    application = models.OneToOneField(
        Application, null=True, blank=True, on_delete=models.PROTECT, related_name="grant"
    )
    holder = models.ForeignKey("accounts.User", verbose_name=_("被授权人"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="grants")
    api_key = models.OneToOneField("accounts.ApiKey", on_delete=models.PROTECT, related_name="grant")
    standing = models.BooleanField(_("常态化供数"), default=False)  # a bank's routine feed (R7.3)
    status = models.CharField(_("状态"), max_length=20, choices=GrantStatus.choices, default=GrantStatus.ACTIVE)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    rate_per_minute = models.PositiveIntegerField(_("每分钟调用上限"), default=60)
    daily_rows = models.PositiveBigIntegerField(_("每日行数上限"), default=100_000)
    ip_allowlist = models.JSONField(_("IP 白名单"), default=list, blank=True)  # addresses or CIDR networks
    report_every_days = models.PositiveSmallIntegerField(_("使用报告周期（天）"), default=90)
    next_report_due = models.DateField(_("下次使用报告截止"))
    watermark_secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    status_reason = models.TextField(_("状态说明"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    first_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("数据授权")
        verbose_name_plural = _("数据授权")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{_('授权')} #{self.pk} · {self.holder}"

    def is_live(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == GrantStatus.ACTIVE and self.starts_on <= today <= self.ends_on

    @property
    def not_started(self) -> bool:
        return self.status == GrantStatus.ACTIVE and self.starts_on > timezone.localdate()

    def watermark_key(self) -> bytes:
        """The recipient secret that marks this grant's exports (privacy.watermark)."""
        return bytes.fromhex(self.watermark_secret)

    def record_use(self, rows: int, size: int) -> None:
        """Add one call to today's usage row (one upsert, called by the data API after each answer)."""
        table = connection.ops.quote_name(GrantUsage._meta.db_table)
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Quoted names only; the values are bound.
            sql = (
                f"INSERT INTO {table} ({q('grant_id')}, {q('day')}, {q('calls')}, {q('rows')}, {q('bytes')}) "  # noqa: S608
                f"VALUES (%s, %s, 1, %s, %s) ON CONFLICT ({q('grant_id')}, {q('day')}) DO UPDATE SET "
                f"{q('calls')} = {table}.{q('calls')} + 1, {q('rows')} = {table}.{q('rows')} + excluded.{q('rows')}, "
                f"{q('bytes')} = {table}.{q('bytes')} + excluded.{q('bytes')}"
            )
            cursor.execute(
                sql,
                [self.pk, timezone.localdate(), int(rows), int(size)],
            )


class GrantItem(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="items")
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.PROTECT, related_name="grant_items")
    fields = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grant", "dataset"], name="grant_item_unique")]

    def __str__(self) -> str:
        return f"{self.grant_id}:{self.dataset_id}"


class GrantUsage(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    calls = models.PositiveBigIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["grant", "day"], name="grant_usage_day")]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.day}"


class UsageReport(models.Model):
    """The holder's periodic report (跟踪反馈): what was built, results, incidents."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="reports")
    period_end = models.DateField(_("报告期截止"))
    built = models.TextField(_("开发利用情况"))
    results = models.TextField(_("应用成效"))
    incidents = models.TextField(_("安全事件"), blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.period_end}"
