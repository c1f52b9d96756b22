"""Forms of the quality pages. They check shape; the services enforce the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from citydata.accounts.models import Department
from citydata.catalog.models import Domain
from citydata.quality.models import RunCadence, Scope, TaskStatus


class ScopeFields(forms.Form):
    scope = forms.ChoiceField(
        label=_("巡查范围"),
        choices=Scope.choices,
        initial=Scope.ALL,
        error_messages={"required": _("请选择巡查范围。"), "invalid_choice": _("请选择巡查范围。")},
    )
    department = forms.ModelChoiceField(
        label=_("部门"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        to_field_name="code",
        empty_label=_("（按部门巡查时选择）"),
        error_messages={"invalid_choice": _("请选择部门。")},
    )
    domain = forms.ModelChoiceField(
        label=_("领域"),
        queryset=Domain.objects.all(),
        required=False,
        to_field_name="code",
        empty_label=_("（按领域巡查时选择）"),
        error_messages={"invalid_choice": _("请选择领域。")},
    )
    create_tasks = forms.BooleanField(label=_("发现问题时生成整改任务"), required=False, initial=True)


class RunForm(ScopeFields):
    """Start a one-off inspection run."""


class ScheduleForm(ScopeFields):
    name = forms.CharField(
        label=_("计划名称"),
        max_length=60,
        error_messages={"required": _("请填写计划名称。"), "max_length": _("计划名称不超过 60 个字。")},
    )
    cadence = forms.ChoiceField(
        label=_("周期"),
        choices=RunCadence.choices,
        initial=RunCadence.WEEKLY,
        error_messages={"required": _("请选择巡查周期。"), "invalid_choice": _("请选择巡查周期。")},
    )
    first_run_at = forms.DateTimeField(
        label=_("首次巡查时间"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("留空则立即开始第一次巡查。"),
        error_messages={"invalid": _("时间格式应为 YYYY-MM-DD HH:MM。")},
    )
    field_order = ["name", "scope", "department", "domain", "cadence", "first_run_at", "create_tasks"]


class FixedForm(forms.Form):
    note = forms.CharField(
        label=_("整改说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明做了哪些修改。提交后平台立即复核，检查通过才会关闭任务。"),
        error_messages={"max_length": _("整改说明不超过 2000 字。")},
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("决定"),
        choices=[("close", _("确认已整改")), ("return", _("退回"))],
        error_messages={"required": _("请选择确认或退回。"), "invalid_choice": _("请选择确认或退回。")},
    )
    note = forms.CharField(
        label=_("意见"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("意见不超过 2000 字。")},
    )


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("open", _("未关闭")), *TaskStatus.choices],
    )
    department = forms.CharField(label=_("部门编码"), required=False, max_length=32)
    overdue = forms.BooleanField(label=_("只看已逾期"), required=False)
