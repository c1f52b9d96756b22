"""Every write to the catalog: inventory entries and datasets. Each authorises against the
department, keeps its invariants, changes state in one transaction and records an audit event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import Department, User
from citydata.catalog.models import (
    ClassificationRuleSet,
    Dataset,
    DatasetField,
    DatasetStatus,
    Domain,
    FieldType,
    Frequency,
    InventoryEntry,
    Masking,
    OpeningTarget,
    OpenListStatus,
    OpenListVersion,
    OpenType,
    Resource,
    ResourceKind,
    RuleSeverity,
    Sensitivity,
    StandardRule,
)
from citydata.catalog.signals import dataset_changed, standard_changed
from citydata.errors import Conflict, DomainError
from citydata.security import audit

INVENTORY_FIELDS = (
    "code",
    "name",
    "description",
    "open_type",
    "sensitivity",
    "sub_level",
    "impact_objects",
    "review_due",
    "legal_basis_name",
    "legal_basis_article",
    "legal_basis_url",
)
DATASET_FIELDS = (
    "title",
    "description",
    "tags",
    "open_type",
    "licence",
    "update_frequency",
    "temporal_start",
    "temporal_end",
    "spatial_coverage",
    "contact_name",
    "contact_phone",
    "contact_email",
)


def _not_a_dataset_message() -> str:
    return _("“%(closed)s”的数据只登记在数据资源目录中，不能作为数据集发布。") % {"closed": OpenType.CLOSED.label}


def _field_error(field: str, message) -> DomainError:
    return DomainError(message, code="invalid", details={"field": field})


def _check_choice_error(field: str, choices) -> DomainError:
    return _field_error(field, _("取值无效，可选：%(values)s。") % {"values": "、".join(str(c.label) for c in choices)})


def _check_choice(field: str, value: str, choices) -> None:
    if value not in choices.values:
        raise _check_choice_error(field, choices)


def _check_legal_basis(data: dict[str, Any]) -> None:
    """Not open only with a cited basis: the law or document, and the article (R2.2)."""
    if data.get("open_type") != OpenType.CLOSED:
        return
    if not (data.get("legal_basis_name") or "").strip():
        raise _field_error(
            "legal_basis_name",
            _("“%(closed)s”必须填写法律法规或文件依据的名称；没有依据的数据应列入开放清单。")
            % {"closed": OpenType.CLOSED.label},
        )
    if not (data.get("legal_basis_article") or "").strip():
        raise _field_error(
            "legal_basis_article", _("请填写“%(closed)s”所依据的具体条款。") % {"closed": OpenType.CLOSED.label}
        )
    url = (data.get("legal_basis_url") or "").strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise _field_error("legal_basis_url", _("依据链接不是有效的网址。")) from None


@transaction.atomic
def inventory_entry_save(
    *,
    by: User | None,
    department: Department,
    data: dict[str, Any],
    entry: InventoryEntry | None = None,
    expected_version: int | None = None,
) -> InventoryEntry:
    """Create or update one inventory entry of a department."""
    if by is not None:
        authz.authorize(by, "catalog.edit", department)
    values = {k: data[k] for k in INVENTORY_FIELDS if k in data}
    merged = {k: getattr(entry, k) for k in INVENTORY_FIELDS} if entry else {}
    merged.update(values)
    for field in ("code", "name"):
        if not str(merged.get(field) or "").strip():
            raise _field_error(field, _("此项必须填写。"))
    _check_choice("open_type", merged.get("open_type", ""), OpenType)
    _check_choice("sensitivity", merged.get("sensitivity") or Sensitivity.GENERAL, Sensitivity)
    _check_legal_basis(merged)
    _check_against_rules(department, merged.get("sensitivity") or Sensitivity.GENERAL, merged.get("open_type", ""))
    if merged.get("open_type") != OpenType.CLOSED:
        # A basis only matters for not-open entries; keep none on the others so coverage figures stay honest.
        for field in ("legal_basis_name", "legal_basis_article", "legal_basis_url"):
            values[field] = ""
    if entry is None:
        if InventoryEntry.objects.filter(department=department, code=merged["code"]).exists():
            raise Conflict(_("本部门已有相同编码的数据资源。"), code="duplicate_code", details={"field": "code"})
        entry = InventoryEntry.objects.create(department=department, **values)
        audit.record(by, "inventory.create", entry)
        return entry
    before = {k: getattr(entry, k) for k in values}
    _update_with_version(entry, values, expected_version)
    entry.refresh_from_db()
    audit.record(by, "inventory.update", entry, changes=audit.diff(before, {k: getattr(entry, k) for k in values}))
    return entry


@transaction.atomic
def inventory_entry_delete(*, by: User | None, entry: InventoryEntry, expected_version: int | None = None) -> None:
    """Remove an entry the department no longer holds. Published open-list versions keep their snapshot,
    so the removal shows in the next version's comparison. An entry a dataset publishes cannot go."""
    if by is not None:
        authz.authorize(by, "catalog.edit", entry.department)
    linked = list(entry.datasets.values_list("title", flat=True)[:3])
    if linked:
        raise Conflict(
            _("数据集“%(title)s”关联了这项数据资源，请先解除关联或撤回数据集后再删除。") % {"title": linked[0]},
            code="entry_in_use",
        )
    deleted, _rows = InventoryEntry.objects.filter(
        pk=entry.pk, version=entry.version if expected_version is None else expected_version
    ).delete()
    if not deleted:
        raise Conflict(_("该记录已被他人修改或删除。请重新打开页面查看最新内容。"), code="stale_version")
    audit.record(by, "inventory.delete", entry, note=f"{entry.code} {entry.name}")


