"""Reads of conditional opening shared by the pages: who sees which case, what they may do now, the queue,
the acceptance clock as a person reads it, a grant's usage, and the SLA figures per department (R4.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.access import rules  # noqa: F401 - registers the permission rules
from citydata.access.models import (
    TRANSITIONS,
    Application,
    Grant,
    GrantStatus,
    GrantUsage,
    Opinion,
    Panel,
    State,
)
from citydata.accounts import authz
from citydata.accounts.models import Department, User
from citydata.catalog.models import Dataset, DatasetStatus, OpenType
from citydata.errors import DomainError, Forbidden
from citydata.workdays import calendar

# --- finding a case ---------------------------------------------------------------------------------------


def application_for(user: User, number: str) -> Application:
    """The application `number` if `user` may see it: 404 when there is none, 403 when it is someone else's."""
    application = (
        Application.objects.select_related("applicant", "organisation", "department").filter(number=number).first()
    )
    if application is None:
        raise Http404
    authz.authorize(user, "application.view", application)
    return application


def grant_for(user: User, pk: int) -> Grant:
    grant = Grant.objects.select_related("holder", "organisation", "department", "application").filter(pk=pk).first()
    if grant is None:
        raise Http404
    authz.authorize(user, "grant.view", grant)
    return grant


def panel_for(user: User, pk: int) -> Panel:
    """A panel for its experts, the operators, and the staff of the department whose case it deliberates."""
    panel = Panel.objects.select_related("application__department", "dataset", "created_by").filter(pk=pk).first()
    if panel is None:
        raise Http404
    member = panel.opinions.filter(expert=user).exists() if user.is_authenticated else False
    staff = (panel.application is not None and authz.can(user, "application.review", panel.application)) or (
        panel.dataset is not None and authz.can(user, "catalog.edit", panel.dataset.department)
    )
    if not (member or authz.can(user, "panel.create") or staff):
        raise Forbidden(_("只有该专家组成员、平台运营方和相关部门可以查看此议事。"))
    return panel


def conditional_datasets(department: Department | None = None) -> QuerySet[Dataset]:
    """Published conditional datasets (of one department), with their fields, in title order."""
    rows = Dataset.objects.filter(status=DatasetStatus.PUBLISHED, open_type=OpenType.CONDITIONAL)
    if department is not None:
        rows = rows.filter(department=department)
    return rows.select_related("department").prefetch_related("fields").order_by("title", "id")


def departments_with_conditional_data() -> QuerySet[Department]:
    ids = conditional_datasets().values("department_id")
    return Department.objects.filter(pk__in=ids).order_by("code")


# --- what a person may do now -------------------------------------------------------------------------------


@dataclass
class Allowed:
    """The actions on a case open to one person in its current state (the page shows one small form each)."""

    edit: bool = False  # edit the draft, upload attachments
    submit: bool = False
    withdraw: bool = False
    accept: bool = False
    return_: bool = False
    evaluate: bool = False
    decide: bool = False
    panel: bool = False
    sign: bool = False

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def allowed_actions(user: User, application: Application) -> Allowed:
    state = application.state
    nexts = TRANSITIONS[state]
    mine = authz.can(user, "application.edit", application)
    review = authz.can(user, "application.review", application)
    return Allowed(
        edit=mine and state in (State.DRAFT, State.RETURNED),
        submit=mine and State.SUBMITTED in nexts,
        withdraw=mine and State.WITHDRAWN in nexts,
        accept=review and State.ACCEPTED in nexts,
        return_=review and State.RETURNED in nexts,
        evaluate=review and State.EVALUATING in nexts and state == State.ACCEPTED,
        decide=review and State.APPROVED in nexts,
        panel=authz.can(user, "panel.create") and State.DELIBERATING in nexts,
        sign=mine and state == State.APPROVED,
    )


# --- the acceptance clock as people read it ----------------------------------------------------------------


