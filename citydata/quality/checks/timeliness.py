"""Timeliness: the last data update against the declared update frequency."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citydata.quality.checks import Problem, Subject, check
from citydata.quality.models import Family, Severity

# How long after the last update a dataset of each frequency is late: the period plus some grace.
ALLOWED = {
    "realtime": dt.timedelta(days=1),
    "daily": dt.timedelta(days=2),
    "weekly": dt.timedelta(days=10),
    "monthly": dt.timedelta(days=38),
    "quarterly": dt.timedelta(days=107),
    "yearly": dt.timedelta(days=396),
}


def last_update(dataset) -> dt.datetime | None:
    return dataset.last_data_update or dataset.published_at


def is_late(dataset, now: dt.datetime) -> bool | None:
    """True when late, False when on time, None when the frequency promises nothing (irregular) or no date."""
    allowed = ALLOWED.get(dataset.update_frequency)
    last = last_update(dataset)
    if allowed is None or last is None:
        return None
    return now - last > allowed


@check(
    code="timeliness.stale",
    family=Family.TIMELINESS,
    severity=Severity.MEDIUM,
    title=gettext_lazy("按声明的频率更新"),
    explanation=gettext_lazy("声明每日更新却几周没有新数据，用户会以为数据是最新的。评估按部门统计按时更新率。"),
    fix=gettext_lazy("上传最新数据；实际更新频率与声明不符时，修改声明的更新频率。"),
)
def stale(subject: Subject) -> list[Problem]:
    dataset = subject.dataset
    if not is_late(dataset, subject.now):
        return []
    last = last_update(dataset)
    assert last is not None
    days = (subject.now - last).days
    allowed = ALLOWED[dataset.update_frequency]
    return [
        Problem(
            _("声明%(f)s更新，但已有 %(d)s 天没有更新数据（最近更新 %(when)s）。")
            % {"f": dataset.get_update_frequency_display(), "d": days, "when": last.date().isoformat()},
            {"days": days, "frequency": dataset.update_frequency},
            Severity.HIGH if subject.now - last > allowed * 3 else None,
        )
    ]