def _update_with_version(obj, values: dict[str, Any], expected_version: int | None) -> None:
    """Optimistic locking: write only if nobody saved since the editor loaded the object."""
    version = obj.version if expected_version is None else expected_version
    updated = (
        type(obj)
        .objects.filter(pk=obj.pk, version=version)
        .update(**values, version=F("version") + 1, updated_at=timezone.now())
    )
    if not updated:
        raise Conflict(
            _("该记录已被他人修改。请重新打开页面查看最新内容后再保存，您的修改尚未保存。"), code="stale_version"
        )
    if isinstance(obj, Dataset):
        dataset_changed.send(sender=Dataset, dataset_id=obj.pk)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    title: str
    type: str = "string"
    unit: str = ""
    description: str = ""
    example: str = ""
    sensitive: bool = False
    category: str = ""


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    format: str
    kind: str = ResourceKind.FILE
    url: str = ""
    size_bytes: int | None = None


FIELD_NAME = re.compile(r"[^\W\d]\w{0,63}")  # an identifier: letters (Chinese too), digits, underscores


def _clean_fields(fields: list[FieldSpec]) -> list[FieldSpec]:
    """A field list as the standard needs it: valid unique names, a Chinese title, known types, bounded text."""
    seen: set[str] = set()
    cleaned = []
    for number, spec in enumerate(fields, start=1):
        where = {"field": "fields", "row": number}
        name = spec.name.strip()
        if not FIELD_NAME.fullmatch(name):
            raise DomainError(
                _("第 %(row)s 个字段的字段名“%(name)s”无效：须以字母开头，只含字母、数字和下划线，最长 64 个字符。")
                % {"row": number, "name": name},
                code="invalid_field",
                details=where,
            )
        if name.lower() in seen:
            raise DomainError(_("字段名“%(name)s”重复了。") % {"name": name}, code="duplicate_field", details=where)
        seen.add(name.lower())
        if not spec.title.strip():
            raise DomainError(_("字段“%(name)s”缺少中文名称。") % {"name": name}, code="invalid_field", details=where)
        if spec.type not in FieldType.values:
            raise DomainError(_("字段“%(name)s”的类型无效。") % {"name": name}, code="invalid_field", details=where)
        limits = {"title": 60, "unit": 20, "description": 200, "example": 100, "category": 40}
        for attr, limit in limits.items():
            if len(getattr(spec, attr)) > limit:
                raise DomainError(
                    _("字段“%(name)s”的%(what)s过长（最多 %(max)s 个字）。")
                    % {
                        "name": name,
                        "what": getattr(DatasetField._meta.get_field(attr), "verbose_name", attr),
                        "max": limit,
                    },
                    code="invalid_field",
                    details=where,
                )
        cleaned.append(
            FieldSpec(
                name=name,
                title=spec.title.strip(),
                type=spec.type,
                unit=spec.unit.strip(),
                description=spec.description.strip(),
                example=spec.example.strip(),
                sensitive=bool(spec.sensitive),
                category=spec.category.strip(),
            )
        )
    if len(cleaned) > MAX_FIELDS:
        raise DomainError(
            _("一个数据集最多 %(max)s 个字段。") % {"max": MAX_FIELDS},
            code="too_many_fields",
            details={"field": "fields"},
        )
    return cleaned


