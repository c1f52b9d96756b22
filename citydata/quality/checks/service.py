"""Service checks: every resource address answers (from the probe history) and the records API can serve the data."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity


@check(
    code="service.links",
    family=Family.SERVICE,
    severity=Severity.HIGH,
    title=gettext_lazy("资源地址可以访问"),
    explanation=gettext_lazy("打不开的下载链接或接口地址等于没有开放。巡查时平台逐一访问每个外部地址并保留检测记录。"),
    fix=gettext_lazy("修复或更换失效的地址；资源已不再提供时删除它。"),
)
def links(subject: Subject) -> list[Problem]:
    from citydata.quality import probes

    external = [r for r in subject.resources if probes.is_external(r.url)]
    if not external:
        return []
    newest = probes.latest([r.pk for r in external])
    problems = []
    for resource in external:
        result = newest.get(resource.pk)
        if result is not None and not result.ok and result.url == resource.url.strip():
            problems.append(
                Problem(
                    _("资源“%(name)s”的地址无法访问（%(why)s）。")
                    % {"name": resource.name, "why": result.error or result.status_code or _("无响应")},
                    {"resource": resource.pk, "url": resource.url, "status": result.status_code, "error": result.error},
                )
            )
    return problems


@check(
    code="service.records_api",
    family=Family.SERVICE,
    severity=Severity.HIGH,
    title=gettext_lazy("数据查询接口可用"),
    explanation=gettext_lazy("平台为上传的数据提供查询接口；接口读不到数据文件时，调用者只会收到错误。"),
    fix=gettext_lazy("重新上传并发布数据版本；问题仍在时联系平台运营方。"),
)
def records_api(subject: Subject) -> list[Problem]:
    if subject.version is None:
        return []
    if subject.profile is not None:
        return []
    if subject.profile_error:
        return [
            Problem(
                _("当前数据版本无法读取：%(e)s") % {"e": subject.profile_error[:200]},
                {"version": subject.version.number},
            )
        ]
    return [Problem(_("当前数据版本没有数据文件。"), {"version": subject.version.number})]
