"""Forms of the account pages. They check shape; the services enforce the rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from citydata.accounts.identifiers import validate_resident_id, validate_uscc
from citydata.accounts.models import OrganisationType, Role, Stage
from citydata.errors import DomainError

IDENTIFIER_HELP = _("手机号（11位）或电子邮箱")


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names, or on the form as a whole."""
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    form.add_error(field if field in form.fields else None, str(exc.message))


class IdentifierField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("手机号或邮箱"))
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("help_text", IDENTIFIER_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "username", "inputmode": "email"})


class LoginForm(forms.Form):
    identifier = IdentifierField(help_text="")
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeRequestForm(forms.Form):
    identifier = IdentifierField()


class PasswordPairMixin(forms.Form):
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        strip=False,
        help_text=_("至少8位，不能全是数字，不能与账号过于相似。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class RegisterForm(PasswordPairMixin):
    code = forms.CharField(
        label=_("验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    display_name = forms.CharField(label=_("昵称"), max_length=60, required=False)
    agree = forms.BooleanField(
        label=_("我已阅读并同意《用户服务协议》和《隐私政策》"),
        error_messages={"required": _("请阅读并同意用户服务协议和隐私政策。")},
    )
    field_order = ["code", "display_name", "password", "password2", "agree"]


class PasswordResetForm(PasswordPairMixin):
    code = forms.CharField(
        label=_("验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    field_order = ["code", "password", "password2"]


class PasswordChangeForm(PasswordPairMixin):
    old_password = forms.CharField(
        label=_("原密码"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "password2"]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("昵称"), max_length=60, required=False)


class RealNameForm(forms.Form):
    real_name = forms.CharField(label=_("真实姓名"), min_length=2, max_length=30)
    resident_id = forms.CharField(
        label=_("居民身份证号"), max_length=24, help_text=_("18位，末位可为X。仅加密保存，页面只显示遮蔽后的号码。")
    )

    def clean_resident_id(self):
        try:
            return validate_resident_id(self.cleaned_data["resident_id"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("组织全称"), min_length=2, max_length=120)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=24, help_text=_("18位，见营业执照或登记证书。"))
    type = forms.ChoiceField(label=_("组织类型"), choices=OrganisationType.choices)

    def clean_uscc(self):
        try:
            return validate_uscc(self.cleaned_data["uscc"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None


class MemberAddForm(forms.Form):
    identifier = IdentifierField(label=_("成员的手机号或邮箱"))
    is_admin = forms.BooleanField(label=_("设为组织管理员"), required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("密钥名称"), max_length=60, help_text=_("例如“小程序后台”，便于日后识别和撤销。"))


class DutyForm(forms.Form):
    stage = forms.ChoiceField(label=_("岗位环节"), choices=Stage.choices)
    identifier = IdentifierField(label=_("负责人的手机号或邮箱"))
    phone = forms.CharField(label=_("办公电话"), max_length=30, required=False)


class StaffAddForm(forms.Form):
    identifier = IdentifierField(label=_("人员的手机号或邮箱"), help_text=_("对方需先注册账号。"))


class RoleGrantForm(forms.Form):
    identifier = IdentifierField(label=_("用户的手机号或邮箱"), help_text=_("对方需先注册账号。"))
    role = forms.ChoiceField(
        label=_("角色"),
        choices=[(r.value, r.label) for r in Role if r != Role.PROVIDER],
        help_text=_("部门人员请在部门页面添加。"),
    )


class DepartmentForm(forms.Form):
    code = forms.RegexField(
        label=_("部门编码"),
        regex=r"^[A-Za-z0-9_-]{2,32}$",
        max_length=32,
        help_text=_("2至32位字母、数字、下划线或短横线，例如 JTJ。"),
        error_messages={"invalid": _("部门编码只能包含字母、数字、下划线或短横线（2至32位）。")},
    )
    name = forms.CharField(label=_("部门名称"), min_length=2, max_length=100)
    parent = forms.ModelChoiceField(
        label=_("上级部门"), queryset=None, required=False, empty_label=_("（无）"), to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from citydata.accounts.models import Department

        self.fields["parent"].queryset = Department.objects.filter(is_active=True).order_by("code")
