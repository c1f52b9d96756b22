"""Every write of personal-data protection: mask a version, mark its quasi-identifiers, let it through the gate,
scan published versions and resolve the tasks they give departments. The datastore calls `before_store` (in
ingest) and `before_publish` (in version_publish); see hooks in datastore/ingest.py and datastore/services.py."""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import User
from citydata.catalog.models import Dataset, DatasetField, DatasetStatus, OpenType
from citydata.datastore import ingest
from citydata.datastore.models import DataVersion, VersionStatus
from citydata.datastore.storage import get_storage
from citydata.errors import Conflict, DomainError
from citydata.privacy import detectors as registry
from citydata.privacy import masking, risk, rules  # noqa: F401 - rules registers the permission rules
from citydata.privacy.models import MaskingPlan, PrivacyTask, ScanRun, TaskStatus, VersionPrivacy
from citydata.security import audit

logger = logging.getLogger("citydata.privacy")

GATED_OPEN_TYPES = (OpenType.OPEN, OpenType.CONDITIONAL)
EXAMPLES_KEPT = 3
OVERRIDE_REASON_MIN = 10  # characters of a written reason to let a version through the gate


class PublicationBlocked(Conflict):
    default_code = "privacy_blocked"


# --- scanning a version ------------------------------------------------------------------------------------------


def _label(code: str) -> str:
    detector = registry.REGISTRY.get(code)
    return str(detector.label) if detector else code


def scan_findings(path: Path) -> dict[str, Any]:
    """Scan a Parquet file: per (column, type) the share, an estimated count and masked examples. Nothing raw."""
    from citydata.privacy import scan

    report = scan.scan_table(path)
    findings = []
    for column in report.columns:
        scale = report.rows / column.sampled if column.sampled else 1
        for score in column.types:
            findings.append(
                {
                    "column": column.name,
                    "type": score.type,
                    "label": _label(score.type),
                    "share": round(score.share, 4),
                    "count": round(score.share * column.non_empty * scale),
                    "in_text": False,
                    "examples": [{"row": e.row, "masked": e.masked} for e in score.examples[:EXAMPLES_KEPT]],
                }
            )
        for score in column.text_types:
            findings.append(
                {
                    "column": column.name,
                    "type": score.type,
                    "label": _label(score.type),
                    "share": round(score.share, 4),
                    "count": score.matches,
                    "in_text": True,
                    "examples": [{"row": e.row, "masked": e.masked} for e in score.examples[:EXAMPLES_KEPT]],
                }
            )
    return {"rows": report.rows, "findings": findings}


def _classify(findings: list[dict], plan: list[dict]) -> tuple[list[dict], list[dict]]:
    """Blocking findings (a blocking type, in a column the plan does not declare kept) and warnings (the rest)."""
    kept = {s["column"] for s in plan if s["strategy"] == "keep"}
    blocking_types = set(settings.PRIVACY_BLOCKING_TYPES)
    blocking, warnings = [], []
    for finding in findings:
        never_keep = finding["type"] in masking.NEVER_KEEP
        if finding["type"] in blocking_types and (finding["column"] not in kept or never_keep):
            blocking.append(finding)
        else:
            warnings.append(finding)
    return blocking, warnings


def suggest_plan(findings: list[dict], columns: list[dict], only: list[dict] | None = None) -> list[dict]:
    """The one-click plan: a step per column with findings (`only` limits it to those findings). A column that is
    personal data as a whole gets the strategy of its type (masking.SUGGESTED); free text gets `redact`."""
    steps: dict[str, dict] = {}
    for finding in only if only is not None else findings:
        name = finding["column"]
        if name in steps:
            continue
        if finding["in_text"]:
            steps[name] = {"column": name, "strategy": "redact", "params": {}, "source": "suggested"}
            continue
        strategy, params = masking.SUGGESTED.get(finding["type"], ("partial", {"head": 1, "tail": 0}))
        steps[name] = {"column": name, "strategy": strategy, "params": dict(params), "source": "suggested"}
    return masking.clean_plan(list(steps.values()), columns)