@dataclass
class Clock:
    due: dt.datetime | None
    left: int | None  # working days left until the deadline (negative when overdue); None when unknown
    overdue: bool
    paused: bool
    paused_left: int
    accepted_on_time: bool | None


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def workdays_left(
    due: dt.datetime | None, today: dt.date | None = None, *, work_calendar: calendar.WorkCalendar | None = None
) -> int | None:
    if due is None:
        return None
    try:
        return calendar.workdays_between(today or timezone.localdate(), _local_day(due), calendar=work_calendar)
    except DomainError:  # a year without calendar data: say nothing rather than guess
        return None


def clock(application: Application, *, work_calendar: calendar.WorkCalendar | None = None) -> Clock:
    """Pass `work_calendar` (calendar.current()) when reading many clocks, so the calendar is loaded once."""
    waiting = application.state == State.SUBMITTED
    return Clock(
        due=application.accept_due,
        left=workdays_left(application.accept_due, work_calendar=work_calendar) if waiting else None,
        overdue=application.overdue,
        paused=application.state == State.RETURNED,
        paused_left=application.paused_workdays,
        accepted_on_time=application.accepted_on_time(),
    )


# --- lists -----------------------------------------------------------------------------------------------------


def applications_of(user: User) -> QuerySet[Application]:
    return Application.objects.filter(applicant=user).select_related("department").prefetch_related("items__dataset")


def grants_of(user: User) -> QuerySet[Grant]:
    return Grant.objects.filter(holder=user).select_related("department", "application", "organisation")


def queue_departments(user: User) -> QuerySet[Department]:
    """The departments whose applications `user` handles: all for operators, their own for provider staff."""
    if authz.has_role(user, authz.OPERATOR):
        return Department.objects.all().order_by("code")
    return Department.objects.filter(pk__in=authz.department_ids(user, authz.PROVIDER)).order_by("code")


def queue(
    user: User, *, state: str = "", overdue: bool = False, department: Department | None = None
) -> QuerySet[Application]:
    """Applications handled by `user`'s departments (operators: all), drafts excluded (not yet sent)."""
    authz.authorize(user, "access.sla")
    rows = Application.objects.exclude(state=State.DRAFT).select_related("applicant", "organisation", "department")
    if not authz.has_role(user, authz.OPERATOR):
        rows = rows.filter(department_id__in=authz.department_ids(user, authz.PROVIDER))
    if department is not None:
        rows = rows.filter(department=department)
    if state:
        rows = rows.filter(state=state)
    if overdue:
        rows = rows.filter(state=State.SUBMITTED, accept_due__lt=timezone.now())
    return rows


def open_panels_for(user: User) -> list[Panel]:
    """The expert's panels still open, soonest deadline first, with whether they have given their opinion."""
    opinions = (
        Opinion.objects.filter(expert=user, panel__closed_at__isnull=True)
        .select_related("panel__application")
        .order_by("panel__deadline", "panel_id")
    )
    panels = []
    for opinion in opinions[:100]:
        panel = opinion.panel
        panel.my_opinion = opinion  # type: ignore[attr-defined]
        panels.append(panel)
    return panels


# --- a grant's use -----------------------------------------------------------------------------------------------


@dataclass
class Usage:
    days: list[GrantUsage]
    calls: int
    rows: int
    bytes: int


def grant_usage(grant: Grant, days: int = 30) -> Usage:
    """Calls, rows and bytes per day over the last `days` days, with the totals since the grant began."""
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    recent = list(GrantUsage.objects.filter(grant=grant, day__gte=since).order_by("-day"))
    total = GrantUsage.objects.filter(grant=grant).aggregate(c=Sum("calls"), r=Sum("rows"), b=Sum("bytes"))
    return Usage(days=recent, calls=total["c"] or 0, rows=total["r"] or 0, bytes=total["b"] or 0)


def grants_of_department(department_ids: set[int] | None) -> QuerySet[Grant]:
    rows = Grant.objects.select_related("holder", "department", "organisation")
    if department_ids is not None:
        rows = rows.filter(department_id__in=department_ids)
    return rows.filter(status__in=[GrantStatus.ACTIVE, GrantStatus.SUSPENDED])


# --- SLA (R4.3, issue 7 §8) ------------------------------------------------------------------------------------


