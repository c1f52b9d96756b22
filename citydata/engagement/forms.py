"""Forms of the feedback pages. They check shape; the services enforce the rules (and check again)."""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department
from citydata.engagement.models import ComplaintKind, ModerationMode


def _message(template, **values):
    """A message filled in when shown, so it follows the reader's language."""
    return lazy(lambda: str(template) % {k: str(v) for k, v in values.items()}, str)()


def _text(label, max_length: int, *, required: bool = True, rows: int | None = None, help_text="", **attrs):
    widget = forms.Textarea(attrs={"rows": rows, "maxlength": max_length, **attrs}) if rows else forms.TextInput(attrs)
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=widget,
        help_text=help_text,
        error_messages={
            "required": _message(_("请填写%(label)s。"), label=label),
            "max_length": _message(_("%(label)s不超过 %(n)s 个字。"), label=label, n=max_length),
        },
    )


class CommentForm(forms.Form):
    body = _text(_("评论内容"), 1000, rows=4)


SCORES = [
    (5, _("5 分 · 很好")),
    (4, _("4 分 · 较好")),
    (3, _("3 分 · 一般")),
    (2, _("2 分 · 较差")),
    (1, _("1 分 · 很差")),
]


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("评分"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择 1 到 5 分。"), "invalid_choice": _("请选择 1 到 5 分。")},
    )
    reason = _text(_("理由"), 200, required=False, help_text=_("简要说明，例如：数据完整、更新及时。"))


class ErrorReportForm(forms.Form):
    field_name = forms.ChoiceField(label=_("有问题的字段"), required=False)
    row_ref = _text(_("行或记录"), 100, required=False, help_text=_("例如：第 25 行，或记录编号 A0012"))
    problem = _text(_("问题描述"), 1000, rows=4, help_text=_("哪里有错、错在哪里"))
    correction = _text(_("正确内容"), 200, required=False, help_text=_("如您知道正确的值，请填写"))

    def __init__(self, *args, dataset=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("（不针对某个字段）"))]
        if dataset is not None:
            choices += [(f.name, f"{f.title}（{f.name}）") for f in dataset.fields.all()]
        self.fields["field_name"].choices = choices
        self.fields["field_name"].error_messages["invalid_choice"] = _("该数据集没有这个字段。")


class DataRequestForm(forms.Form):
    title = _text(_("需要的数据"), 100, help_text=_("例如：全市公共充电桩实时空闲状态"))
    description = _text(_("需求说明"), 1000, required=False, rows=4, help_text=_("需要哪些字段、范围和更新频率"))
    purpose = _text(_("用途"), 300, required=False)
    department = forms.ModelChoiceField(
        label=_("数据可能所在部门"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("不确定（由平台转交）"),
        error_messages={"invalid_choice": _("请选择列表中的部门。")},
    )
    query = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)


class SuggestionForm(forms.Form):
    title = _text(_("标题"), 100)
    body = _text(_("建议内容"), 1000, rows=5)


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=ComplaintKind.choices,
        error_messages={"required": _("请选择投诉类型。"), "invalid_choice": _("请选择投诉类型。")},
    )
    location = _text(
        _("位置"), 200, required=False, help_text=_("例如：第 3 行“联系电话”列；请不要在此粘贴完整的个人信息")
    )
    description = _text(_("情况说明"), 2000, rows=5)
    contact = _text(_("联系方式"), 254, required=False, help_text=_("手机号或电子邮箱，用于告知处理结果；登录后可不填"))

    def __init__(self, *args, anonymous: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if anonymous:
            self.fields["contact"].required = True
            self.fields["contact"].help_text = _("手机号或电子邮箱，用于告知处理结果")


class AnswerForm(forms.Form):
    answer = _text(_("答复内容"), 1000, rows=4, help_text=_("答复将公开显示"))


class ReportAnswerForm(AnswerForm):
    decision = forms.ChoiceField(
        label=_("核实结果"),
        choices=[("confirm", _("情况属实，安排整改")), ("reject", _("经核实数据无误"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择核实结果。"), "invalid_choice": _("请选择核实结果。")},
    )


class ResolveForm(forms.Form):
    note = _text(_("修正说明"), 1000, required=False, rows=3)


class AcceptForm(forms.Form):
    answer = _text(_("答复内容"), 1000, required=False, rows=3, help_text=_("例如：计划于下季度开放"))


class DeclineForm(forms.Form):
    answer = _text(_("不予开放的理由"), 1000, rows=3)
    legal_basis = _text(_("不予开放依据"), 200, help_text=_("法律法规或分级分类规则的名称和条款"))


class FulfilForm(forms.Form):
    dataset = forms.CharField(
        label=_("开放的数据集"),
        max_length=100,
        help_text=_("数据集标识，即数据集网址 /datasets/ 后面的部分"),
        error_messages={"required": _("请填写数据集标识。")},
    )
    answer = _text(_("答复内容"), 1000, required=False, rows=3)


class RouteForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("转交部门"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        error_messages={"required": _("请选择部门。"), "invalid_choice": _("请选择列表中的部门。")},
    )


class ComplaintResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("核查结论"),
        choices=[("upheld", _("投诉成立")), ("dismissed", _("投诉不成立"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择核查结论。"), "invalid_choice": _("请选择核查结论。")},
    )
    answer = _text(_("处理结果"), 2000, rows=4, help_text=_("将告知投诉人"))


class HideForm(forms.Form):
    reason = _text(_("屏蔽原因"), 200, help_text=_("公开显示，例如：含有广告或人身攻击"))


class ReplyForm(forms.Form):
    reply = _text(_("回复内容"), 1000, rows=3)


class ModerationModeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("评论审核方式"),
        choices=ModerationMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择审核方式。"), "invalid_choice": _("请选择审核方式。")},
    )


class BacklogForm(forms.Form):
    query = forms.CharField(max_length=100, error_messages={"required": _("缺少搜索词。")})
    searches = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
