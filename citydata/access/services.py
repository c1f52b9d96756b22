"""Every change in conditional opening is one of these calls: authorised by role and department, checked
against the state table, done in one transaction, audited, and told to the people it concerns."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from citydata.access import rules  # noqa: F401 - registers the permission rules
from citydata.access.models import (
    TRANSITIONS,
    Agreement,
    AgreementTemplate,
    Application,
    ApplicationItem,
    Attachment,
    Event,
    Grant,
    GrantItem,
    GrantStatus,
    Opinion,
    Panel,
    State,
    UsageReport,
    Vote,
)
from citydata.accounts import authz
from citydata.accounts.models import ApiKey, Department, Organisation, Role, RoleAssignment, Stage, User
from citydata.accounts.notify import notify
from citydata.accounts.services.apikeys import issue_key
from citydata.catalog.models import Dataset, DatasetStatus, OpenType
from citydata.errors import DomainError, Forbidden
from citydata.security import audit
from citydata.workdays import calendar

COMMITMENT_TEXT = (
    "本人/本单位承诺：所申请数据仅用于申请书载明的用途和场景，不超范围使用，不向第三方提供；"
    "采取必要的管理和技术措施保障数据安全，不尝试对脱敏数据进行重新识别；"
    "按期提交使用情况报告；发生数据安全事件时立即报告并采取补救措施；"
    "违反承诺的，平台可暂停或撤销授权，并依法追究责任。"
)
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
ATTACHMENT_MAGIC = {".pdf": b"%PDF", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".png": b"\x89PNG", ".docx": b"PK"}


def _day(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}"


def _minute(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def commitment_sha256() -> str:
    return hashlib.sha256(COMMITMENT_TEXT.encode()).hexdigest()


def application_url(application: Application) -> str:
    return reverse("access:application", args=[application.number])


# --- who is concerned -----------------------------------------------------------------------------


def reviewers(department: Department) -> list[User]:
    """The department's named application reviewers (专人专岗), else all its provider staff."""
    named = [d.user for d in department.duties.select_related("user").filter(stage=Stage.APPLICATION_REVIEW)]
    if named:
        return named
    staff = RoleAssignment.objects.filter(role=Role.PROVIDER, department=department).select_related("user")
    return [a.user for a in staff]


def operators() -> list[User]:
    return [a.user for a in RoleAssignment.objects.filter(role=Role.OPERATOR).select_related("user")]


# --- state changes ----------------------------------------------------------------------------------


def _move(application: Application, to: str, by: User | None, note: str = "") -> None:
    """The one place a state changes: refuse what the table does not allow, record the step."""
    if to not in TRANSITIONS[application.state]:
        raise DomainError(
            _("申请当前为“%(now)s”状态，不能变更为“%(to)s”。")
            % {"now": State(application.state).label, "to": State(to).label},
            code="invalid_transition",
            details={"state": application.state, "to": to},
        )
    before = application.state
    application.state = to
    application.save()
    Event.objects.create(application=application, actor=by, from_state=before, to_state=to, note=note)
    audit.record(by, f"application.{to}", application, changes={"state": [before, to]}, note=note[:500])


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _required(text: str, field: str, label: str, *, max_length: int = 2000) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, code="required", details={"field": field})
    if len(text) > max_length:
        raise DomainError(
            _("%(label)s不能超过 %(n)s 字。") % {"label": label, "n": max_length},
            code="too_long",
            details={"field": field},
        )
    return text


def _new_number() -> str:
    year = timezone.localdate().year
    for _attempt in range(5):
        number = f"SQ{year}{secrets.randbelow(10**6):06d}"
        if not Application.objects.filter(number=number).exists():
            return number
    raise DomainError(_("暂时无法生成申请编号，请重试。"), code="busy")


