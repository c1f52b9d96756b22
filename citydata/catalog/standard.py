"""The metadata and naming standard (R7.1): rule kinds as registered checks, rules as data.

A rule kind is a function (dataset, params) -> list of problems (strings, in the user's language).
`check(dataset)` runs every enabled rule; blocking findings stop `dataset_publish`, warnings are
shown to the provider. The public standard page is generated from the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.catalog.models import Dataset, RuleSeverity, StandardRule

# The public page's title and introduction (the search index holds them too, so they are said once, here).
PAGE_TITLE = gettext_lazy("数据开放标准")
PAGE_INTRO = gettext_lazy(
    "各部门发布数据集时须遵守的命名和元数据规范。平台在保存时提示问题，标为“阻止发布”的规则不满足时不能发布。"
    "本页由平台实际执行的规则生成。"
)

RuleKind = Callable[[Dataset, dict[str, Any]], list[str]]
RULE_KINDS: dict[str, RuleKind] = {}
# Each kind's parameters and their types (int or list of words), so operators can edit them in a form.
PARAMS: dict[str, dict[str, type]] = {}
KIND_LABELS: dict[str, Any] = {}
PARAM_LABELS: dict[str, Any] = {
    "min": gettext_lazy("最少字数"),
    "max": gettext_lazy("最多字数"),
    "areas": gettext_lazy("区域名称"),
    "words": gettext_lazy("禁用词"),
    "min_length": gettext_lazy("最少字数"),
    "formats": gettext_lazy("接受的格式"),
}


def rule_kind(name: str, label: Any, **params: type) -> Callable[[RuleKind], RuleKind]:
    def register(fn: RuleKind) -> RuleKind:
        RULE_KINDS[name] = fn
        PARAMS[name] = params
        KIND_LABELS[name] = label
        return fn

    return register


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str

    @property
    def blocking(self) -> bool:
        return self.severity == RuleSeverity.BLOCKING


@rule_kind("title_length", gettext_lazy("名称长度"), min=int, max=int)
def _title_length(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    low, high = int(params.get("min", 4)), int(params.get("max", 50))
    if not low <= len(dataset.title) <= high:
        return [
            _("名称应为 %(low)s 至 %(high)s 个字，现为 %(n)s 个字。")
            % {"low": low, "high": high, "n": len(dataset.title)}
        ]
    return []


@rule_kind("title_area_prefix", gettext_lazy("名称以区域开头"), areas=list)
def _title_area_prefix(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    areas = [str(a) for a in params.get("areas", [])]
    if areas and not any(dataset.title.startswith(area) for area in areas):
        return [_("名称应以区域开头（区域 + 部门或主题 + 内容），例如“%(area)s……”。") % {"area": areas[0]}]
    return []


@rule_kind("forbidden_words", gettext_lazy("名称禁用词"), words=list)
def _forbidden_words(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    found = [w for w in params.get("words", []) if w and w in dataset.title]
    if found:
        return [_("名称中不应出现：%(words)s。") % {"words": "、".join(found)}]
    return []


@rule_kind("description", gettext_lazy("摘要"), min_length=int)
def _description(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    problems = []
    minimum = int(params.get("min_length", 20))
    text = dataset.description.strip()
    if len(text) < minimum:
        problems.append(_("摘要至少 %(n)s 个字，说明数据内容、来源和用途。") % {"n": minimum})
    if text == dataset.title.strip():
        problems.append(_("摘要不能与名称相同。"))
    return problems


@rule_kind("fields_described", gettext_lazy("字段说明齐全"))
def _fields_described(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    missing = [f.name for f in dataset.fields.all() if not f.title.strip() or not f.description.strip()]
    if missing:
        return [_("以下字段缺少中文名称或说明：%(fields)s。") % {"fields": "、".join(missing[:10])}]
    return []


@rule_kind("machine_readable", gettext_lazy("机器可读格式"), formats=list)
def _machine_readable(dataset: Dataset, params: dict[str, Any]) -> list[str]:
    accepted = {f.upper() for f in params.get("formats", [])}
    if accepted and not any(r.format.upper() in accepted for r in dataset.resources.all()):
        return [_("至少提供一种机器可读格式：%(formats)s。") % {"formats": "、".join(sorted(accepted))}]
    return []


def rules() -> list[StandardRule]:
    return list(StandardRule.objects.filter(enabled=True).order_by("position", "code"))


def check(dataset: Dataset) -> list[Finding]:
    findings = []
    for rule in rules():
        kind = RULE_KINDS.get(rule.kind)
        if kind is None:
            continue
        findings += [Finding(rule.code, rule.severity, message) for message in kind(dataset, rule.params)]
    return findings
