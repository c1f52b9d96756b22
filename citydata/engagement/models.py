"""User interaction around datasets (R6.3, R8.3): comments, ratings, error reports (纠错), data requests
(数据需求), suggestions to the platform and complaints about exposed personal data (投诉举报).

Items a department must answer share the `Ticket` fields: who answers (the department), by when (a working-day
deadline), the public answer, and the reminder / escalation marks of the periodic deadline job.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department
from citydata.catalog.models import Dataset


class ModerationMode(models.TextChoices):
    PRE = "pre", _("先审后发")
    POST = "post", _("先发后审")


class ModerationPolicy(models.Model):
    """The platform's one comment-moderation setting (a single row, pk 1), chosen by operators."""

    mode = models.CharField(
        _("评论审核方式"), max_length=10, choices=ModerationMode.choices, default=ModerationMode.POST
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("评论审核设置")
        verbose_name_plural = _("评论审核设置")

    def __str__(self) -> str:
        return str(self.get_mode_display())


class CommentStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    PUBLISHED = "published", _("已发布")
    HIDDEN = "hidden", _("已屏蔽")


class Comment(models.Model):
    """A public comment on a dataset, moderated by operators or the dataset's department."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(_("评论内容"))
    status = models.CharField(_("状态"), max_length=12, choices=CommentStatus.choices, default=CommentStatus.PENDING)
    hidden_reason = models.CharField(_("屏蔽原因"), max_length=200, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reply = models.TextField(_("部门回复"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(_("发表时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        indexes = [
            models.Index(fields=["dataset", "status", "-id"]),
            models.Index(fields=["author", "created_at"]),
            models.Index(fields=["status", "-id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="hidden") | ~Q(hidden_reason=""), name="hidden_comment_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:40]


class Rating(models.Model):
    """One user's 1–5 rating of a dataset with a short reason; the user may change it at any time."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings")
    score = models.PositiveSmallIntegerField(_("评分"))
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    hidden_reason = models.CharField(_("理由屏蔽原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("评分时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "user"], name="one_rating_per_user"),
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5"),
        ]
        indexes = [models.Index(fields=["dataset", "-updated_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.score}"


class Ticket(models.Model):
    """What every item a department (or, with no department, the platform) must answer by a deadline has."""

    department = models.ForeignKey(
        Department, verbose_name=_("答复部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    due_at = models.DateTimeField(_("答复期限"), null=True, blank=True)
    answer = models.TextField(_("公开答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(
        _("屏蔽原因"), max_length=200, blank=True, help_text=_("填写后，内容不再公开显示，状态和答复仍然保留。")
    )
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def is_overdue(self) -> bool:
        reference = self.answered_at or timezone.now()
        return self.due_at is not None and reference > self.due_at


class ErrorReportStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    CONFIRMED = "confirmed", _("已确认，整改中")
    REJECTED = "rejected", _("经核实无误")
    RESOLVED = "resolved", _("已修正")


class ErrorReport(Ticket):
    """纠错: a user says a dataset is wrong somewhere (a field, a row); its department answers publicly."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="error_reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="error_reports"
    )
    # The field by name and title as they were: the dataset's field list is replaced when it is edited.
    field_name = models.CharField(_("字段"), max_length=64, blank=True)
    field_title = models.CharField(_("字段名称"), max_length=60, blank=True)
    row_ref = models.CharField(_("行或记录"), max_length=100, blank=True)
    problem = models.TextField(_("问题描述"))
    correction = models.CharField(_("正确内容"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ErrorReportStatus.choices, default=ErrorReportStatus.OPEN
    )
    resolved_at = models.DateTimeField(_("修正时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("纠错")
        verbose_name_plural = _("纠错")
        indexes = [
            models.Index(fields=["dataset", "-id"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["reporter", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.problem[:30]}"


class DataRequestStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ACCEPTED = "accepted", _("已受理，筹备中")
    DECLINED = "declined", _("暂不开放")
    FULFILLED = "fulfilled", _("已开放")


class DataRequestSource(models.TextChoices):
    FORM = "form", _("用户提交")
    SEARCH = "search", _("无结果搜索")


class DataRequest(Ticket):
    """数据需求: data someone wants that is not open yet. Answered by accepting it, declining it with the reason
    (such as the legal basis for not opening), or fulfilling it with a dataset. Without a department the
    operators route it first. Entries made from searches that found nothing have no requester."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests"
    )
    title = models.CharField(_("需要的数据"), max_length=100)
    description = models.TextField(_("需求说明"), blank=True)
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    source = models.CharField(
        _("来源"), max_length=10, choices=DataRequestSource.choices, default=DataRequestSource.FORM
    )
    query = models.CharField(_("搜索词"), max_length=100, blank=True)
    search_count = models.PositiveIntegerField(_("无结果搜索次数"), default=0)
    status = models.CharField(
        _("状态"), max_length=12, choices=DataRequestStatus.choices, default=DataRequestStatus.OPEN
    )
    legal_basis = models.CharField(_("不予开放依据"), max_length=200, blank=True)
    dataset = models.ForeignKey(
        Dataset,
        verbose_name=_("开放的数据集"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fulfilled_requests",
    )
    fulfilled_at = models.DateTimeField(_("开放时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据需求")
        verbose_name_plural = _("数据需求")
        indexes = [
            models.Index(fields=["status", "-id"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["requester", "created_at"]),
            models.Index(fields=["query"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="fulfilled") | Q(dataset__isnull=False), name="fulfilled_request_has_dataset"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


class Suggestion(Ticket):
    """A suggestion to the platform itself (not to one dataset); operators answer it."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("建议内容"))
    status = models.CharField(_("状态"), max_length=12, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN)

    class Meta:
        verbose_name = _("平台建议")
        verbose_name_plural = _("平台建议")
        indexes = [models.Index(fields=["status", "-id"]), models.Index(fields=["author", "created_at"])]

    def __str__(self) -> str:
        return self.title


class ComplaintKind(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("泄露个人信息")
    SECRET = "secret", _("涉及国家秘密、商业秘密")
    OTHER = "other", _("其他违法违规内容")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待核查")
    TAKEN_DOWN = "taken_down", _("已下线，核查中")
    UPHELD = "upheld", _("投诉成立，已处理")
    DISMISSED = "dismissed", _("经核查不成立")


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Complaint(Ticket):
    """投诉举报: someone reports exposed personal data (or other unlawful content) in a dataset. Goes to the
    department and the operators; the dataset can be taken down at once pending review. Never public: only
    the reporter (by login or by the secret link), the department and operators see it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="complaints")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    contact = models.CharField(_("联系方式"), max_length=254, blank=True)
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    kind = models.CharField(
        _("类型"), max_length=20, choices=ComplaintKind.choices, default=ComplaintKind.PERSONAL_DATA
    )
    location = models.CharField(_("位置"), max_length=200, blank=True)
    description = models.TextField(_("情况说明"))
    status = models.CharField(_("状态"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    taken_down_at = models.DateTimeField(_("下线时间"), null=True, blank=True)
    taken_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restored_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投诉举报")
        verbose_name_plural = _("投诉举报")
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["reporter", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"