def _inspect(version: DataVersion, path: Path, plan: list[dict], columns: list[dict]) -> VersionPrivacy:
    """Scan the version's file and store what the gate needs (keeping quasi-identifiers and any override)."""
    scanned = scan_findings(path)
    blocking, warnings = _classify(scanned["findings"], plan)
    privacy, _created = VersionPrivacy.objects.get_or_create(version=version)
    privacy.plan = plan
    privacy.report = scanned
    privacy.blocking = blocking
    privacy.warnings = warnings
    privacy.suggested = suggest_plan(scanned["findings"], columns, only=blocking)
    privacy.scanned_at = privacy.updated_at = timezone.now()
    quasi = [q for q in privacy.quasi_identifiers if q in {c["name"] for c in columns}]
    privacy.quasi_identifiers = quasi
    if privacy.sensitive_column not in {c["name"] for c in columns}:
        privacy.sensitive_column = ""
    _measure_into(privacy, path, columns)
    privacy.save()
    return privacy


def _measure_into(privacy: VersionPrivacy, path: Path, columns: list[dict]) -> None:
    if not privacy.quasi_identifiers:
        privacy.k = privacy.l_diversity = None
        privacy.smallest_classes, privacy.proposal = [], {}
        return
    measured = risk.measure(path, columns, privacy.quasi_identifiers, privacy.sensitive_column)
    privacy.k, privacy.l_diversity, privacy.smallest_classes = measured.k, measured.l, measured.smallest
    if _risk_ok(privacy):
        privacy.proposal = {}
        return
    privacy.proposal = risk.propose(
        path,
        columns,
        privacy.quasi_identifiers,
        privacy.sensitive_column,
        min_k=settings.PRIVACY_MIN_K,
        min_l=settings.PRIVACY_MIN_L,
    )


def _risk_ok(privacy: VersionPrivacy) -> bool:
    if not privacy.quasi_identifiers:
        return True
    if (privacy.k or 0) < settings.PRIVACY_MIN_K:
        return False
    return not privacy.sensitive_column or (privacy.l_diversity or 0) >= settings.PRIVACY_MIN_L


# --- the ingest hook ---------------------------------------------------------------------------------------------


def ingest_plan(dataset: Dataset, columns: list[dict]) -> list[dict]:
    """What ingest applies to an upload before storing it: the dataset's standing plan, and on top the masking the
    department's classification rules require for each declared field's category (R2.4), which always wins."""
    from citydata.catalog import services as catalog_services

    names = {c["name"] for c in columns}
    steps: dict[str, dict] = {}
    standing = MaskingPlan.objects.filter(dataset=dataset).first()
    for step in standing.steps if standing else []:
        if step["column"] in names:
            steps[step["column"]] = {**step, "source": "standing"}
    fields = [f for f in DatasetField.objects.filter(dataset=dataset) if f.category and f.name in names]
    by_name = {c["name"]: c for c in columns}
    for finding in catalog_services.field_rule_findings(dataset.department, dataset.open_type, fields):
        if finding.masking == "none":
            continue
        column = by_name[finding.field]
        detected = registry.type_for_header(finding.field) or registry.type_for_header(column.get("header", ""))
        step = masking.rule_step(column, finding.masking, detected)
        if step is not None:
            steps[finding.field] = step
    try:
        return masking.clean_plan(list(steps.values()), columns)
    except DomainError:
        # a standing plan that no longer fits this table's types: apply the rules only
        logger.warning("standing masking plan of dataset %s does not fit; applying the rules only", dataset.pk)
        return masking.clean_plan([s for s in steps.values() if s["source"] == "rule"], columns)


