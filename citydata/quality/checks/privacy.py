"""Privacy: columns the privacy detectors (`citydata.privacy`) classify as personal data in opened data."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity


@check(
    code="privacy.personal_data",
    family=Family.PRIVACY,
    severity=Severity.HIGH,
    title=gettext_lazy("不含未脱敏的个人信息"),
    explanation=gettext_lazy("身份证号、手机号、姓名等个人信息未经脱敏开放，违反个人信息保护法。"),
    fix=gettext_lazy("立即删除或脱敏这些列后重新上传，并按分级分类细则复核字段类别。"),
)
def personal_data(subject: Subject) -> list[Problem]:
    profile = subject.profile
    if profile is None or not profile.privacy:
        return []
    from citydata.privacy import detectors

    problems = []
    for item in profile.privacy:
        try:
            label = str(detectors.get(item["type"]).label)
        except KeyError:
            label = item["type"]
        problems.append(
            Problem(
                _("列“%(c)s”含有%(t)s（约占 %(p)s%%）。")
                % {"c": item["column"], "t": label, "p": round(float(item.get("share", 0)) * 100)},
                {"column": item["column"], "type": item["type"]},
            )
        )
    return problems