MAX_FIELDS = 300
MAX_RESOURCES = 50


def _clean_resource(spec: ResourceSpec) -> ResourceSpec:
    name, fmt, url = spec.name.strip(), spec.format.strip().upper(), spec.url.strip()
    if not name:
        raise _field_error("name", _("请填写资源名称。"))
    if not fmt or len(fmt) > 20:
        raise _field_error("format", _("请填写资源格式，例如 CSV、JSON、API。"))
    if len(name) > 120 or len(url) > 500:
        raise _field_error("url" if len(url) > 500 else "name", _("内容过长。"))
    if spec.kind not in ResourceKind.values:
        raise _check_choice_error("kind", ResourceKind)
    if spec.kind != ResourceKind.FILE and not url:
        raise _field_error("url", _("接口和实时数据流必须填写访问地址。"))
    on_platform = url.startswith("/") and not url.startswith("//") and not re.search(r"\s", url)
    if url and not on_platform:  # a path on this platform (/api/v1/…) or a full address elsewhere
        schemes = ["http", "https"] + (["ws", "wss"] if spec.kind == ResourceKind.STREAM else [])
        try:
            URLValidator(schemes=schemes)(url)
        except ValidationError:
            raise _field_error(
                "url", _("访问地址不是有效的网址（应以 %(s)s 开头）。") % {"s": "、".join(schemes)}
            ) from None
    if spec.size_bytes is not None and spec.size_bytes < 0:
        raise _field_error("size_bytes", _("大小不能为负数。"))
    return ResourceSpec(name=name, format=fmt, kind=spec.kind, url=url, size_bytes=spec.size_bytes)


def _unique_slug(base: str, department: Department) -> str:
    # Chinese titles slugify to nothing: fall back to the department's code.
    slug = slugify(base)[:90] or f"{department.code.lower()}-data"
    candidate, n = slug, 2
    while Dataset.objects.filter(slug=candidate).exists():
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


@transaction.atomic
def dataset_create(
    *,
    by: User | None,
    department: Department,
    data: dict[str, Any],
    domains: list[Domain],
    fields: list[FieldSpec] = (),  # type: ignore[assignment]
    resources: list[ResourceSpec] = (),  # type: ignore[assignment]
    slug: str = "",
    inventory_entry: InventoryEntry | None = None,
    source: str = "",
    source_id: str = "",
) -> Dataset:
    """A new draft dataset of `department`."""
    if by is not None:
        authz.authorize(by, "catalog.edit", department)
    values = {k: data[k] for k in DATASET_FIELDS if k in data}
    if not str(values.get("title") or "").strip():
        raise _field_error("title", _("请填写数据集名称。"))
    if not str(values.get("description") or "").strip():
        raise _field_error("description", _("请填写数据集摘要。"))
    _check_choice("open_type", values.get("open_type", OpenType.OPEN), OpenType)
    if values.get("open_type") in (OpenType.CLOSED, OpenType.PENDING):
        raise _field_error("open_type", _not_a_dataset_message())
    _check_choice("update_frequency", values.get("update_frequency", ""), Frequency)
    if not domains:
        raise _field_error("domains", _("请至少选择一个领域。"))
    if inventory_entry is not None and inventory_entry.department_id != department.pk:
        raise _field_error("inventory_entry", _("只能关联本部门的数据资源。"))
    fields = _clean_fields(list(fields))
    if len(resources) > MAX_RESOURCES:
        raise _field_error("resources", _("一个数据集最多 %(max)s 个资源。") % {"max": MAX_RESOURCES})
    resources = [_clean_resource(r) for r in resources]
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                department=department,
                slug=slug or _unique_slug(values["title"], department),
                inventory_entry=inventory_entry,
                source=source,
                source_id=source_id[:200],
                **values,
            )
    except IntegrityError:
        raise Conflict(_("标识已被占用，请换一个。"), code="slug_taken", details={"field": "slug"}) from None
    dataset.domains.set(domains)
    DatasetField.objects.bulk_create(
        DatasetField(dataset=dataset, position=i, **spec.__dict__) for i, spec in enumerate(fields)
    )
    Resource.objects.bulk_create(Resource(dataset=dataset, **spec.__dict__) for spec in resources)
    audit.record(by, "dataset.create", dataset)
    return dataset