def before_store(version: DataVersion, built) -> None:
    """Ingest hook: mask the freshly written Parquet by the ingest plan, then scan it, before it is stored.
    `built` (datastore.ingest.Built) is updated in place: its file, columns and cluster keys."""
    columns = [c.as_dict() for c in built.columns]
    plan = ingest_plan(version.dataset, columns)
    if plan:
        target = built.parquet.with_name(f"masked-{uuid.uuid4().hex[:8]}.parquet")
        new_columns, plan = masking.apply_plan(
            built.parquet, target, plan, columns, key=masking.dataset_key(version.dataset_id)
        )
        built.parquet.unlink(missing_ok=True)  # the unmasked file goes at once, not with the work folder
        built.parquet = target
        types = {c["name"]: c["type"] for c in new_columns}
        built.columns = [c for c in built.columns if c.name in types]
        for column in built.columns:
            column.type = types[column.name]
        built.cluster_keys = [k for k in built.cluster_keys if k in types]
    _inspect(version, built.parquet, plan, [c.as_dict() for c in built.columns])


# --- masking a stored version ------------------------------------------------------------------------------------


def _editable(by: User | None, version: DataVersion) -> DataVersion:
    if by is not None:
        authz.authorize(by, "catalog.edit", version.dataset.department)
    version = DataVersion.objects.select_for_update().select_related("dataset__department").get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(_("只有处理完成的版本可以脱敏。"), code="version_not_ready")
    if version.is_current:
        raise Conflict(
            _("当前版本不能直接修改。请上传新版本（将按本数据集的脱敏方案自动处理），发布后替换当前版本。"),
            code="version_current",
        )
    return version


@transaction.atomic
def version_mask(*, by: User | None, version: DataVersion, plan: list[dict], remember: bool = True) -> VersionPrivacy:
    """Apply a masking plan to a ready version that is not current: its file is rewritten with DuckDB, the unmasked
    file deleted at once, the version scanned again. With `remember` the plan becomes the dataset's standing plan,
    so later uploads are masked in ingest."""
    version = _editable(by, version)
    cleaned = masking.clean_plan(plan, version.columns)
    if not cleaned:
        raise DomainError(_("脱敏方案是空的。"), code="empty_plan", details={"field": "plan"})
    for step in cleaned:
        if step["strategy"] == "keep" and any(
            f["column"] == step["column"] and f["type"] in masking.NEVER_KEEP for f in _findings_of(version)
        ):
            raise DomainError(
                _("字段 %(c)s 含身份证件号或银行卡号，不能声明为非个人信息。") % {"c": step["column"]},
                code="cannot_keep",
                details={"field": "plan", "column": step["column"]},
            )
    storage = get_storage()
    old_key = version.data_key
    work = Path(tempfile.mkdtemp(prefix="mask-", dir=_work_dir()))
    target = work / "masked.parquet"
    new_columns, applied = masking.apply_plan(
        storage.local_path(old_key), target, cleaned, version.columns, key=masking.dataset_key(version.dataset_id)
    )
    key = f"versions/{version.dataset_id}/v{version.number}-m{uuid.uuid4().hex[:12]}.parquet"
    size = storage.put(target, key)
    names = {c["name"] for c in new_columns}
    DataVersion.objects.filter(pk=version.pk).update(
        data_key=key,
        data_size=size,
        columns=new_columns,
        point={k: v for k, v in version.point.items() if v in names and _numeric(new_columns, v)},
        cluster_keys=[k for k in version.cluster_keys if k in names],
    )
    version.refresh_from_db()
    previous = VersionPrivacy.objects.filter(version=version).first()
    plan_so_far = [s for s in (previous.plan if previous else []) if s["column"] not in {a["column"] for a in applied}]
    privacy = _inspect(version, target, plan_so_far + applied, new_columns)
    if remember:
        _remember(by, version.dataset, applied)
    audit.record(
        by,
        "privacy.version_mask",
        version,
        changes={"plan": [{"column": s["column"], "strategy": s["strategy"]} for s in applied]},
    )
    # The unmasked file (and the file-order copy clustering left) go now, not at the hourly cleanup.
    transaction.on_commit(lambda: _delete_files(old_key))
    transaction.on_commit(lambda: _rmtree(work))
    transaction.on_commit(lambda: ingest.add_serving_copy(version.pk))  # the old copy mirrors the unmasked file
    return privacy


def _findings_of(version: DataVersion) -> list[dict]:
    privacy = VersionPrivacy.objects.filter(version=version).first()
    return privacy.report.get("findings", []) if privacy else []


