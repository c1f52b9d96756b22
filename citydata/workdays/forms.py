"""Forms of the operators' calendar page. They check shape; the services enforce the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from citydata.workdays.calendar import MAX_YEAR, MIN_YEAR
from citydata.workdays.models import DayKind

DATE_MESSAGES = {
    "required": _("请填写日期。"),
    "invalid": _("日期格式应为 YYYY-MM-DD，例如 2027-02-08。"),
}
YEAR_MESSAGES = {
    "required": _("请填写年份。"),
    "invalid": _("年份应为四位数字，例如 2027。"),
    "min_value": _("年份应在 2000 到 2100 之间。"),
    "max_value": _("年份应在 2000 到 2100 之间。"),
}


def _date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_MESSAGES,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


class YearForm(forms.Form):
    year = forms.IntegerField(
        label=_("年份"), min_value=MIN_YEAR, max_value=MAX_YEAR, required=False, error_messages=YEAR_MESSAGES
    )


class OverrideForm(forms.Form):
    date = _date_field(_("日期"))
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=DayKind.choices,
        error_messages={"required": _("请选择“放假”或“调休上班”。"), "invalid_choice": _("请选择“放假”或“调休上班”。")},
    )
    name = forms.CharField(
        label=_("名称"),
        max_length=40,
        help_text=_("例如：春节、国庆节、本市防汛停工"),
        error_messages={"required": _("请填写名称，例如：春节。"), "max_length": _("名称不超过 40 个字。")},
    )
    note = forms.CharField(
        label=_("依据"),
        max_length=200,
        required=False,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知"),
        error_messages={"max_length": _("依据不超过 200 个字。")},
    )


class YearConfirmForm(forms.Form):
    year = forms.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, error_messages=YEAR_MESSAGES)
    note = forms.CharField(
        label=_("依据"), max_length=200, required=False, error_messages={"max_length": _("依据不超过 200 个字。")}
    )


class TryForm(forms.Form):
    """Count working days on the page, the same way deadlines are counted."""

    start = _date_field(_("起始日期"))
    n = forms.IntegerField(
        label=_("工作日数"),
        min_value=0,
        max_value=366,
        error_messages={
            "required": _("请填写工作日数。"),
            "invalid": _("工作日数应为 0 到 366 之间的整数。"),
            "min_value": _("工作日数应为 0 到 366 之间的整数。"),
            "max_value": _("工作日数应为 0 到 366 之间的整数。"),
        },
    )
