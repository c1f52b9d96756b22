"""Content checks over the current data version's profile (measured by vectorised DuckDB queries, `quality.profile`),
and two catalog-wide ones: the same data under two titles, and one series cut into many small datasets."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity

LOW_CAPACITY_ROWS = 10  # fewer rows than this is a token dataset (a "low-capacity" dataset in the Open Data Index)
NULL_RATE_LIMIT = 0.5  # a column more than half empty
FRAGMENT_MIN = 3  # datasets of one department whose titles differ only by dates or numbers
FRAGMENT_SMALL_ROWS = 10_000
SERIES_NOISE = re.compile(
    r"[0-9０-９]+|[一二三四五六七八九十]+月|第[一二三四五六七八九十0-9]+[期季批]|[上下]半年|季度|年度|年|月份|月|日|期"
)


def _examples(stats: dict, key: str) -> str:
    found = (stats.get("examples") or {}).get(key) or []
    return ("（" + _("例如 %(v)s") % {"v": "、".join(found)} + "）") if found else ""


@check(
    code="content.capacity",
    family=Family.CONTENT,
    severity=Severity.MEDIUM,
    title=gettext_lazy("数据量"),
    explanation=gettext_lazy("只有几行的数据集是“凑数”的低容量数据，开放评估会扣分。"),
    fix=gettext_lazy("开放完整的数据，或把它并入同一主题的数据集。"),
)
def capacity(subject: Subject) -> list[Problem]:
    if subject.version is None:
        if any(r.kind == "file" and r.format.upper() in {"CSV", "JSON", "XLSX", "XLS"} for r in subject.resources):
            return []  # data hosted elsewhere: its size is unknown here
        return [Problem(_("平台上没有这个数据集的数据。"), {"rows": 0}, Severity.LOW)]
    profile = subject.profile
    if profile is None or profile.row_count >= LOW_CAPACITY_ROWS:
        return []
    return [Problem(_("只有 %(n)s 行数据。") % {"n": profile.row_count}, {"rows": profile.row_count})]


@check(
    code="content.nulls",
    family=Family.CONTENT,
    severity=Severity.LOW,
    title=gettext_lazy("空值比例"),
    explanation=gettext_lazy("大半为空的列说明采集或导出不完整。"),
    fix=gettext_lazy("补齐空缺的值；确实不适用的列可以删除或在字段说明中解释原因。"),
)
def nulls(subject: Subject) -> list[Problem]:
    profile = subject.profile
    if profile is None or not profile.row_count:
        return []
    problems = []
    for name, stats in profile.stats.get("columns", {}).items():
        if stats.get("null_rate", 0) > NULL_RATE_LIMIT:
            problems.append(
                Problem(
                    _("列“%(c)s”有 %(p)s%% 为空。") % {"c": name, "p": round(stats["null_rate"] * 100)},
                    {"column": name, "null_rate": stats["null_rate"]},
                )
            )
    return problems


@check(
    code="content.types",
    family=Family.CONTENT,
    severity=Severity.MEDIUM,
    title=gettext_lazy("值符合字段类型"),
    explanation=gettext_lazy("声明为数字或日期的列里混入了无法识别的值（如 2024-02-30、“暂无”），程序无法直接使用。"),
    fix=gettext_lazy("更正这些值或留空，重新上传数据。"),
)
def types(subject: Subject) -> list[Problem]:
    profile = subject.profile
    if profile is None:
        return []
    labels = {
        "integer": _("整数"),
        "decimal": _("数字"),
        "boolean": _("是/否"),
        "date": _("日期"),
        "datetime": _("日期时间"),
    }
    problems = []
    for name, stats in profile.stats.get("columns", {}).items():
        if stats.get("invalid"):
            problems.append(
                Problem(
                    _("列“%(c)s”有 %(n)s 个值不是有效的%(t)s%(e)s。")
                    % {
                        "c": name,
                        "n": stats["invalid"],
                        "t": labels.get(stats.get("expected", ""), ""),
                        "e": _examples(stats, "invalid"),
                    },
                    {"column": name, "invalid": stats["invalid"], "expected": stats.get("expected")},
                )
            )
    return problems


@check(
    code="content.ranges",
    family=Family.CONTENT,
    severity=Severity.MEDIUM,
    title=gettext_lazy("值在合理范围内"),
    explanation=gettext_lazy("不可能的日期（1900 年以前或远在未来）、为负的数量、落在本市以外的坐标，都是数据错误。"),
    fix=gettext_lazy("核对并更正这些值，重新上传数据。"),
)
def ranges(subject: Subject) -> list[Problem]:
    profile = subject.profile
    if profile is None:
        return []
    problems = []
    for name, stats in profile.stats.get("columns", {}).items():
        if stats.get("out_of_range"):
            problems.append(
                Problem(
                    _("列“%(c)s”有 %(n)s 个不可能的日期%(e)s。")
                    % {"c": name, "n": stats["out_of_range"], "e": _examples(stats, "out_of_range")},
                    {"column": name, "out_of_range": stats["out_of_range"]},
                )
            )
        if stats.get("negative"):
            problems.append(
                Problem(
                    _("列“%(c)s”是数量，却有 %(n)s 个负值%(e)s。")
                    % {"c": name, "n": stats["negative"], "e": _examples(stats, "negative")},
                    {"column": name, "negative": stats["negative"]},
                )
            )
    if profile.stats.get("outside_city"):
        problems.append(
            Problem(
                _("有 %(n)s 行坐标在本市范围以外%(e)s。")
                % {"n": profile.stats["outside_city"], "e": _examples(profile.stats, "outside_city")},
                {"outside_city": profile.stats["outside_city"]},
            )
        )
    return problems


@check(
    code="content.duplicate_rows",
    family=Family.CONTENT,
    severity=Severity.LOW,
    title=gettext_lazy("没有重复行"),
    explanation=gettext_lazy("完全相同的行会让统计结果翻倍。"),
    fix=gettext_lazy("删除重复的行后重新上传。"),
)
def duplicate_rows(subject: Subject) -> list[Problem]:
    profile = subject.profile
    duplicates = int(profile.stats.get("duplicates", 0)) if profile is not None else 0
    if not duplicates:
        return []
    share = duplicates / max(profile.row_count, 1)
    return [
        Problem(
            _("有 %(n)s 行与其他行完全相同（占 %(p)s%%）。") % {"n": duplicates, "p": round(share * 100, 1)},
            {"duplicates": duplicates},
            Severity.MEDIUM if share >= 0.05 else None,
        )
    ]


@check(
    code="content.duplicate_dataset",
    family=Family.CONTENT,
    severity=Severity.MEDIUM,
    title=gettext_lazy("没有重复开放的数据集"),
    explanation=gettext_lazy("同一份数据以两个名称开放，会虚增开放数量，也让用户不知道该用哪一个。"),
    fix=gettext_lazy("保留一个数据集，撤回另一个并在撤回原因中指向保留的那个。"),
)
def duplicate_dataset(subject: Subject) -> list[Problem]:
    profile = subject.profile
    if profile is None or not profile.row_count:
        return []
    from citydata.catalog.models import DatasetStatus
    from citydata.quality.models import VersionProfile

    current = VersionProfile.objects.filter(
        version__is_current=True, version__dataset__status=DatasetStatus.PUBLISHED
    ).exclude(version__dataset=subject.dataset)
    # Versions of the same size not yet measured (their dataset was never assessed) are measured now, so the
    # answer does not depend on which of two twins is inspected first.
    from citydata.datastore.models import DataVersion
    from citydata.quality import profile as profiles

    unmeasured = (
        DataVersion.objects.filter(
            is_current=True,
            row_count=profile.row_count,
            dataset__status=DatasetStatus.PUBLISHED,
            quality_profile__isnull=True,
        )
        .exclude(dataset=subject.dataset)
        .exclude(data_key="")
        .select_related("dataset")[:20]
    )
    for version in unmeasured:
        try:
            profiles.for_version(version, list(version.dataset.fields.all()))
        except Exception as exc:  # an unreadable twin is its own records-API finding
            profiles.logger.warning("profile of version %s failed: %s", version.pk, exc)
    twins = list(
        current.filter(fingerprint=profile.fingerprint).values_list(
            "version__dataset__slug", "version__dataset__title"
        )[:5]
    )
    if not twins:
        return []
    return [
        Problem(
            _("与数据集“%(t)s”的数据完全相同。") % {"t": title},
            {"dataset": slug},
        )
        for slug, title in twins
    ]


def series_key(title: str) -> str:
    return SERIES_NOISE.sub("", title).strip(" -_—（）()")


@check(
    code="content.fragmented",
    family=Family.CONTENT,
    severity=Severity.LOW,
    title=gettext_lazy("没有碎片化拆分"),
    explanation=gettext_lazy("把一个系列按月份、年份拆成许多小数据集（如每月一个），用户要逐个下载才能拼起来。"),
    fix=gettext_lazy("把这个系列合并为一个数据集，用日期列区分各期，按期追加数据。"),
)
def fragmented(subject: Subject) -> list[Problem]:
    from citydata.catalog.models import Dataset, DatasetStatus

    key = series_key(subject.dataset.title)
    if not key or key == subject.dataset.title:
        return []
    titles = list(
        Dataset.objects.filter(department_id=subject.dataset.department_id, status=DatasetStatus.PUBLISHED)
        .exclude(pk=subject.dataset.pk)
        .values_list("slug", "title")
    )
    series = [(slug, title) for slug, title in titles if title != subject.dataset.title and series_key(title) == key]
    if len(series) + 1 < FRAGMENT_MIN:
        return []
    if subject.profile is not None and subject.profile.row_count >= FRAGMENT_SMALL_ROWS:
        return []
    return [
        Problem(
            _("与另外 %(n)s 个数据集（如“%(t)s”）是同一系列被拆开开放。") % {"n": len(series), "t": series[0][1]},
            {"series": key, "datasets": [slug for slug, _t in series[:20]]},
        )
    ]