def _numeric(columns: list[dict], name: str) -> bool:
    return any(c["name"] == name and c["type"] in masking.NUMERIC for c in columns)


def _remember(by: User | None, dataset: Dataset, applied: list[dict]) -> None:
    plan, _created = MaskingPlan.objects.get_or_create(dataset=dataset)
    steps = {s["column"]: s for s in plan.steps}
    for step in applied:
        if step["strategy"] == "top_bottom":
            step = {**step, "params": {}}  # bounds are taken from each upload's own percentiles
        steps[step["column"]] = {**step, "source": "standing"}
    plan.steps = list(steps.values())
    plan.updated_by = by
    plan.updated_at = timezone.now()
    plan.save()


def _delete_files(key: str) -> None:
    storage = get_storage()
    # the file, the file-order copy clustering left, and the serving copy of either (`ingest.add_serving_copy`)
    files = {key, key.removesuffix("-c.parquet") + ".parquet"}
    for stale in files | {f.removesuffix(".parquet") + ".duckdb" for f in files}:
        if stale and not DataVersion.objects.filter(data_key=stale).exists():
            try:
                storage.delete(stale)
            except OSError:
                logger.warning("could not delete unmasked file %s; the cleanup job will", stale)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _work_dir() -> Path:
    path = Path(settings.VAR_DIR) / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def version_mask_suggested(*, by: User | None, version: DataVersion) -> VersionPrivacy:
    """The one-click button: apply the suggested plan (and, if the version is below the k threshold, the proposed
    generalisation) to the version."""
    privacy = version_privacy(version)
    plan = list(privacy.suggested)
    if not _risk_ok(privacy) and privacy.proposal.get("reached"):
        taken = {s["column"] for s in plan}
        plan += [{**s, "source": "proposal"} for s in privacy.proposal["steps"] if s["column"] not in taken]
    if not plan:
        raise DomainError(_("没有需要执行的建议脱敏方案。"), code="empty_plan")
    return version_mask(by=by, version=version, plan=plan)


def version_apply_proposal(*, by: User | None, version: DataVersion) -> VersionPrivacy:
    """Apply the proposed generalisation of the quasi-identifiers."""
    privacy = version_privacy(version)
    if not privacy.proposal.get("reached"):
        raise DomainError(_("没有可执行的泛化建议。"), code="no_proposal")
    return version_mask(by=by, version=version, plan=[{**s, "source": "proposal"} for s in privacy.proposal["steps"]])


@transaction.atomic
def quasi_identifiers_set(
    *, by: User | None, version: DataVersion, columns: list[str], sensitive: str = ""
) -> VersionPrivacy:
    """Mark the version's quasi-identifiers (age, sex, district, occupation …) and optionally a sensitive column,
    then measure k and l and propose generalisations."""
    if by is not None:
        authz.authorize(by, "catalog.edit", version.dataset.department)
    version = DataVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(_("只有处理完成的版本可以评估重识别风险。"), code="version_not_ready")
    names = set(version.column_names)
    unknown = [c for c in [*columns, sensitive] if c and c not in names]
    if unknown:
        raise DomainError(
            _("字段 %(c)s 不在这个版本中。") % {"c": unknown[0]}, code="invalid", details={"field": "columns"}
        )
    quasi = list(dict.fromkeys(columns))
    if len(quasi) > risk.MAX_QUASI_IDENTIFIERS:
        raise DomainError(
            _("准标识符最多 %(n)s 个。") % {"n": risk.MAX_QUASI_IDENTIFIERS},
            code="invalid",
            details={"field": "columns"},
        )
    if sensitive and sensitive in quasi:
        raise DomainError(_("敏感属性列不能同时是准标识符。"), code="invalid", details={"field": "sensitive"})
    privacy = version_privacy(version)
    privacy.quasi_identifiers = quasi
    privacy.sensitive_column = sensitive
    _measure_into(privacy, get_storage().local_path(version.data_key), version.columns)
    privacy.updated_at = timezone.now()
    privacy.save()
    audit.record(
        by,
        "privacy.quasi_identifiers",
        version,
        changes={"quasi_identifiers": quasi, "sensitive": sensitive, "k": privacy.k, "l": privacy.l_diversity},
    )
    return privacy