def _check_items(items: Sequence[tuple[Dataset, Sequence[str]]]) -> tuple[Department, list[tuple[Dataset, list]]]:
    if not items:
        raise DomainError(_("请至少选择一个有条件开放的数据集。"), code="required", details={"field": "datasets"})
    checked = []
    departments = set()
    for dataset, fields in items:
        if dataset.status != DatasetStatus.PUBLISHED or dataset.open_type != OpenType.CONDITIONAL:
            raise DomainError(
                _("“%(title)s”不是已发布的有条件开放数据集，无需或不能申请。") % {"title": dataset.title},
                code="not_conditional",
                details={"field": "datasets", "dataset": dataset.slug},
            )
        known = list(dataset.fields.values_list("name", flat=True))
        wanted = [f for f in dict.fromkeys(str(f).strip() for f in fields) if f]
        unknown = [f for f in wanted if f not in known]
        if not wanted or unknown:
            raise DomainError(
                _("请为“%(title)s”勾选所需字段（只能从该数据集的字段中选择）。") % {"title": dataset.title},
                code="invalid_fields",
                details={"field": "fields", "dataset": dataset.slug, "unknown": unknown[:20]},
            )
        departments.add(dataset.department_id)
        checked.append((dataset, wanted))
    if len(departments) > 1:
        raise DomainError(
            _("一份申请只能包含同一部门的数据集，请按部门分别申请。"),
            code="mixed_departments",
            details={"field": "datasets"},
        )
    return Department.objects.get(pk=departments.pop()), checked


@transaction.atomic
def application_save(
    *,
    by: User,
    items: Sequence[tuple[Dataset, Sequence[str]]],
    purpose: str,
    scenario: str,
    period_start: dt.date,
    period_end: dt.date,
    expected_volume: str,
    security_measures: str,
    organisation: Organisation | None = None,
    application: Application | None = None,
) -> Application:
    """Create or update a draft (or an application returned for completion)."""
    authz.authorize(by, "application.create")
    if organisation is not None and not authz.can(by, "application.for_organisation", organisation):
        raise DomainError(
            _("只有该组织的成员才能以组织名义申请。"), code="not_member", details={"field": "organisation"}
        )
    if application is not None:
        application = _locked(application)
        authz.authorize(by, "application.edit", application)
        if application.state not in (State.DRAFT, State.RETURNED):
            raise DomainError(_("只有草稿或退回补正的申请可以修改。"), code="invalid_transition")
    department, checked = _check_items(items)
    if period_end < period_start:
        raise DomainError(_("使用结束日期不能早于开始日期。"), code="invalid_period", details={"field": "period_end"})
    if period_start > timezone.localdate() + dt.timedelta(days=366):
        raise DomainError(_("使用开始日期最迟为一年以后。"), code="invalid_period", details={"field": "period_start"})
    if (period_end - period_start).days > 366 * 3:
        raise DomainError(
            _("单次申请的使用期限最长三年，到期可申请续期。"), code="invalid_period", details={"field": "period_end"}
        )
    values = {
        "purpose": _required(purpose, "purpose", _("申请用途")),
        "scenario": _required(scenario, "scenario", _("应用场景")),
        "expected_volume": _required(expected_volume, "expected_volume", _("预计调用量"), max_length=200),
        "security_measures": _required(security_measures, "security_measures", _("安全保障措施")),
        "period_start": period_start,
        "period_end": period_end,
        "organisation": organisation,
        "department": department,
    }
    if application is None:
        application = Application.objects.create(applicant=by, number=_new_number(), **values)
        Event.objects.create(application=application, actor=by, to_state=State.DRAFT, note=_("保存草稿"))
        audit.record(by, "application.draft", application)
    else:
        for name, value in values.items():
            setattr(application, name, value)
        application.save()
        application.items.all().delete()
        audit.record(by, "application.edit", application)
    ApplicationItem.objects.bulk_create(
        ApplicationItem(application=application, dataset=dataset, fields=fields) for dataset, fields in checked
    )
    return application


