"""Forms of the conditional-opening pages. They check shape; the services enforce the rules."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from citydata.access.models import State, Vote
from citydata.access.services import MAX_ATTACHMENT_BYTES
from citydata.accounts.forms import IdentifierField
from citydata.accounts.models import Organisation, Role, User
from citydata.catalog.models import Dataset

# `lazy_message % values` would translate once, at import; this keeps the message lazy until it is shown.
_fill = lazy(lambda message, values: str(message) % {k: str(v) for k, v in values.items()}, str)

DATE_MESSAGES = {"required": _("请填写日期。"), "invalid": _("日期格式应为 YYYY-MM-DD，例如 2026-10-01。")}


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_MESSAGES,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def _text(label, *, max_length: int = 2000, rows: int = 3, required: bool = True, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput(),
        error_messages={
            "required": _fill(_("请填写%(label)s。"), {"label": label}),
            "max_length": _fill(_("%(label)s不能超过 %(n)s 字。"), {"label": label, "n": max_length}),
        },
    )


class ItemsMixin(forms.Form):
    """Datasets and, for each, the fields asked for. Field choices are `<slug>:<field name>` (slugs have no colon)."""

    datasets = forms.MultipleChoiceField(
        label=_("申请的数据集"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一个有条件开放的数据集。"),
            "invalid_choice": _("所选数据集不在可申请范围内。"),
        },
    )
    fields = forms.MultipleChoiceField(
        label=_("所需字段"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("所选字段不属于可申请的数据集。")},
    )

    def set_datasets(self, datasets: list[Dataset]) -> None:
        self.datasets_offered = datasets
        self.fields["datasets"].choices = [(d.slug, d.title) for d in datasets]
        self.fields["fields"].choices = [
            (f"{d.slug}:{f.name}", f.title or f.name) for d in datasets for f in d.fields.all()
        ]

    def items(self) -> list[tuple[Dataset, list[str]]]:
        """(dataset, fields) for each chosen dataset, in the order offered; fields of unchosen datasets are ignored."""
        chosen = set(self.cleaned_data.get("datasets") or [])
        wanted: dict[str, list[str]] = {}
        for value in self.cleaned_data.get("fields") or []:
            slug, _sep, name = value.partition(":")
            wanted.setdefault(slug, []).append(name)
        return [(d, wanted.get(d.slug, [])) for d in self.datasets_offered if d.slug in chosen]

    def groups(self) -> list[dict]:
        """For the template: each offered dataset with its checkbox state and its fields' checkbox states."""
        if self.is_bound:
            chosen = set(self.data.getlist("datasets")) if hasattr(self.data, "getlist") else set()
            ticked = set(self.data.getlist("fields")) if hasattr(self.data, "getlist") else set()
        else:
            chosen = set(self.initial.get("datasets") or [])
            ticked = set(self.initial.get("fields") or [])
        return [
            {
                "dataset": d,
                "checked": d.slug in chosen,
                "fields": [
                    {"value": f"{d.slug}:{f.name}", "field": f, "checked": f"{d.slug}:{f.name}" in ticked}
                    for f in d.fields.all()
                ],
            }
            for d in self.datasets_offered
        ]