@transaction.atomic
def gate_override(*, by: User | None, version: DataVersion, reason: str) -> VersionPrivacy:
    """The operator lets a version through the gate despite its findings, with a written reason (audited). `by`
    None is an operator at the server's command line (`citydata ingest --publish --override-reason`)."""
    if by is not None:
        authz.authorize(by, "privacy.override", version)
    reason = (reason or "").strip()
    if len(reason) < OVERRIDE_REASON_MIN:
        raise DomainError(
            _("请写明放行理由（至少 10 个字），例如数据已在源头脱敏、所列值为机构信息等。"),
            code="reason_required",
            details={"field": "reason"},
        )
    privacy = version_privacy(version)
    privacy.override_reason = reason[:2000]
    privacy.override_by = by
    privacy.override_at = privacy.updated_at = timezone.now()
    privacy.save()
    changes: dict[str, Any] = {"blocking": [f"{f['column']}:{f['type']}" for f in privacy.blocking], "k": privacy.k}
    if by is None:
        changes["via"] = "command line"
    audit.record(by, "privacy.override", version, note=reason[:500], changes=changes)
    return privacy


# --- the publication gate ----------------------------------------------------------------------------------------


def version_privacy(version: DataVersion) -> VersionPrivacy:
    """The version's privacy record; a version from before this check (or written by compaction) is scanned now."""
    privacy = VersionPrivacy.objects.filter(version=version).first()
    if privacy is None or privacy.scanned_at is None:
        privacy = _inspect(version, get_storage().local_path(version.data_key), [], version.columns)
    return privacy


@dataclass
class Gate:
    """Whether a version may become current, and why not."""

    gated: bool  # the dataset is open or conditional, so the gate applies
    blocking: list[dict] = field(default_factory=list)
    risk_blocked: bool = False
    overridden: bool = False

    @property
    def blocked(self) -> bool:
        return self.gated and not self.overridden and (bool(self.blocking) or self.risk_blocked)


def gate_for(version: DataVersion, privacy: VersionPrivacy | None = None) -> Gate:
    if version.dataset.open_type not in GATED_OPEN_TYPES:
        return Gate(gated=False)
    privacy = privacy or version_privacy(version)
    return Gate(
        gated=True,
        blocking=privacy.blocking,
        risk_blocked=not _risk_ok(privacy),
        overridden=privacy.overridden,
    )


def before_publish(version: DataVersion, by: User | None, *, enforce: bool = False) -> None:
    """Publish hook: refuse to make the version current while the gate blocks it. A user is always stopped, and so
    is platform code that asks to be (`enforce`: `citydata ingest --publish`, which a person runs without a user
    account). Other platform code (by=None) answers for its data itself — the demo, which masks what it generates,
    and compaction of real-time data — and a version it publishes that the gate would have stopped is audited as
    `privacy.gate_skipped`."""
    gate = gate_for(version)
    if not gate.blocked:
        if gate.overridden:
            audit.record(by, "privacy.published_with_override", version)
        return
    summary = [f"{f['column']}:{f['type']}" for f in gate.blocking]
    if by is None and not enforce:
        audit.record(None, "privacy.gate_skipped", version, changes={"blocking": summary})
        return
    url = f"/manage/datasets/{version.dataset.slug}/data/v{version.number}/privacy/"
    if gate.blocking:
        columns = "、".join(dict.fromkeys(f["column"] for f in gate.blocking))
        message = _(
            "第 %(n)s 版含未脱敏的个人信息（字段：%(columns)s），不能发布。请在隐私检查页执行建议的脱敏方案。"
        ) % {
            "n": version.number,
            "columns": columns,
        }
    else:
        message = _("第 %(n)s 版的 k 匿名低于 %(k)s，不能发布。请在隐私检查页执行建议的泛化方案。") % {
            "n": version.number,
            "k": settings.PRIVACY_MIN_K,
        }
    raise PublicationBlocked(message, details={"blocking": gate.blocking, "risk": gate.risk_blocked, "url": url})