def attachment_add(*, by: User, application: Application, name: str, content: bytes) -> Attachment:
    """A supporting file, checked by size, extension and content signature."""
    authz.authorize(by, "application.edit", application)
    if application.state not in (State.DRAFT, State.RETURNED):
        raise DomainError(_("只有草稿或退回补正的申请可以上传附件。"), code="invalid_transition")
    name = (name or "").strip()[-200:] or "attachment"
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise DomainError(
            _("附件只接受 PDF、JPG、PNG 或 DOCX 文件。"), code="invalid_attachment", details={"field": "attachment"}
        )
    if not content or len(content) > MAX_ATTACHMENT_BYTES:
        raise DomainError(
            _("附件不能为空，且不能超过 %(mb)s MB。") % {"mb": MAX_ATTACHMENT_BYTES // 1024 // 1024},
            code="invalid_attachment",
            details={"field": "attachment"},
        )
    if not content.startswith(ATTACHMENT_MAGIC[ext]):
        raise DomainError(
            _("附件内容与扩展名不符，请上传真实的 %(ext)s 文件。") % {"ext": ext[1:].upper()},
            code="invalid_attachment",
            details={"field": "attachment"},
        )
    if application.attachments.count() >= 10:
        raise DomainError(_("每份申请最多上传10个附件。"), code="too_many_attachments", details={"field": "attachment"})
    with transaction.atomic():
        attachment = Attachment.objects.create(
            application=application,
            name=name,
            content_type=ATTACHMENT_TYPES[ext],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
        audit.record(by, "application.attach", application, note=name)
    return attachment


@transaction.atomic
def application_submit(*, by: User, application: Application, commitment: bool) -> Application:
    """Submit (or resubmit after completion). Starts, or resumes, the acceptance clock."""
    application = _locked(application)
    authz.authorize(by, "application.edit", application)
    if not commitment:
        raise DomainError(
            _("提交前请阅读并签署《数据安全承诺书》。"), code="commitment_required", details={"field": "commitment"}
        )
    if not application.items.exists():
        raise DomainError(_("请至少选择一个有条件开放的数据集。"), code="required", details={"field": "datasets"})
    now = timezone.now()
    resumed = application.state == State.RETURNED
    application.commitment_accepted_at = now
    application.commitment_sha256 = commitment_sha256()
    application.submitted_at = application.submitted_at or now
    if resumed:
        # The clock was paused while the applicant completed the file: it resumes with the days left, and
        # the days the applicant took are not the department's (the SLA subtracts them).
        if application.paused_at is not None:
            application.paused_total += max(
                calendar.workdays_between(timezone.localtime(application.paused_at).date(), timezone.localdate()), 0
            )
            application.paused_at = None
        application.accept_due = calendar.deadline(now, max(application.paused_workdays, 1))
        note = _("补正后重新提交，受理时限恢复计算，剩余 %(n)s 个工作日。") % {"n": max(application.paused_workdays, 1)}
    else:
        application.accept_due = calendar.acceptance_deadline(now)
        note = _("提交申请，应在 %(due)s 前受理。") % {"due": _day(application.accept_due)}
    application.reminded_at = application.escalated_at = None
    _move(application, State.SUBMITTED, by, note)
    notify(
        reviewers(application.department),
        _("新的有条件开放申请 %(n)s 待受理") % {"n": application.number},
        _("请在 %(due)s 前完成受理或退回补正。") % {"due": _minute(application.accept_due)},
        url=application_url(application),
    )
    return application


@transaction.atomic
def application_withdraw(*, by: User, application: Application, reason: str = "") -> Application:
    application = _locked(application)
    authz.authorize(by, "application.edit", application)
    _move(application, State.WITHDRAWN, by, (reason or "").strip()[:500] or _("申请人撤回"))
    return application


@transaction.atomic
def application_accept(*, by: User, application: Application) -> Application:
    """受理: within the working-day limit, or late (recorded as such)."""
    application = _locked(application)
    authz.authorize(by, "application.review", application)
    application.accepted_at = timezone.now()
    late = application.accept_due is not None and application.accepted_at > application.accept_due
    _move(application, State.ACCEPTED, by, _("已受理（超期）") if late else _("已受理"))
    notify(
        application.applicant,
        _("您的申请 %(n)s 已受理") % {"n": application.number},
        _("部门将对申请进行评估，结果会通知您。"),
        url=application_url(application),
    )
    return application


@transaction.atomic
def application_return(*, by: User, application: Application, missing: str) -> Application:
    """退回补正: say what is missing; the acceptance clock pauses until the applicant resubmits."""
    application = _locked(application)
    authz.authorize(by, "application.review", application)
    application.missing = _required(missing, "missing", _("需补正的内容"))
    today = timezone.localdate()
    due_day = timezone.localtime(application.accept_due).date() if application.accept_due else today
    application.paused_workdays = max(calendar.workdays_between(today, due_day), 1)
    application.paused_at = timezone.now()
    _move(application, State.RETURNED, by, application.missing)
    notify(
        application.applicant,
        _("您的申请 %(n)s 需要补正") % {"n": application.number},
        application.missing,
        url=application_url(application),
    )
    return application


@transaction.atomic
def application_evaluate(*, by: User, application: Application) -> Application:
    application = _locked(application)
    authz.authorize(by, "application.review", application)
    _move(application, State.EVALUATING, by, _("开始评估"))
    return application


@transaction.atomic
def application_decide(*, by: User, application: Application, approve: bool, reason: str) -> Application:
    """Approve or reject after evaluation. A reason is required either way and shown to the applicant."""
    application = _locked(application)
    authz.authorize(by, "application.review", application)
    application.decision_reason = _required(reason, "reason", _("决定理由"))
    application.decided_at = timezone.now()
    _move(application, State.APPROVED if approve else State.REJECTED, by, application.decision_reason)
    subject = (_("您的申请 %(n)s 已通过，请签署开放利用协议") if approve else _("您的申请 %(n)s 未通过")) % {
        "n": application.number
    }
    notify(application.applicant, subject, application.decision_reason, url=application_url(application))
    return application


# --- expert deliberation ------------------------------------------------------------------------------


def experts() -> list[User]:
    return [a.user for a in RoleAssignment.objects.filter(role=Role.EXPERT).select_related("user")]


@transaction.atomic
def panel_create(
    *,
    by: User,
    subject: str,
    question: str,
    members: Iterable[User],
    workdays: int = 5,
    application: Application | None = None,
    dataset: Dataset | None = None,
) -> Panel:
    """Form a panel from the expert pool on an application (which waits in 专家议事) or a classification dispute."""
    authz.authorize(by, "panel.create")
    pool = {u.pk for u in experts()}
    chosen = list({u.pk: u for u in members}.values())
    if len(chosen) < 2:
        raise DomainError(_("专家组至少需要两名专家。"), code="too_few_experts", details={"field": "experts"})
    if any(u.pk not in pool for u in chosen):
        raise DomainError(_("只能从专家库中选择专家。"), code="not_expert", details={"field": "experts"})
    if not 1 <= workdays <= 30:
        raise DomainError(_("议事期限应为1至30个工作日。"), code="invalid_deadline", details={"field": "workdays"})
    if application is not None:
        application = _locked(application)
        _move(application, State.DELIBERATING, by, _("提交专家议事：%(q)s") % {"q": question[:200]})
    panel = Panel.objects.create(
        application=application,
        dataset=dataset,
        subject=_required(subject, "subject", _("议题"), max_length=200),
        question=_required(question, "question", _("需专家审议的问题")),
        deadline=calendar.deadline(timezone.now(), workdays),
        created_by=by,
    )
    Opinion.objects.bulk_create(Opinion(panel=panel, expert=u) for u in chosen)
    audit.record(by, "panel.create", panel, note=", ".join(str(u) for u in chosen))
    notify(
        chosen,
        _("请参加专家议事：%(s)s") % {"s": panel.subject},
        _("请在 %(due)s 前提交意见和表决。") % {"due": _day(panel.deadline)} + "\n" + panel.question,
        url=reverse("access:panel", args=[panel.pk]),
    )
    return panel


@transaction.atomic
def opinion_submit(*, by: User, panel: Panel, vote: str, text: str) -> Opinion:
    opinion = Opinion.objects.select_for_update().filter(panel=panel, expert=by).first()
    if opinion is None:
        raise Forbidden(_("您不是该专家组成员。"))
    if panel.closed_at is not None:
        raise DomainError(_("议事已结束，不能再提交意见。"), code="panel_closed")
    if timezone.now() > panel.deadline:
        raise DomainError(_("已过意见截止时间，不能再提交。"), code="panel_deadline_passed")
    if vote not in Vote.values:
        raise DomainError(_("请选择同意、不同意或弃权。"), code="invalid_vote", details={"field": "vote"})
    opinion.vote = vote
    opinion.text = _required(text, "text", _("意见"))
    opinion.submitted_at = timezone.now()
    opinion.save()
    audit.record(by, "panel.opinion", panel, changes={"vote": vote})
    return opinion


@transaction.atomic
def panel_close(*, by: User, panel: Panel, summary: str) -> Panel:
    """Record the result (majority of the votes cast) with each opinion; an application goes back to evaluation."""
    authz.authorize(by, "panel.create")
    panel = Panel.objects.select_for_update().get(pk=panel.pk)
    if panel.closed_at is not None:
        raise DomainError(_("议事已结束。"), code="panel_closed")
    votes = Counter(o.vote for o in panel.opinions.all() if o.submitted_at)
    if not votes:
        raise DomainError(_("还没有专家提交意见，不能结束议事。"), code="no_opinions")
    top = votes.most_common()
    panel.result = Vote.ABSTAIN if len(top) > 1 and top[0][1] == top[1][1] else top[0][0]
    panel.summary = _required(summary, "summary", _("结论说明"))
    panel.closed_at = timezone.now()
    panel.save()
    audit.record(by, "panel.close", panel, changes={"result": panel.result, "votes": dict(votes)})
    if panel.application is not None:
        application = _locked(panel.application)
        note = _("专家议事结论：%(r)s。%(s)s") % {"r": Vote(panel.result).label, "s": panel.summary}
        _move(application, State.EVALUATING, by, note)
        notify(
            reviewers(application.department),
            _("申请 %(n)s 的专家议事已结束") % {"n": application.number},
            note,
            url=application_url(application),
        )
    return panel


# --- agreement and grant ------------------------------------------------------------------------------


def current_template() -> AgreementTemplate:
    template = AgreementTemplate.objects.order_by("-version").first()
    if template is None:
        raise DomainError(_("平台尚未发布开放利用协议模板，请联系平台运营方。"), code="no_agreement_template")
    return template


def agreement_text(application: Application, template: AgreementTemplate | None = None) -> str:
    """The agreement filled with this case's terms: the exact text the applicant reads and accepts."""
    template = template or current_template()
    items = list(application.items.select_related("dataset"))
    return template.body.format(
        number=application.number,
        applicant=application.organisation or application.applicant.real_name or application.applicant,
        department=application.department.name,
        datasets="、".join(f"《{i.dataset.title}》" for i in items),
        fields="；".join(f"{i.dataset.title}：{'、'.join(_field_titles(i))}" for i in items),
        purpose=application.purpose.strip().rstrip("。．."),
        period_start=application.period_start.isoformat(),
        period_end=application.period_end.isoformat(),
        rate=settings.GRANT_RATE_PER_MINUTE,
        daily_rows=settings.GRANT_DAILY_ROWS,
        platform=settings.PLATFORM_NAME,
    )


def _field_titles(item: ApplicationItem) -> list[str]:
    """The fields as the agreement names them: 中文名称（name）."""
    titles = dict(item.dataset.fields.values_list("name", "title"))
    return [f"{titles[n]}（{n}）" if titles.get(n) and titles[n] != n else n for n in item.fields]


@transaction.atomic
def template_publish(*, by: User, title: str, body: str) -> AgreementTemplate:
    authz.authorize(by, "agreement.template")
    body = _required(body, "body", _("正文"), max_length=20000)
    try:
        body.format(**dict.fromkeys(PLACEHOLDERS, ""))
    except (KeyError, IndexError, ValueError) as exc:
        raise DomainError(
            _("协议正文中的占位符有误：%(e)s。可用：%(all)s")
            % {"e": exc, "all": "、".join(f"{{{p}}}" for p in PLACEHOLDERS)},
            code="invalid_template",
            details={"field": "body"},
        ) from None
    latest = AgreementTemplate.objects.order_by("-version").first()
    template = AgreementTemplate.objects.create(
        version=(latest.version + 1) if latest else 1,
        title=_required(title, "title", _("标题"), max_length=100),
        body=body,
    )
    audit.record(by, "agreement.template", template)
    return template


PLACEHOLDERS = (
    "number",
    "applicant",
    "department",
    "datasets",
    "fields",
    "purpose",
    "period_start",
    "period_end",
    "rate",
    "daily_rows",
    "platform",
)


def _grant_create(
    *,
    by: User | None,
    holder: User,
    department: Department,
    items: Sequence[tuple[Dataset, Sequence[str]]],
    starts_on: dt.date,
    ends_on: dt.date,
    application: Application | None = None,
    organisation: Organisation | None = None,
    standing: bool = False,
) -> tuple[Grant, str]:
    key, secret = issue_key(holder, _("数据授权密钥"))
    grant = Grant.objects.create(
        application=application,
        holder=holder,
        organisation=organisation,
        department=department,
        api_key=key,
        standing=standing,
        starts_on=starts_on,
        ends_on=ends_on,
        rate_per_minute=settings.GRANT_RATE_PER_MINUTE,
        daily_rows=settings.GRANT_DAILY_ROWS,
        report_every_days=settings.GRANT_REPORT_EVERY_DAYS,
        next_report_due=min(starts_on + dt.timedelta(days=settings.GRANT_REPORT_EVERY_DAYS), ends_on),
        watermark_secret=secrets.token_hex(32),
    )
    GrantItem.objects.bulk_create(GrantItem(grant=grant, dataset=d, fields=list(f)) for d, f in items)
    key.name = _("授权 #%(n)s 专用密钥") % {"n": grant.pk}
    key.save(update_fields=["name"])
    audit.record(by, "grant.create", grant, changes={"datasets": [d.slug for d, _f in items], "ends_on": ends_on})
    return grant, secret


@transaction.atomic
def agreement_accept(*, by: User, application: Application, sha256: str, ip: str | None) -> tuple[Grant, str]:
    """The applicant accepts the exact agreement text (its digest must match what they read). The grant is
    issued at once with its own API key; the key's secret is returned once."""
    application = _locked(application)
    authz.authorize(by, "application.edit", application)
    template = current_template()
    text = agreement_text(application, template)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if sha256 != digest:
        raise DomainError(
            _("协议文本已更新，请重新阅读后再签署。"), code="agreement_changed", details={"sha256": digest}
        )
    Agreement.objects.create(
        application=application,
        template=template,
        text=text,
        sha256=digest,
        accepted_at=timezone.now(),
        accepted_by=by,
        accepted_ip=ip,
    )
    _move(
        application,
        State.SIGNED,
        by,
        _("签署开放利用协议 v%(v)s（SHA-256 %(h)s）") % {"v": template.version, "h": digest[:16]},
    )
    items = [(i.dataset, i.fields) for i in application.items.select_related("dataset")]
    grant, secret = _grant_create(
        by=by,
        holder=application.applicant,
        department=application.department,
        items=items,
        starts_on=max(application.period_start, timezone.localdate()),
        ends_on=application.period_end,
        application=application,
        organisation=application.organisation,
    )
    _move(application, State.GRANTED, None, _("授权已生效，有效期至 %(d)s") % {"d": grant.ends_on})
    notify(
        reviewers(application.department),
        _("申请 %(n)s 已签署协议并获得授权") % {"n": application.number},
        url=application_url(application),
    )
    return grant, secret


@transaction.atomic
def standing_grant_create(
    *,
    by: User,
    organisation: Organisation,
    holder: User,
    items: Sequence[tuple[Dataset, Sequence[str]]],
    ends_on: dt.date,
) -> tuple[Grant, str]:
    """An organisation's routine feed (常态化供数, R7.3), e.g. a bank pulling utility data daily."""
    authz.authorize(by, "grant.standing")
    if not organisation.memberships.filter(user=holder).exists():
        raise DomainError(_("被授权人必须是该组织的成员。"), code="not_member", details={"field": "holder"})
    department, checked = _check_items(items)
    if ends_on <= timezone.localdate():
        raise DomainError(_("结束日期应晚于今天。"), code="invalid_period", details={"field": "ends_on"})
    grant, secret = _grant_create(
        by=by,
        holder=holder,
        department=department,
        items=checked,
        starts_on=timezone.localdate(),
        ends_on=ends_on,
        organisation=organisation,
        standing=True,
    )
    notify(
        holder,
        _("%(org)s 的常态化供数授权已开通") % {"org": organisation.name},
        url=reverse("access:grant", args=[grant.pk]),
    )
    return grant, secret


def _application_follows(grant: Grant, to: str, by: User | None, note: str) -> None:
    if grant.application is not None:
        application = _locked(grant.application)
        if to in TRANSITIONS[application.state]:
            _move(application, to, by, note)


def _set_status(grant: Grant, status: str, by: User | None, reason: str, action: str) -> Grant:
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    before = grant.status
    grant.status = status
    grant.status_reason = reason
    grant.status_changed_at = timezone.now()
    grant.save()
    audit.record(by, action, grant, changes={"status": [before, status]}, note=reason[:500])
    return grant


@transaction.atomic
def grant_revoke(*, by: User, grant: Grant, reason: str) -> Grant:
    """Takes effect on the next request: every read checks the grant's status."""
    authz.authorize(by, "grant.manage", grant)
    reason = _required(reason, "reason", _("撤销理由"))
    if grant.status == GrantStatus.REVOKED:
        raise DomainError(_("授权已撤销。"), code="invalid_transition")
    grant = _set_status(grant, GrantStatus.REVOKED, by, reason, "grant.revoke")
    ApiKey.objects.filter(pk=grant.api_key_id).update(revoked_at=timezone.now())
    _application_follows(grant, State.REVOKED, by, reason)
    notify(
        grant.holder,
        _("您的数据授权 #%(n)s 已被撤销") % {"n": grant.pk},
        reason,
        url=reverse("access:grant", args=[grant.pk]),
    )
    return grant


@transaction.atomic
def grant_suspend(*, by: User | None, grant: Grant, reason: str) -> Grant:
    if by is not None:
        authz.authorize(by, "grant.manage", grant)
    if grant.status != GrantStatus.ACTIVE:
        raise DomainError(_("只有有效的授权可以暂停。"), code="invalid_transition")
    grant = _set_status(grant, GrantStatus.SUSPENDED, by, _required(reason, "reason", _("暂停理由")), "grant.suspend")
    notify(
        grant.holder,
        _("您的数据授权 #%(n)s 已暂停") % {"n": grant.pk},
        reason,
        url=reverse("access:grant", args=[grant.pk]),
    )
    return grant


@transaction.atomic
def grant_resume(*, by: User, grant: Grant, reason: str = "") -> Grant:
    authz.authorize(by, "grant.manage", grant)
    if grant.status != GrantStatus.SUSPENDED:
        raise DomainError(_("只有已暂停的授权可以恢复。"), code="invalid_transition")
    return _set_status(grant, GrantStatus.ACTIVE, by, (reason or "").strip() or _("恢复授权"), "grant.resume")


@transaction.atomic
def grant_renew(*, by: User, grant: Grant, ends_on: dt.date) -> Grant:
    """Extend an active or expired grant (续期); an expired one becomes active again."""
    authz.authorize(by, "grant.manage", grant)
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.status not in (GrantStatus.ACTIVE, GrantStatus.EXPIRED) or ends_on <= max(
        grant.ends_on, timezone.localdate()
    ):
        raise DomainError(
            _("续期后的结束日期应晚于原结束日期和今天；已撤销或暂停的授权不能续期。"),
            code="invalid_period",
            details={"field": "ends_on"},
        )
    if ends_on > timezone.localdate() + dt.timedelta(days=366 * 3):
        raise DomainError(
            _("续期最长至三年以后；需要更久请到期前再续。"), code="invalid_period", details={"field": "ends_on"}
        )
    before = grant.ends_on
    grant.ends_on, grant.status = ends_on, GrantStatus.ACTIVE
    grant.save()
    audit.record(by, "grant.renew", grant, changes={"ends_on": [before, ends_on]})
    _application_follows(grant, State.GRANTED, by, _("续期至 %(d)s") % {"d": ends_on})
    notify(
        grant.holder,
        _("您的数据授权 #%(n)s 已续期至 %(d)s") % {"n": grant.pk, "d": ends_on},
        url=reverse("access:grant", args=[grant.pk]),
    )
    return grant


@transaction.atomic
def grant_limits(
    *, by: User, grant: Grant, rate_per_minute: int, daily_rows: int, ip_allowlist: Sequence[str]
) -> Grant:
    authz.authorize(by, "grant.manage", grant)
    if not 1 <= rate_per_minute <= 100_000 or not 1 <= daily_rows <= 10**10:
        raise DomainError(_("调用频率和每日行数上限应为正整数。"), code="invalid_quota")
    networks = []
    for entry in ip_allowlist:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise DomainError(
                _("“%(e)s”不是有效的 IP 地址或网段。") % {"e": entry[:50]},
                code="invalid_ip",
                details={"field": "ip_allowlist"},
            ) from None
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    before = {"rate": grant.rate_per_minute, "rows": grant.daily_rows, "ips": grant.ip_allowlist}
    grant.rate_per_minute, grant.daily_rows, grant.ip_allowlist = rate_per_minute, daily_rows, networks
    grant.save()
    audit.record(
        by,
        "grant.limits",
        grant,
        changes={"before": before, "after": {"rate": rate_per_minute, "rows": daily_rows, "ips": networks}},
    )
    return grant


@transaction.atomic
def usage_report_submit(*, by: User, grant: Grant, built: str, results: str, incidents: str = "") -> UsageReport:
    authz.authorize(by, "grant.report", grant)
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    report = UsageReport.objects.create(
        grant=grant,
        period_end=timezone.localdate(),
        built=_required(built, "built", _("开发利用情况")),
        results=_required(results, "results", _("应用成效")),
        incidents=(incidents or "").strip()[:2000],
        submitted_by=by,
    )
    grant.next_report_due = max(grant.next_report_due, timezone.localdate()) + dt.timedelta(
        days=grant.report_every_days
    )
    grant.save(update_fields=["next_report_due"])
    audit.record(by, "grant.report", grant)
    notify(
        reviewers(grant.department),
        _("授权 #%(n)s 提交了使用情况报告") % {"n": grant.pk},
        (_("报告了安全事件：") + report.incidents) if report.incidents else "",
        url=reverse("access:grant", args=[grant.pk]),
    )
    if grant.status == GrantStatus.SUSPENDED and grant.status_reason.startswith(OVERDUE_REPORT_MARK):
        _set_status(grant, GrantStatus.ACTIVE, None, _("已补交使用报告，自动恢复"), "grant.resume")
    return report


OVERDUE_REPORT_MARK = "[report]"


# --- the clock: reminders, escalation, expiry, overdue reports (periodic) -----------------------------


def deadlines_tick(now: dt.datetime | None = None) -> dict[str, int]:
    """Remind reviewers a working day before an acceptance deadline; escalate to operators once it is missed."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    waiting = Application.objects.filter(state=State.SUBMITTED, accept_due__isnull=False).select_related("department")
    for application in waiting:
        due = application.accept_due
        if due is None:
            continue
        if now > due and application.escalated_at is None:
            with transaction.atomic():
                Application.objects.filter(pk=application.pk).update(escalated_at=now)
                notify(
                    [*operators(), *reviewers(application.department)],
                    _("申请 %(n)s 已超过受理时限") % {"n": application.number},
                    _("%(dept)s 未在 %(due)s 前受理，请督办。")
                    % {"dept": application.department.name, "due": _day(due)},
                    url=application_url(application),
                )
                audit.record(None, "application.escalate", application)
            counts["escalated"] += 1
        elif application.reminded_at is None and now <= due:
            left = calendar.workdays_between(timezone.localtime(now).date(), timezone.localtime(due).date())
            if left <= 1:
                Application.objects.filter(pk=application.pk).update(reminded_at=now)
                notify(
                    reviewers(application.department),
                    _("申请 %(n)s 即将到达受理时限") % {"n": application.number},
                    _("受理期限：%(due)s") % {"due": _minute(due)},
                    url=application_url(application),
                )
                counts["reminded"] += 1
    return counts


def grants_tick(today: dt.date | None = None) -> dict[str, int]:
    """Expire grants past their end; warn about usage reports coming due; suspend grants whose report is
    more than CITYDATA_GRANT_REPORT_GRACE_DAYS overdue."""
    today = today or timezone.localdate()
    counts = {"expired": 0, "warned": 0, "suspended": 0}
    for grant in Grant.objects.filter(status=GrantStatus.ACTIVE, ends_on__lt=today):
        with transaction.atomic():
            _set_status(grant, GrantStatus.EXPIRED, None, _("授权期满"), "grant.expire")
            _application_follows(grant, State.EXPIRED, None, _("授权期满"))
            notify(
                grant.holder,
                _("您的数据授权 #%(n)s 已到期") % {"n": grant.pk},
                _("如需继续使用，请申请续期。"),
                url=reverse("access:grant", args=[grant.pk]),
            )
        counts["expired"] += 1
    grace = dt.timedelta(days=settings.GRANT_REPORT_GRACE_DAYS)
    for grant in Grant.objects.filter(status=GrantStatus.ACTIVE, next_report_due__lt=today):
        with transaction.atomic():
            if today > grant.next_report_due + grace:
                _set_status(
                    grant,
                    GrantStatus.SUSPENDED,
                    None,
                    OVERDUE_REPORT_MARK + " " + _("使用情况报告逾期未交，授权已暂停"),
                    "grant.suspend",
                )
                notify(
                    [grant.holder, *reviewers(grant.department)],
                    _("数据授权 #%(n)s 因使用报告逾期已暂停") % {"n": grant.pk},
                    _("提交使用情况报告后自动恢复。"),
                    url=reverse("access:grant", args=[grant.pk]),
                )
                counts["suspended"] += 1
            else:
                notify(
                    grant.holder,
                    _("请提交数据授权 #%(n)s 的使用情况报告") % {"n": grant.pk},
                    _("报告已于 %(d)s 到期，逾期 %(g)s 天后授权将暂停。")
                    % {"d": grant.next_report_due, "g": grace.days},
                    url=reverse("access:grant", args=[grant.pk]),
                    email=False,
                )
                counts["warned"] += 1
    return counts
