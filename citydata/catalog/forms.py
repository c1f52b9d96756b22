"""Back-office forms of the catalog. They check shape; the services enforce the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from citydata.catalog.models import (
    Domain,
    FieldType,
    Frequency,
    Masking,
    OpenType,
    ResourceKind,
    RuleSeverity,
    Sensitivity,
)


class InventoryEntryForm(forms.Form):
    code = forms.CharField(label=_("资源编码"), max_length=60, help_text=_("本部门内唯一，例如 JTJ-001。"))
    name = forms.CharField(label=_("资源名称"), max_length=120)
    description = forms.CharField(label=_("资源摘要"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    open_type = forms.ChoiceField(label=_("开放类型"), choices=OpenType.choices)
    sensitivity = forms.ChoiceField(label=_("数据级别"), choices=Sensitivity.choices, initial=Sensitivity.GENERAL)
    sub_level = forms.CharField(label=_("细分级别"), max_length=40, required=False)
    impact_objects = forms.CharField(label=_("影响对象"), max_length=200, required=False)
    review_due = forms.DateField(label=_("复核日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    legal_basis_name = forms.CharField(
        label=_("不予开放依据（法规或文件名称）"),
        max_length=200,
        required=False,
        help_text=_("选择“不予开放”时必填，例如《中华人民共和国个人信息保护法》。"),
    )
    legal_basis_article = forms.CharField(label=_("条款"), max_length=100, required=False)
    legal_basis_url = forms.URLField(label=_("依据链接"), required=False, assume_scheme="https")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DatasetForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=120, help_text=_("建议格式：区域 + 部门或主题 + 内容。"))
    description = forms.CharField(label=_("摘要"), widget=forms.Textarea(attrs={"rows": 4}))
    domains = forms.ModelMultipleChoiceField(
        label=_("领域"), queryset=Domain.objects.all(), to_field_name="code", widget=forms.CheckboxSelectMultiple
    )
    open_type = forms.ChoiceField(
        label=_("开放类型"),
        choices=[(OpenType.OPEN, OpenType.OPEN.label), (OpenType.CONDITIONAL, OpenType.CONDITIONAL.label)],
    )
    update_frequency = forms.ChoiceField(label=_("更新频率"), choices=Frequency.choices)
    spatial_coverage = forms.CharField(label=_("空间范围"), max_length=100, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("联系邮箱"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=200, help_text=_("公众会在数据集页面看到这一说明。"))


RULE_OPEN_TYPES = [(t.value, t.label) for t in (OpenType.OPEN, OpenType.CONDITIONAL, OpenType.CLOSED)]
CATEGORY_ROWS = 4


class ClassificationRulesForm(forms.Form):
    """One row per data level, plus a few rows for field categories (e.g. 个人身份信息)."""

    note = forms.CharField(label=_("修订说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for level, label in Sensitivity.choices:
            self.fields[f"{level}_type"] = forms.ChoiceField(
                label=_("%(level)s：最多可") % {"level": label}, choices=RULE_OPEN_TYPES
            )
            self.fields[f"{level}_masking"] = forms.ChoiceField(label=_("脱敏方式"), choices=Masking.choices)
        for i in range(1, CATEGORY_ROWS + 1):
            self.fields[f"cat{i}_name"] = forms.CharField(
                label=_("字段类别 %(i)s") % {"i": i}, max_length=40, required=False
            )
            self.fields[f"cat{i}_type"] = forms.ChoiceField(label=_("最多可"), choices=RULE_OPEN_TYPES, required=False)
            self.fields[f"cat{i}_masking"] = forms.ChoiceField(
                label=_("脱敏方式"), choices=Masking.choices, required=False
            )

    @classmethod
    def initial_from(cls, rules: list[dict]) -> dict:
        initial: dict = {}
        categories = [r for r in rules if r.get("field_category")]
        for rule in rules:
            if rule.get("sensitivity"):
                initial[f"{rule['sensitivity']}_type"] = rule["allowed_open_type"]
                initial[f"{rule['sensitivity']}_masking"] = rule["masking"]
        for i, rule in enumerate(categories[:CATEGORY_ROWS], start=1):
            initial.update(
                {
                    f"cat{i}_name": rule["field_category"],
                    f"cat{i}_type": rule["allowed_open_type"],
                    f"cat{i}_masking": rule["masking"],
                }
            )
        return initial

    def rules(self) -> list[dict]:
        data = self.cleaned_data
        rules = [
            {"sensitivity": level, "allowed_open_type": data[f"{level}_type"], "masking": data[f"{level}_masking"]}
            for level in Sensitivity.values
        ]
        for i in range(1, CATEGORY_ROWS + 1):
            if data.get(f"cat{i}_name"):
                rules.append(
                    {
                        "field_category": data[f"cat{i}_name"],
                        "allowed_open_type": data.get(f"cat{i}_type") or OpenType.CLOSED,
                        "masking": data.get(f"cat{i}_masking") or Masking.NONE,
                    }
                )
        return rules


class BulkImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("导入内容"),
        choices=[("inventory", _("数据资源目录")), ("datasets", _("数据集（含字段表）"))],
        widget=forms.RadioSelect,
        initial="inventory",
    )
    file = forms.FileField(label=_("模板文件"), help_text=_("按模板填写的 .xlsx 或 .csv 文件，最大 10 MB、5000 行。"))
    valid_only = forms.BooleanField(
        label=_("只导入没有问题的行"),
        required=False,
        help_text=_("不勾选时，只要有一行有问题就全部不导入，便于改正后整体重新导入。"),
    )


class FieldForm(forms.Form):
    """One row of the field table. An empty row is ignored; the service checks the list as a whole."""

    name = forms.CharField(label=_("字段名"), max_length=64, required=False)
    title = forms.CharField(label=_("中文名称"), max_length=60, required=False)
    type = forms.ChoiceField(label=_("类型"), choices=FieldType.choices, initial=FieldType.STRING)
    unit = forms.CharField(label=_("单位"), max_length=20, required=False)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    example = forms.CharField(label=_("示例"), max_length=100, required=False)
    category = forms.CharField(label=_("字段类别"), max_length=40, required=False)
    sensitive = forms.BooleanField(label=_("敏感"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("name") and not data.get("title"):
            self.add_error("title", _("请填写中文名称。"))
        if data.get("title") and not data.get("name"):
            self.add_error("name", _("请填写字段名。"))
        return data


FieldFormSet = forms.formset_factory(FieldForm, extra=3, can_delete=True, max_num=300, absolute_max=300)


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("资源名称"), max_length=120)
    kind = forms.ChoiceField(label=_("类型"), choices=ResourceKind.choices)
    format = forms.CharField(label=_("格式"), max_length=20, help_text=_("例如 CSV、JSON、XLSX、API。"))
    url = forms.CharField(
        label=_("地址"), max_length=500, required=False, help_text=_("接口和实时数据流必填；文件可稍后上传。")
    )


class StandardRuleForm(forms.Form):
    """One rule of the standard. Its parameter fields follow the rule kind (numbers, or lists of words)."""

    description = forms.CharField(label=_("规则说明"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    severity = forms.ChoiceField(label=_("级别"), choices=RuleSeverity.choices)
    enabled = forms.BooleanField(label=_("启用"), required=False)
    position = forms.IntegerField(label=_("排序"), min_value=0, max_value=1000, initial=100)

    def __init__(self, *args, kind: str, new: bool = False, **kwargs):
        from citydata.catalog import standard

        super().__init__(*args, **kwargs)
        self.kind = kind
        if new:
            self.fields["code"] = forms.SlugField(label=_("编码"), max_length=40, help_text=_("例如 title-length-2。"))
            self.order_fields(["code"])
        for name, kind_of in standard.PARAMS[kind].items():
            label = standard.PARAM_LABELS.get(name, name)
            if kind_of is int:
                self.fields[f"param_{name}"] = forms.IntegerField(label=label, min_value=0, max_value=100_000)
            else:
                self.fields[f"param_{name}"] = forms.CharField(
                    label=label, required=False, max_length=4000, help_text=_("多项用顿号或逗号分隔。")
                )

    @staticmethod
    def initial_for(rule) -> dict:
        initial = {"description": rule.description, "severity": rule.severity, "enabled": rule.enabled}
        initial["position"] = rule.position
        for name, value in (rule.params or {}).items():
            initial[f"param_{name}"] = "、".join(value) if isinstance(value, list) else value
        return initial

    def data_for_service(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("param_")}
        data["params"] = {k[len("param_") :]: v for k, v in self.cleaned_data.items() if k.startswith("param_")}
        data["kind"] = self.kind
        return data