class ApplicationForm(ItemsMixin):
    purpose = _text(_("申请用途"), help_text=_("说明数据将用于什么目的。"))
    scenario = _text(_("应用场景"), help_text=_("例如：某课题的建模分析、某产品的风控模型。"))
    period_start = _date_field(_("使用开始日期"))
    period_end = _date_field(_("使用结束日期"), help_text=_("单次申请最长三年，到期可申请续期。"))
    expected_volume = _text(_("预计调用量"), max_length=200, rows=0, help_text=_("例如：每日不超过 1 万行。"))
    security_measures = _text(_("安全保障措施"), help_text=_("例如：专人专机、数据不出内网、访问留痕。"))
    organisation = forms.ModelChoiceField(
        label=_("申请单位"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("以个人名义申请"),
        error_messages={"invalid_choice": _("只能选择您所在的组织。")},
    )
    commitment = forms.BooleanField(label=_("我已阅读并签署上述《数据安全承诺书》"), required=False)

    def __init__(self, *args, user: User, datasets: list[Dataset], submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        self.set_datasets(datasets)
        self.fields["organisation"].queryset = Organisation.objects.filter(memberships__user=user).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("使用结束日期不能早于开始日期。"))
        if start and start > timezone.localdate() + dt.timedelta(days=366):
            self.add_error("period_start", _("使用开始日期不能晚于一年之后。"))
        if self.submitting and not data.get("commitment"):
            self.add_error("commitment", _("提交前请阅读并签署《数据安全承诺书》。"))
        return data

    @staticmethod
    def initial_for(application=None, dataset: Dataset | None = None) -> dict:
        if application is None:
            today = timezone.localdate()
            return {
                "datasets": [dataset.slug] if dataset else [],
                "fields": [],
                "period_start": today,
                "period_end": today + dt.timedelta(days=180),
            }
        items = list(application.items.select_related("dataset"))
        return {
            "datasets": [i.dataset.slug for i in items],
            "fields": [f"{i.dataset.slug}:{name}" for i in items for name in i.fields],
            "purpose": application.purpose,
            "scenario": application.scenario,
            "period_start": application.period_start,
            "period_end": application.period_end,
            "expected_volume": application.expected_volume,
            "security_measures": application.security_measures,
            "organisation": application.organisation_id,
        }


class AttachmentForm(forms.Form):
    attachment = forms.FileField(
        label=_("附件"),
        help_text=_fill(
            _("PDF、JPG、PNG 或 DOCX，每个不超过 %(mb)s MB，最多 10 个。"), {"mb": MAX_ATTACHMENT_BYTES // 2**20}
        ),
        error_messages={
            "required": _("请选择要上传的文件。"),
            "empty": _("文件是空的。"),
            "invalid": _("请选择文件。"),
        },
    )


class SubmitForm(forms.Form):
    commitment = forms.BooleanField(
        label=_("我已阅读并签署《数据安全承诺书》"),
        error_messages={"required": _("提交前请阅读并签署《数据安全承诺书》。")},
    )


class WithdrawForm(forms.Form):
    reason = _text(_("撤回原因"), max_length=500, rows=2, required=False)


class ReturnForm(forms.Form):
    missing = _text(_("需补正的内容"), help_text=_("写明缺少或需要修改的材料，申请人补正后受理时限恢复计算。"))


class DecideForm(forms.Form):
    reason = _text(_("决定理由"), help_text=_("理由将告知申请人。"))


class PanelForm(forms.Form):
    experts = forms.ModelMultipleChoiceField(
        label=_("专家"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择两名专家。"), "invalid_choice": _("只能从专家库中选择专家。")},
    )
    subject = _text(_("议题"), max_length=200, rows=0)
    question = _text(_("需专家审议的问题"), rows=4)
    workdays = forms.IntegerField(
        label=_("议事期限（工作日）"),
        min_value=1,
        max_value=30,
        initial=5,
        error_messages={
            "required": _("请填写议事期限。"),
            "invalid": _("议事期限应为1至30个工作日。"),
            "min_value": _("议事期限应为1至30个工作日。"),
            "max_value": _("议事期限应为1至30个工作日。"),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pool = User.objects.filter(role_assignments__role=Role.EXPERT, is_active=True).distinct().order_by("id")
        self.fields["experts"].queryset = pool

    def clean_experts(self):
        chosen = self.cleaned_data["experts"]
        if len(chosen) < 2:
            raise forms.ValidationError(_("专家组至少需要两名专家。"))
        return chosen


class OpinionForm(forms.Form):
    vote = forms.ChoiceField(
        label=_("表决"),
        choices=Vote.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择同意、不同意或弃权。"), "invalid_choice": _("请选择同意、不同意或弃权。")},
    )
    text = _text(_("意见"), rows=5)


class PanelCloseForm(forms.Form):
    summary = _text(_("结论说明"), rows=4)


class AgreementForm(forms.Form):
    sha256 = forms.RegexField(
        regex=r"^[0-9a-f]{64}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("协议文本已更新，请重新阅读后再签署。"),
            "invalid": _("协议文本已更新，请重新阅读后再签署。"),
        },
    )
    accept = forms.BooleanField(
        label=_("我已阅读并同意上述开放利用协议"),
        error_messages={"required": _("请勾选同意协议后再签署。")},
    )


class ReasonForm(forms.Form):
    reason = _text(_("理由"), max_length=2000, rows=2)


class ResumeForm(forms.Form):
    reason = _text(_("说明"), max_length=500, rows=0, required=False)


class RenewForm(forms.Form):
    ends_on = _date_field(_("新的结束日期"))


class LimitsForm(forms.Form):
    rate_per_minute = forms.IntegerField(
        label=_("每分钟调用上限"),
        min_value=1,
        max_value=100_000,
        error_messages={
            "required": _("请填写每分钟调用上限。"),
            "invalid": _("请填写 1 至 100000 之间的整数。"),
            "min_value": _("请填写 1 至 100000 之间的整数。"),
            "max_value": _("请填写 1 至 100000 之间的整数。"),
        },
    )
    daily_rows = forms.IntegerField(
        label=_("每日行数上限"),
        min_value=1,
        max_value=10**10,
        error_messages={
            "required": _("请填写每日行数上限。"),
            "invalid": _("请填写正整数。"),
            "min_value": _("请填写正整数。"),
            "max_value": _("每日行数上限过大。"),
        },
    )
    ip_allowlist = _text(
        _("IP 白名单"),
        max_length=5000,
        rows=3,
        required=False,
        help_text=_("每行一个 IP 地址或网段（如 10.0.0.0/8）；留空表示不限来源。"),
    )

    def clean_ip_allowlist(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["ip_allowlist"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > 100:
            raise forms.ValidationError(_("IP 白名单最多 100 条。"))
        return lines


class UsageReportForm(forms.Form):
    built = _text(_("开发利用情况"), rows=4)
    results = _text(_("应用成效"), rows=4)
    incidents = _text(_("安全事件"), rows=2, required=False, help_text=_("没有可留空；有则写明经过和处置。"))


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("状态"), required=False)
    overdue = forms.BooleanField(label=_("只看超期未受理"), required=False)
    department = forms.ChoiceField(label=_("部门"), required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        states = [(value, label) for value, label in State.choices if value != State.DRAFT]
        self.fields["state"].choices = [("", _("全部"))] + states
        self.fields["department"].choices = [("", _("全部"))] + [(d.code, d.name) for d in departments]
        for name in ("state", "department"):
            self.fields[name].error_messages["invalid_choice"] = _("请从列表中选择。")


class PeriodForm(forms.Form):
    since = _date_field(_("提交日期自"), required=False)
    until = _date_field(_("提交日期至"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("结束日期不能早于开始日期。"))
        return data


class TemplateForm(forms.Form):
    title = _text(_("标题"), max_length=100, rows=0)
    body = _text(_("正文"), max_length=20000, rows=16)


class StandingForm(ItemsMixin):
    organisation = forms.ModelChoiceField(
        label=_("组织"),
        queryset=Organisation.objects.order_by("name"),
        error_messages={"required": _("请选择组织。"), "invalid_choice": _("请从列表中选择组织。")},
    )
    holder = IdentifierField(label=_("被授权人（该组织成员的手机号或邮箱）"), help_text="")
    ends_on = _date_field(_("结束日期"))

    def __init__(self, *args, datasets: list[Dataset], **kwargs):
        super().__init__(*args, **kwargs)
        self.set_datasets(datasets)


class DisputePanelForm(PanelForm):
    """A panel on a classification dispute (分级分类争议): which dataset, and the question."""

    dataset = forms.CharField(
        label=_("争议数据集标识"),
        max_length=100,
        help_text=_("数据集网址中 /datasets/ 后面的标识"),
        error_messages={"required": _("请填写争议数据集的标识。")},
    )

    field_order = ["dataset", "subject", "question", "experts", "workdays"]

    def clean_dataset(self):
        from citydata.catalog.models import Dataset

        slug = self.cleaned_data["dataset"].strip()
        dataset = Dataset.objects.select_related("department").filter(slug=slug).first()
        if dataset is None:
            raise forms.ValidationError(_("没有标识为“%(slug)s”的数据集。") % {"slug": slug[:100]})
        return dataset
