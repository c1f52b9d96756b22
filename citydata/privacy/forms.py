"""Forms of the privacy pages: a masking plan per column, quasi-identifiers, the operator's override, a task's
resolution. Shapes are checked here; the services decide what the domain allows."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from citydata.privacy import masking

PARAMS_HELP = _("参数，如 head=3,tail=4；to=district；to=age_band,width=10；to=grid,step=0.01；reason=机构地址")


def parse_params(text: str) -> dict[str, str]:
    params = {}
    for part in (text or "").replace("，", ",").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            params[key.strip()] = value.strip()
    return params


def params_text(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


class PlanForm(forms.Form):
    """One strategy and its parameters per column of the version."""

    def __init__(self, *args, columns: list[dict], initial_plan: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("不处理"))] + [(s.code, s.label) for s in masking.strategies()]
        steps = {s["column"]: s for s in initial_plan}
        self.rows = []
        for i, column in enumerate(columns):
            step = steps.get(column["name"])
            self.fields[f"s{i}"] = forms.ChoiceField(
                label=column["name"], choices=choices, required=False, initial=step["strategy"] if step else ""
            )
            self.fields[f"p{i}"] = forms.CharField(
                label=_("参数"),
                required=False,
                max_length=300,
                initial=params_text(step["params"]) if step else "",
                help_text=PARAMS_HELP if i == 0 else "",
            )
            self.rows.append((column, self[f"s{i}"], self[f"p{i}"]))
        self.columns = columns

    def plan(self) -> list[dict]:
        out = []
        for i, column in enumerate(self.columns):
            strategy = self.cleaned_data.get(f"s{i}")
            if strategy:
                params = parse_params(self.cleaned_data.get(f"p{i}", ""))
                out.append({"column": column["name"], "strategy": strategy, "params": params, "source": "provider"})
        return out


class RiskForm(forms.Form):
    quasi_identifiers = forms.MultipleChoiceField(
        label=_("准标识符"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("单独看不能识别个人、组合起来可能识别的字段，例如年龄、性别、所在区县、职业。"),
    )
    sensitive = forms.ChoiceField(
        label=_("敏感属性列（可选）"), required=False, help_text=_("例如诊断结果；用于计算 l 多样性。")
    )

    def __init__(self, *args, columns: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        names = [(c["name"], c["name"]) for c in columns]
        self.fields["quasi_identifiers"].choices = names
        self.fields["sensitive"].choices = [("", _("无"))] + names


class OverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("放行理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=2000,
        help_text=_("放行会记入审计日志。请写明为何这些发现不构成个人信息泄露，或已采取的其他保护措施。"),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("整改说明"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_("例如：已发布脱敏后的第 3 版。"),
    )