@dataclass
class SlaRow:
    """One department's figures. `rate` is accepted ÷ (accepted + overdue now): applications still inside their
    deadline, returned for completion or withdrawn before acceptance do not count against it."""

    department: Department | None
    received: int = 0
    accepted: int = 0
    on_time: int = 0
    overdue_now: int = 0
    approved: int = 0
    rejected: int = 0
    days: list[int] = field(default_factory=list)
    unknown_days: int = 0  # accepted in a year without calendar data
    rejections: list[Application] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        due = self.accepted + self.overdue_now
        return round(100 * self.accepted / due, 1) if due else None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.accepted, 1) if self.accepted else None

    @property
    def average_days(self) -> float | None:
        return round(sum(self.days) / len(self.days), 1) if self.days else None

    @property
    def max_days(self) -> int | None:
        return max(self.days) if self.days else None


def sla(
    user: User,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    rejections_shown: int = 5,
) -> tuple[list[SlaRow], SlaRow]:
    """Per department and in total, over applications submitted in [since, until] (local dates): received,
    accepted, accepted on time, rate, average and maximum working days from submission to acceptance,
    overdue now, approvals and rejections with their reasons. Operators see every department; provider
    staff their own."""
    authz.authorize(user, "access.sla")
    rows = Application.objects.filter(submitted_at__isnull=False)
    departments = queue_departments(user)
    if not authz.has_role(user, authz.OPERATOR):
        rows = rows.filter(department__in=departments)
    if since is not None:
        rows = rows.filter(submitted_at__date__gte=since)
    if until is not None:
        rows = rows.filter(submitted_at__date__lte=until)
    fields = ("id", "number", "department_id", "state", "submitted_at", "accept_due", "accepted_at", "decided_at")
    applications = list(rows.only(*fields, "decision_reason").order_by("id"))
    per: dict[int, SlaRow] = {}
    total = SlaRow(department=None)
    now = timezone.now()
    work_calendar = calendar.current()
    for application in applications:
        row = per.setdefault(application.department_id, SlaRow(department=None))
        for target in (row, total):
            target.received += 1
        if application.accepted_at is not None:
            on_time = application.accept_due is None or application.accepted_at <= application.accept_due
            try:
                days: int | None = (
                    calendar.workdays_between(
                        _local_day(application.submitted_at),  # type: ignore[arg-type]
                        _local_day(application.accepted_at),
                        calendar=work_calendar,
                    )
                    - application.paused_total
                )  # the days the applicant took to complete the file are not counted
            except DomainError:
                days = None
            for target in (row, total):
                target.accepted += 1
                target.on_time += int(on_time)
                if days is None:
                    target.unknown_days += 1
                else:
                    target.days.append(days)
        elif (
            application.state == State.SUBMITTED and application.accept_due is not None and now > application.accept_due
        ):
            for target in (row, total):
                target.overdue_now += 1
        if application.decided_at is not None:
            if application.state == State.REJECTED:
                for target in (row, total):
                    target.rejected += 1
                row.rejections.append(application)
            else:  # approved, whatever happened after (signed, granted, withdrawn, expired…)
                for target in (row, total):
                    target.approved += 1
    names = {d.pk: d for d in Department.objects.filter(pk__in=per.keys())}
    result = []
    for department_id, row in per.items():
        row.department = names[department_id]
        row.rejections = sorted(row.rejections, key=lambda a: a.decided_at or now, reverse=True)[:rejections_shown]
        result.append(row)
    # Departments without applications still appear for the people who answer for them.
    seen = set(per)
    for department in departments if not authz.has_role(user, authz.OPERATOR) else []:
        if department.pk not in seen:
            result.append(SlaRow(department=department))
    result.sort(key=lambda r: (r.rate if r.rate is not None else 101, r.department.code if r.department else ""))
    return result, total


def decided_with_reasons(user: User, *, limit: int = 20) -> QuerySet[Application]:
    """The latest decisions (approvals and rejections) visible to `user`, for the SLA page's list."""
    rows = Application.objects.filter(decided_at__isnull=False).select_related("department")
    if not authz.has_role(user, authz.OPERATOR):
        rows = rows.filter(department_id__in=authz.department_ids(user, authz.PROVIDER))
    return rows.filter(Q(state=State.REJECTED) | ~Q(decision_reason="")).order_by("-decided_at")[:limit]
