"""Accounts: people, organisations, government departments, role assignments and API keys."""

from __future__ import annotations

import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    def create_user(self, *, email=None, mobile=None, password=None, **extra):
        if not email and not mobile:
            raise ValueError("A user needs an email address or a mobile number")
        user = self.model(
            username=extra.pop("username", None) or new_username(),
            email=(email or "").strip().lower() or None,
            mobile=mobile or None,
            **extra,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, *, email=None, mobile=None, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email=email, mobile=mobile, password=password, **extra)


def new_username() -> str:
    return "u" + secrets.token_hex(6)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with a login. Logs in by mobile number or e-mail; `username` is an internal handle."""

    username = models.CharField(_("用户标识"), max_length=40, unique=True, default=new_username, editable=False)
    mobile = models.CharField(_("手机号"), max_length=11, unique=True, null=True, blank=True)
    email = models.EmailField(_("电子邮箱"), unique=True, null=True, blank=True)
    display_name = models.CharField(_("昵称"), max_length=60, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("可进入管理后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    # Real-name details (实名信息): the resident ID is stored encrypted, with a keyed digest for
    # uniqueness and a masked copy for display.
    real_name = models.CharField(_("真实姓名"), max_length=60, blank=True)
    resident_id_encrypted = models.TextField(_("身份证号（加密）"), blank=True, editable=False)
    resident_id_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    resident_id_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    real_name_verified_at = models.DateTimeField(_("实名登记时间"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(mobile__isnull=False), name="user_has_email_or_mobile"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email or self.mobile or self.username

    @property
    def login_label(self) -> str:
        from citydata.accounts.identifiers import mask_mobile

        return self.email or mask_mobile(self.mobile or "")


class Department(models.Model):
    """A government unit (部门) that holds and provides data."""

    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("部门名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    """Stages of the open-data work that each department staffs by name (专人专岗, R9.1)."""

    INVENTORY = "inventory", _("数据编目")
    PUBLISHING = "publishing", _("数据发布")
    APPLICATION_REVIEW = "application_review", _("申请审核")
    FEEDBACK = "feedback", _("反馈答复")
    SECURITY = "security", _("安全管理")


class DepartmentDuty(models.Model):
    """A named member of staff responsible for one stage in one department."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="duties")
    stage = models.CharField(_("岗位环节"), max_length=32, choices=Stage.choices)
    user = models.ForeignKey(User, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="duties")
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    since = models.DateField(_("任职日期"), default=timezone.localdate)

    class Meta:
        verbose_name = _("专人专岗")
        verbose_name_plural = _("专人专岗")
        constraints = [models.UniqueConstraint(fields=["department", "stage", "user"], name="duty_unique")]

    def __str__(self) -> str:
        return f"{self.department} · {self.get_stage_display()} · {self.user}"


class Role(models.TextChoices):
    """Roles granted explicitly. Visitors and registered users need no grant; organisation roles
    come from memberships."""

    PROVIDER = "provider", _("数据提供部门")
    OPERATOR = "operator", _("平台运营方")
    EXPERT = "expert", _("专家")
    AUDITOR = "auditor", _("安全审计员")


class RoleAssignment(models.Model):
    """A role held by a user; provider roles are scoped to one department."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.CASCADE, related_name="staff"
    )
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "department"], name="role_assignment_unique"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(department__isnull=True), name="role_assignment_unique_unscoped"
            ),
            models.CheckConstraint(
                condition=~Q(role="provider") | Q(department__isnull=False), name="provider_role_has_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}" + (f" · {self.department}" if self.department_id else "")


class OrganisationType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    BANK = "bank", _("银行/金融机构")
    RESEARCH = "research", _("科研机构")
    SOCIAL = "social", _("社会组织")
    OTHER = "other", _("其他")


class Organisation(models.Model):
    """A legal person (法人) that applies for data under its own identity."""

    name = models.CharField(_("名称"), max_length=120)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    type = models.CharField(_("类型"), max_length=20, choices=OrganisationType.choices)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    members = models.ManyToManyField(User, through="Membership", related_name="organisations")

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(_("组织管理员"), default=False)
    joined_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("组织成员")
        verbose_name_plural = _("组织成员")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.user}"


class ApiKey(models.Model):
    """A personal API key. Only a SHA-256 digest of the secret is kept; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    RESET = "reset", _("重置密码")


class VerificationCode(models.Model):
    """A one-time code sent to an e-mail address or mobile number. Only its digest is stored."""

    target = models.CharField(max_length=254, db_index=True)
    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("验证码")
        verbose_name_plural = _("验证码")
        indexes = [models.Index(fields=["target", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.target}"


class LoginAttempt(models.Model):
    """One login attempt, kept to lock accounts and IP addresses after repeated failures."""

    identifier = models.CharField(max_length=254, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["ip", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.identifier} {'ok' if self.succeeded else 'failed'} {self.created_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app message to one user (站内信): a workflow step that concerns them, with a link to it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.subject