# --- periodic scans of what is published -------------------------------------------------------------------------


def _department_staff(department) -> list[User]:
    from citydata.accounts.models import Role, RoleAssignment

    return [
        a.user for a in RoleAssignment.objects.filter(role=Role.PROVIDER, department=department).select_related("user")
    ]


def scan_published(*, now=None) -> ScanRun:
    """Re-scan the current version of every published open or conditional dataset with today's detectors. Blocking
    findings open (or refresh) a task for the owning department with a deadline and notify its staff."""
    from citydata.accounts.notify import notify
    from citydata.workdays.calendar import deadline

    now = now or timezone.now()
    run = ScanRun.objects.create(started_at=now)
    versions = DataVersion.objects.filter(
        is_current=True,
        status=VersionStatus.READY,
        dataset__status=DatasetStatus.PUBLISHED,
        dataset__open_type__in=GATED_OPEN_TYPES,
    ).select_related("dataset__department")
    for version in versions.iterator():
        run.versions += 1
        try:
            privacy = VersionPrivacy.objects.filter(version=version).first()
            plan = privacy.plan if privacy else []
            findings = scan_findings(get_storage().local_path(version.data_key))["findings"]
        except Exception:
            logger.exception("periodic privacy scan of version %s failed", version.pk)
            run.errors += 1
            continue
        blocking, _warnings = _classify(findings, plan)
        if privacy is not None and privacy.overridden:
            blocking = [f for f in blocking if f not in privacy.blocking]  # what the operator let through stays
        if not blocking:
            continue
        run.with_findings += 1
        run.findings += sum(f["count"] for f in blocking)
        with transaction.atomic():
            task = PrivacyTask.objects.select_for_update().filter(version=version, status=TaskStatus.OPEN).first()
            if task is not None:
                task.findings, task.last_seen_at = blocking, now
                task.save(update_fields=["findings", "last_seen_at"])
                continue
            task = PrivacyTask.objects.create(
                department=version.dataset.department,
                dataset=version.dataset,
                version=version,
                findings=blocking,
                opened_by_run=run,
                created_at=now,
                last_seen_at=now,
                deadline=deadline(now, settings.PRIVACY_TASK_WORKDAYS),
            )
            run.tasks_opened += 1
            audit.record(
                None,
                "privacy.task_open",
                task,
                changes={"dataset": version.dataset.slug, "findings": [f"{f['column']}:{f['type']}" for f in blocking]},
            )
            columns = "、".join(dict.fromkeys(f["column"] for f in blocking))
            notify(
                _department_staff(version.dataset.department),
                gettext("已发布数据中发现个人信息：%(title)s") % {"title": version.dataset.title},
                gettext("定期扫描在第 %(n)s 版的字段 %(columns)s 中发现未脱敏的个人信息，请在 %(deadline)s 前整改。")
                % {
                    "n": version.number,
                    "columns": columns,
                    "deadline": timezone.localtime(task.deadline).strftime("%Y-%m-%d"),
                },
                url="/manage/privacy/tasks/",
            )
    run.finished_at = timezone.now()
    run.save()
    return run


@transaction.atomic
def task_resolve(*, by: User, task: PrivacyTask, note: str) -> PrivacyTask:
    """The department says how it dealt with the finding (a masked version published, the dataset withdrawn …)."""
    authz.authorize(by, "catalog.edit", task.department)
    task = PrivacyTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("该任务已整改。"), code="task_closed")
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请填写整改说明。"), code="note_required", details={"field": "note"})
    current = DataVersion.objects.filter(dataset=task.dataset, is_current=True).first()
    if current is not None and current.pk == task.version_id and task.dataset.status == DatasetStatus.PUBLISHED:
        raise Conflict(
            _("有问题的版本仍是当前版本。请先发布脱敏后的新版本或下线数据集，再标记整改。"), code="still_current"
        )
    task.status = TaskStatus.RESOLVED
    task.resolved_at, task.resolved_by, task.resolution = timezone.now(), by, note[:2000]
    task.save()
    audit.record(by, "privacy.task_resolve", task, note=note[:500])
    return task