@transaction.atomic
def dataset_update(
    *, by: User, dataset: Dataset, data: dict[str, Any], expected_version: int, domains: list[Domain] | None = None
) -> Dataset:
    authz.authorize(by, "catalog.edit", dataset.department)
    if domains is not None and not domains:
        raise _field_error("domains", _("请至少选择一个领域。"))
    values = {k: data[k] for k in DATASET_FIELDS if k in data}
    if "open_type" in values:
        _check_choice("open_type", values["open_type"], OpenType)
        if values["open_type"] in (OpenType.CLOSED, OpenType.PENDING):
            raise _field_error("open_type", _not_a_dataset_message())
        if dataset.status == DatasetStatus.PUBLISHED:
            _check_fields_against_rules(dataset.department, values["open_type"], dataset.fields.all())
    if "update_frequency" in values:
        _check_choice("update_frequency", values["update_frequency"], Frequency)
    for field in ("title", "description"):
        if field in values and not str(values[field]).strip():
            raise _field_error(field, _("此项必须填写。"))
    before = {k: getattr(dataset, k) for k in values}
    after = dict(values)
    if domains is not None:
        before["domains"] = sorted(dataset.domains.values_list("code", flat=True))
        after["domains"] = sorted(d.code for d in domains)
    _update_with_version(dataset, values, expected_version)
    if domains is not None:
        dataset.domains.set(domains)
    dataset.refresh_from_db()
    audit.record(by, "dataset.update", dataset, changes=audit.diff(before, after))
    return dataset


@transaction.atomic
def dataset_publish(*, by: User | None, dataset: Dataset, when=None) -> Dataset:
    """Make a draft or withdrawn dataset public."""
    if by is not None:
        authz.authorize(by, "catalog.publish", dataset.department)
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.status == DatasetStatus.PUBLISHED:
        raise Conflict(_("该数据集已经发布。"), code="already_published")
    if not dataset.fields.exists():
        raise DomainError(_("发布前请登记数据集的字段（名称、中文名称和说明）。"), code="no_fields")
    if not dataset.resources.exists():
        raise DomainError(_("发布前请至少添加一个资源（文件、接口或实时数据流）。"), code="no_resources")
    _check_fields_against_rules(dataset.department, dataset.open_type, dataset.fields.all())
    from citydata.catalog import standard

    blocking = [f for f in standard.check(dataset) if f.blocking]
    if blocking:
        raise DomainError(
            _("不符合数据开放标准，暂不能发布：%(problems)s") % {"problems": " ".join(f.message for f in blocking)},
            code="standard_violation",
            details={"findings": [{"rule": f.code, "message": f.message} for f in blocking]},
        )
    now = when or timezone.now()
    Dataset.objects.filter(pk=dataset.pk).update(
        status=DatasetStatus.PUBLISHED, published_at=now, withdrawn_reason="", version=F("version") + 1, updated_at=now
    )
    dataset_changed.send(sender=Dataset, dataset_id=dataset.pk)
    dataset.refresh_from_db()
    audit.record(by, "dataset.publish", dataset, changes={"status": {"before": "draft", "after": "published"}})
    return dataset


