"""Metadata checks: naming standard, summary, licence, update frequency, coverage, field descriptions, contact."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity

NAMING_KINDS = ("title_area_prefix", "title_length", "forbidden_words")
MIN_DESCRIPTION = 20  # used when the catalog's standard has no enabled summary rule


@check(
    code="metadata.naming",
    family=Family.METADATA,
    severity=Severity.MEDIUM,
    title=gettext_lazy("名称符合命名规范"),
    explanation=gettext_lazy(
        "名称按“区域 + 部门或主题 + 内容”的规范书写，用户才能一眼看懂、搜得到。规则来自数据开放标准。"
    ),
    fix=gettext_lazy("按数据开放标准修改数据集名称，例如“绵阳市交通运输局公交线路信息”。"),
)
def naming(subject: Subject) -> list[Problem]:
    from citydata.catalog import standard

    problems = []
    for rule in standard.rules():
        kind = standard.RULE_KINDS.get(rule.kind)
        if rule.kind in NAMING_KINDS and kind is not None:
            problems += [Problem(message, {"rule": rule.code}) for message in kind(subject.dataset, rule.params)]
    return problems


@check(
    code="metadata.description",
    family=Family.METADATA,
    severity=Severity.MEDIUM,
    title=gettext_lazy("摘要充分且不重复名称"),
    explanation=gettext_lazy("摘要说明数据的内容、来源和用途；只重复名称的摘要对用户没有帮助。"),
    fix=gettext_lazy("补写摘要：数据包含什么、来自哪里、多久更新、可以用来做什么。"),
)
def description(subject: Subject) -> list[Problem]:
    from citydata.catalog.models import StandardRule

    rule = StandardRule.objects.filter(kind="description", enabled=True).order_by("position").first()
    minimum = int((rule.params if rule else {}).get("min_length", MIN_DESCRIPTION))
    text, title = subject.dataset.description.strip(), subject.dataset.title.strip()
    problems = []
    if len(text) < minimum:
        problems.append(Problem(_("摘要只有 %(n)s 个字，应至少 %(min)s 个字。") % {"n": len(text), "min": minimum}))
    if text and (text == title or text.replace(title, "").strip(" ，。,.") == ""):
        problems.append(Problem(_("摘要只是重复了名称。")))
    return problems


@check(
    code="metadata.licence",
    family=Family.METADATA,
    severity=Severity.HIGH,
    title=gettext_lazy("注明开放协议"),
    explanation=gettext_lazy("没有开放协议，用户不知道能否再利用数据，数据在法律上不算开放。"),
    fix=gettext_lazy("在数据集信息中选择开放协议，例如“公共数据开放协议 v1.0”。"),
)
def licence(subject: Subject) -> list[Problem]:
    return [] if subject.dataset.licence.strip() else [Problem(_("没有注明开放协议。"))]


@check(
    code="metadata.frequency",
    family=Family.METADATA,
    severity=Severity.LOW,
    title=gettext_lazy("声明更新频率"),
    explanation=gettext_lazy("声明的更新频率是检查数据是否按时更新的依据，也是用户判断能否依赖数据的依据。"),
    fix=gettext_lazy("在数据集信息中选择具体的更新频率（每日、每月……）。"),
)
def frequency(subject: Subject) -> list[Problem]:
    value = subject.dataset.update_frequency
    if not value:
        return [Problem(_("没有声明更新频率。"))]
    if value == "irregular":
        return [Problem(_("更新频率为“不定期”，无法检查是否按时更新。"))]
    return []


@check(
    code="metadata.coverage",
    family=Family.METADATA,
    severity=Severity.LOW,
    title=gettext_lazy("时间和空间范围"),
    explanation=gettext_lazy("时间范围和空间范围说明数据覆盖哪段时间、哪些地方。"),
    fix=gettext_lazy("填写数据的起始日期和空间范围（例如“绵阳市全市”或某区县）。"),
)
def coverage(subject: Subject) -> list[Problem]:
    missing = []
    if subject.dataset.temporal_start is None:
        missing.append(_("时间范围"))
    if not subject.dataset.spatial_coverage.strip():
        missing.append(_("空间范围"))
    return [Problem(_("没有填写：%(what)s。") % {"what": "、".join(missing)})] if missing else []


@check(
    code="metadata.fields",
    family=Family.METADATA,
    severity=Severity.MEDIUM,
    title=gettext_lazy("每个字段都有中文名称和说明"),
    explanation=gettext_lazy("没有说明的字段，用户只能猜它的含义、单位和口径。"),
    fix=gettext_lazy("在“字段”页为每个字段填写中文名称和说明，必要时写明单位和示例。"),
)
def fields(subject: Subject) -> list[Problem]:
    if not subject.fields:
        return [Problem(_("没有登记任何字段。"), {"fields": []}, Severity.HIGH)]
    missing = [f.name for f in subject.fields if not f.title.strip() or not f.description.strip()]
    if not missing:
        return []
    return [
        Problem(
            _("%(n)s 个字段缺少中文名称或说明：%(names)s。") % {"n": len(missing), "names": "、".join(missing[:10])},
            {"fields": missing},
        )
    ]


@check(
    code="metadata.contact",
    family=Family.METADATA,
    severity=Severity.LOW,
    title=gettext_lazy("联系方式"),
    explanation=gettext_lazy("用户对数据有疑问时需要知道找谁。"),
    fix=gettext_lazy("填写联系人以及电话或邮箱。"),
)
def contact(subject: Subject) -> list[Problem]:
    dataset = subject.dataset
    if dataset.contact_name.strip() and (dataset.contact_phone.strip() or dataset.contact_email.strip()):
        return []
    return [Problem(_("缺少联系人或联系电话、邮箱。"))]