@transaction.atomic
def dataset_withdraw(*, by: User, dataset: Dataset, reason: str) -> Dataset:
    authz.authorize(by, "catalog.publish", dataset.department)
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("撤回数据集必须说明原因，公众会看到这一说明。"))
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(_("只有已发布的数据集可以撤回。"), code="not_published")
    Dataset.objects.filter(pk=dataset.pk).update(
        status=DatasetStatus.WITHDRAWN,
        withdrawn_reason=reason[:200],
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    dataset_changed.send(sender=Dataset, dataset_id=dataset.pk)
    dataset.refresh_from_db()
    audit.record(
        by, "dataset.withdraw", dataset, changes={"status": {"before": "published", "after": "withdrawn"}}, note=reason
    )
    return dataset


@transaction.atomic
def dataset_fields_set(*, by: User, dataset: Dataset, fields: list[FieldSpec], expected_version: int) -> Dataset:
    """Replace the dataset's field list (the order given is the order shown)."""
    authz.authorize(by, "catalog.edit", dataset.department)
    cleaned = _clean_fields(fields)
    if not cleaned and dataset.status == DatasetStatus.PUBLISHED:
        raise _field_error("fields", _("已发布的数据集必须保留字段说明。"))
    if dataset.status == DatasetStatus.PUBLISHED:
        _check_fields_against_rules(dataset.department, dataset.open_type, cleaned)
    before = list(dataset.fields.values_list("name", flat=True))
    _update_with_version(dataset, {}, expected_version)
    dataset.fields.all().delete()
    DatasetField.objects.bulk_create(
        DatasetField(dataset=dataset, position=i, **spec.__dict__) for i, spec in enumerate(cleaned)
    )
    dataset.refresh_from_db()
    audit.record(
        by, "dataset.fields", dataset, changes={"fields": {"before": before, "after": [f.name for f in cleaned]}}
    )
    return dataset


@transaction.atomic
def resource_add(*, by: User, dataset: Dataset, spec: ResourceSpec) -> Resource:
    authz.authorize(by, "catalog.edit", dataset.department)
    spec = _clean_resource(spec)
    if dataset.resources.count() >= MAX_RESOURCES:
        raise _field_error("name", _("一个数据集最多 %(max)s 个资源。") % {"max": MAX_RESOURCES})
    resource = Resource.objects.create(dataset=dataset, **spec.__dict__)
    Dataset.objects.filter(pk=dataset.pk).update(version=F("version") + 1, updated_at=timezone.now())
    dataset_changed.send(sender=Dataset, dataset_id=dataset.pk)
    audit.record(by, "resource.add", resource, changes={"dataset": dataset.slug, "url": spec.url})
    return resource


@transaction.atomic
def resource_delete(*, by: User, resource: Resource) -> None:
    dataset = Dataset.objects.select_for_update().select_related("department").get(pk=resource.dataset_id)
    authz.authorize(by, "catalog.edit", dataset.department)
    if dataset.status == DatasetStatus.PUBLISHED and dataset.resources.count() <= 1:
        raise Conflict(_("已发布的数据集至少要保留一个资源；请先添加新资源，或撤回数据集。"), code="last_resource")
    audit.record(by, "resource.delete", resource, changes={"dataset": dataset.slug, "url": resource.url})
    resource.delete()
    Dataset.objects.filter(pk=dataset.pk).update(version=F("version") + 1, updated_at=timezone.now())
    dataset_changed.send(sender=Dataset, dataset_id=dataset.pk)


def dataset_count_view(dataset: Dataset) -> None:
    """Count a page view. A counter, not a domain change: no audit record."""
    Dataset.objects.filter(pk=dataset.pk).update(view_count=F("view_count") + 1)


def _next_number(model, department: Department) -> int:
    """The next version number of one of a department's versioned documents. Call it after locking
    the department row, so two publishers cannot take the same number."""
    Department.objects.select_for_update().filter(pk=department.pk).first()
    last = model.objects.filter(department=department).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


# --- open list versions (R2.3) ------------------------------------------------------------------

SNAPSHOT_FIELDS = ("code", "name", "open_type", "sensitivity", "legal_basis_name", "legal_basis_article")


@transaction.atomic
def open_list_submit(*, by: User | None, department: Department, note: str = "") -> OpenListVersion:
    """Freeze the department's inventory as a new open-list version and send it to the operators."""
    if by is not None:
        authz.authorize(by, "catalog.edit", department)
    number = _next_number(OpenListVersion, department)  # locks the department: one submitter at a time
    if OpenListVersion.objects.filter(department=department, status=OpenListStatus.SUBMITTED).exists():
        raise Conflict(_("已有一个版本在等待审核，请等待审核结果后再提交。"), code="review_pending")
    entries = list(InventoryEntry.objects.filter(department=department).order_by("code").values(*SNAPSHOT_FIELDS))
    if not entries:
        raise DomainError(_("数据资源目录为空，没有可提交的开放清单。"), code="empty_inventory")
    pending = [e["code"] for e in entries if e["open_type"] == OpenType.PENDING]
    if pending:
        raise DomainError(
            _("还有 %(n)s 项数据资源未分类（例如 %(code)s），请先确定开放类型。")
            % {"n": len(pending), "code": pending[0]},
            code="unclassified_entries",
        )
    version = OpenListVersion.objects.create(
        department=department,
        number=number,
        entries=entries,
        note=note[:200],
        submitted_by=by,
    )
    audit.record(by, "open_list.submit", version)
    return version


@transaction.atomic
def open_list_review(*, by: User | None, version: OpenListVersion, approve: bool, comment: str = "") -> OpenListVersion:
    """An operator publishes a submitted version, or returns it with comments (required)."""
    if by is not None:
        authz.authorize(by, "catalog.review")
    version = OpenListVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != OpenListStatus.SUBMITTED:
        raise Conflict(_("该版本已经审核过了。"), code="already_reviewed")
    if not approve and not comment.strip():
        raise DomainError(_("退回时请写明需要修改的内容。"), code="comment_required", details={"field": "comment"})
    version.status = OpenListStatus.APPROVED if approve else OpenListStatus.RETURNED
    version.review_comment = comment.strip()
    version.reviewed_by = by
    version.reviewed_at = timezone.now()
    version.save(update_fields=["status", "review_comment", "reviewed_by", "reviewed_at"])
    audit.record(by, "open_list.approve" if approve else "open_list.return", version, note=comment)
    return version


# --- classification rules (R2.4) -----------------------------------------------------------------

# How open each type is; a rule's allowed type is the most open an entry of that kind may be.
OPENNESS: dict[str, int] = {OpenType.CLOSED: 0, OpenType.CONDITIONAL: 1, OpenType.OPEN: 2}


def _clean_rule(index: int, rule: dict[str, Any]) -> dict[str, str]:
    where = {"row": index + 1}
    sensitivity = str(rule.get("sensitivity") or "").strip()
    category = str(rule.get("field_category") or "").strip()[:40]
    if bool(sensitivity) == bool(category):
        raise DomainError(
            _("第 %(row)s 条规则须且只能指定数据级别或字段类别之一。") % where, code="invalid_rule", details=where
        )
    if sensitivity and sensitivity not in Sensitivity.values:
        raise DomainError(_("第 %(row)s 条规则的数据级别无效。") % where, code="invalid_rule", details=where)
    allowed = str(rule.get("allowed_open_type") or "")
    if allowed not in OPENNESS:
        raise DomainError(_("第 %(row)s 条规则的开放类型无效。") % where, code="invalid_rule", details=where)
    masking = str(rule.get("masking") or Masking.NONE)
    if masking not in Masking.values:
        raise DomainError(_("第 %(row)s 条规则的脱敏方式无效。") % where, code="invalid_rule", details=where)
    return {
        "sensitivity": sensitivity,
        "field_category": category,
        "allowed_open_type": allowed,
        "masking": masking,
        "note": str(rule.get("note") or "").strip()[:200],
    }


@transaction.atomic
def classification_rules_publish(
    *, by: User | None, department: Department, rules: list[dict[str, Any]], note: str = ""
) -> ClassificationRuleSet:
    """Publish a new version of the department's classification rules."""
    if by is not None:
        authz.authorize(by, "catalog.edit", department)
    cleaned = [_clean_rule(i, rule) for i, rule in enumerate(rules)]
    if not cleaned:
        raise DomainError(_("细则至少要有一条规则。"), code="empty_rules")
    keys = [(r["sensitivity"], r["field_category"]) for r in cleaned]
    if len(keys) != len(set(keys)):
        raise DomainError(_("同一数据级别或字段类别只能有一条规则。"), code="duplicate_rule")
    rule_set = ClassificationRuleSet.objects.create(
        department=department,
        number=_next_number(ClassificationRuleSet, department),
        rules=cleaned,
        note=note[:200],
        published_by=by,
    )
    audit.record(by, "classification_rules.publish", rule_set)
    return rule_set


def current_rules(department: Department) -> ClassificationRuleSet | None:
    return ClassificationRuleSet.objects.filter(department=department).order_by("-number").first()


def _check_against_rules(department: Department, sensitivity: str, open_type: str) -> None:
    """An entry may not be more open than the department's rules allow for its data level."""
    if open_type not in OPENNESS:
        return
    rule_set = current_rules(department)
    if rule_set is None:
        return
    for rule in rule_set.rules:
        if rule["sensitivity"] == sensitivity and OPENNESS[open_type] > OPENNESS[rule["allowed_open_type"]]:
            raise DomainError(
                _("按本部门分级分类细则（第 %(n)s 版），“%(level)s”最多只能“%(allowed)s”。")
                % {
                    "n": rule_set.number,
                    "level": Sensitivity(sensitivity).label,
                    "allowed": OpenType(rule["allowed_open_type"]).label,
                },
                code="against_classification_rules",
                details={"field": "open_type"},
            )


@dataclass(frozen=True)
class FieldRuleFinding:
    """What the department's rules say about one field of a dataset, by the field's category."""

    field: str
    category: str
    allowed_open_type: str
    masking: str
    blocking: bool
    message: str


def field_rule_findings(department: Department, open_type: str, fields) -> list[FieldRuleFinding]:
    """Match fields (objects with name and category) to the department's field-category rules (R2.4): a field
    whose category may not be opened this far blocks publication; a required masking is reported."""
    rule_set = current_rules(department)
    if rule_set is None or open_type not in OPENNESS:
        return []
    by_category = {r["field_category"]: r for r in rule_set.rules if r.get("field_category")}
    findings = []
    for field in fields:
        rule = by_category.get(field.category)
        if rule is None:
            continue
        allowed, masking = rule["allowed_open_type"], rule["masking"]
        too_open = OPENNESS[open_type] > OPENNESS[allowed]
        if too_open:
            message = _(
                "字段 %(field)s 属于“%(category)s”，按本部门分级分类细则（第 %(n)s 版）最多只能“%(allowed)s”，"
                "请删除该字段或改为更严格的开放类型。"
            )
        elif masking != Masking.NONE:
            message = _("字段 %(field)s 属于“%(category)s”，按本部门分级分类细则（第 %(n)s 版）开放前须“%(masking)s”。")
        else:
            continue
        findings.append(
            FieldRuleFinding(
                field=field.name,
                category=field.category,
                allowed_open_type=allowed,
                masking=masking,
                blocking=too_open,
                message=message
                % {
                    "field": field.name,
                    "category": field.category,
                    "n": rule_set.number,
                    "allowed": OpenType(allowed).label,
                    "masking": Masking(masking).label,
                },
            )
        )
    return findings


def _check_fields_against_rules(department: Department, open_type: str, fields) -> None:
    blocking = [f for f in field_rule_findings(department, open_type, fields) if f.blocking]
    if blocking:
        raise DomainError(
            blocking[0].message,
            code="against_classification_rules",
            details={"field": "open_type", "fields": [f.field for f in blocking]},
        )


# --- the naming and metadata standard (R7.1) ------------------------------------------------------

WORD_SPLIT = re.compile(r"[、,，;；\n]+")


def _clean_params(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    from citydata.catalog import standard

    params: dict[str, Any] = {}
    for name, kind_of in standard.PARAMS[kind].items():
        value = raw.get(name)
        label = standard.PARAM_LABELS.get(name, name)
        if kind_of is int:
            try:
                number = int(str(value).strip())
            except (TypeError, ValueError):
                raise _field_error(name, _("“%(label)s”应为整数。") % {"label": label}) from None
            if not 0 <= number <= 100_000:
                raise _field_error(name, _("“%(label)s”应在 0 至 100000 之间。") % {"label": label})
            params[name] = number
        else:
            items = value if isinstance(value, list) else WORD_SPLIT.split(str(value or ""))
            words = list(dict.fromkeys(str(w).strip() for w in items if str(w).strip()))
            if len(words) > 200 or any(len(w) > 40 for w in words):
                raise _field_error(name, _("“%(label)s”最多 200 项，每项不超过 40 个字。") % {"label": label})
            params[name] = words
    if kind == "title_length" and params["min"] > params["max"]:
        raise _field_error("max", _("最多字数不能小于最少字数。"))
    return params


@transaction.atomic
def standard_rule_save(*, by: User | None, data: dict[str, Any], rule: StandardRule | None = None) -> StandardRule:
    """Create a rule of a registered kind, or change an existing rule's wording, parameters, severity and state.
    The public standard page and every publish check use the saved rules at once."""
    from citydata.catalog import standard

    if by is not None:
        authz.authorize(by, "catalog.standard")
    kind = rule.kind if rule else str(data.get("kind") or "")
    if kind not in standard.RULE_KINDS:
        raise _field_error("kind", _("未知的规则类型。"))
    description = str(data.get("description") or "").strip()
    if not description or len(description) > 300:
        raise _field_error("description", _("请填写规则说明（不超过 300 字），公众会在标准页面看到它。"))
    _check_choice("severity", str(data.get("severity") or ""), RuleSeverity)
    values = {
        "description": description,
        "severity": data["severity"],
        "enabled": bool(data.get("enabled")),
        "position": max(0, min(int(data.get("position") or 100), 1000)),
        "params": _clean_params(kind, data.get("params") or {}),
    }
    if rule is None:
        code = str(data.get("code") or "").strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", code):
            raise _field_error("code", _("编码只能用小写字母、数字、下划线和连字符，最长 40 个字符。"))
        if StandardRule.objects.filter(code=code).exists():
            raise Conflict(_("已有相同编码的规则。"), code="duplicate_code", details={"field": "code"})
        rule = StandardRule.objects.create(code=code, kind=kind, **values)
        audit.record(by, "standard.create", rule)
        standard_changed.send(sender=StandardRule, rule_id=rule.pk)
        return rule
    before = {k: getattr(rule, k) for k in values}
    StandardRule.objects.filter(pk=rule.pk).update(**values)
    rule.refresh_from_db()
    audit.record(by, "standard.update", rule, changes=audit.diff(before, values))
    standard_changed.send(sender=StandardRule, rule_id=rule.pk)  # the search index shows the rule's new wording
    return rule


# --- opening targets (R1.2) --------------------------------------------------------------------------


@transaction.atomic
def opening_targets_set(*, by: User | None, year: int, city: int | None, departments: dict[str, int | None]) -> None:
    """Set the year's city-wide target and department targets (None removes a department's target)."""
    if by is not None:
        authz.authorize(by, "catalog.targets")
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise _field_error("year", _("只能设置 2000 年至明年的目标。"))
    known = dict(Department.objects.filter(code__in=list(departments)).values_list("code", "pk"))
    for code, value in [(None, city), *departments.items()]:
        if value is not None and not 0 < value <= 1_000_000:
            raise _field_error(code or "city", _("目标应为 1 至 1000000 之间的整数。"))
        if code is not None and code not in known:
            raise _field_error(code, _("部门编码 %(code)s 不存在。") % {"code": code})
    changes: dict[str, Any] = {}
    for code, value in [(None, city), *departments.items()]:
        department_id = known.get(code) if code else None
        rows = OpeningTarget.objects.filter(year=year)
        rows = rows.filter(department_id=department_id) if department_id else rows.filter(department__isnull=True)
        current = rows.first()
        before = current.target if current else None
        if value == before:
            continue
        if value is None:
            rows.delete()
        elif current:
            OpeningTarget.objects.filter(pk=current.pk).update(target=value, updated_at=timezone.now())
        else:
            OpeningTarget.objects.create(year=year, department_id=department_id, target=value)
        changes[code or "city"] = {"before": before, "after": value}
    if changes:
        audit.record(by, "catalog.targets", object_type="catalog.openingtarget", object_id=str(year), changes=changes)
