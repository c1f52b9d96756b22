"""Every write to the datastore: upload a file as a new version, publish a version, discard one, clean up.
Each authorises against the dataset's department and records an audit event."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.accounts.models import Department, User
from citydata.catalog.models import Dataset, Domain
from citydata.catalog.signals import dataset_changed
from citydata.datastore.models import BadRowPolicy, DataVersion, VersionStatus
from citydata.datastore.sources import detect_format
from citydata.datastore.storage import get_storage
from citydata.errors import Conflict, DomainError
from citydata.security import audit

logger = logging.getLogger("citydata.datastore")


def _next_number(dataset: Dataset) -> int:
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
    last = DataVersion.objects.filter(dataset=dataset).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def version_upload(
    *,
    by: User | None,
    dataset: Dataset,
    stream: IO[bytes],
    filename: str,
    bad_rows_policy: str = BadRowPolicy.REJECT,
    run_now: bool = False,
    enqueue: bool = True,
) -> DataVersion:
    """Store an upload and queue its ingest as the dataset's next version. The current version keeps being
    served until the new one is published."""
    if by is not None:
        authz.authorize(by, "catalog.edit", dataset.department)
    detect_format(filename)  # refuse unsupported types before storing anything
    if bad_rows_policy not in BadRowPolicy.values:
        raise DomainError(_("错误行处理方式无效。"), code="invalid", details={"field": "bad_rows_policy"})
    key = f"uploads/{uuid.uuid4().hex}/{Path(filename).name[-100:]}"
    size = _store_upload(stream, key)
    with transaction.atomic():
        version = DataVersion.objects.create(
            dataset=dataset,
            number=_next_number(dataset),
            source_name=Path(filename).name[-200:],
            source_key=key,
            source_size=size,
            bad_rows_policy=bad_rows_policy,
            created_by=by,
        )
        audit.record(by, "data_version.upload", version, changes={"file": version.source_name, "size": size})
    if run_now:
        from citydata.datastore import ingest

        return ingest.run(version.pk)
    if enqueue:
        from citydata.datastore.tasks import ingest_version

        transaction.on_commit(lambda: ingest_version.enqueue(version.pk))
    return version


def _store_upload(stream: IO[bytes], key: str) -> int:
    """Copy the upload to storage without holding it in memory, refusing it past the size limit."""
    limit = settings.INGEST_MAX_BYTES
    work = Path(settings.VAR_DIR) / "work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work, prefix="upload-", delete=False) as temp:
        size = 0
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                temp.close()
                Path(temp.name).unlink(missing_ok=True)
                raise DomainError(
                    _("文件超过 %(mb)s MB 的上限。") % {"mb": limit // 2**20},
                    code="too_large",
                    details={"field": "file"},
                )
            temp.write(chunk)
    try:
        if size == 0:
            raise DomainError(_("文件是空的。"), code="empty_file", details={"field": "file"})
        get_storage().put(Path(temp.name), key)
    finally:
        Path(temp.name).unlink(missing_ok=True)
    return size


@transaction.atomic
def version_publish(*, by: User | None, version: DataVersion, enforce_privacy_gate: bool = False) -> DataVersion:
    """Make a ready version the one served, in one transaction: readers see the old or the new version. The privacy
    gate stops a user; platform code without one is stopped only with `enforce_privacy_gate` (see before_publish)."""
    if by is not None:
        authz.authorize(by, "catalog.publish", version.dataset.department)
    version = DataVersion.objects.select_for_update().select_related("dataset").get(pk=version.pk)
    if version.status != VersionStatus.READY:
        raise Conflict(
            _("只有处理完成的版本可以发布（当前状态：%(status)s）。") % {"status": version.get_status_display()},
            code="version_not_ready",
        )
    if version.is_current:
        raise Conflict(_("该版本已经是当前版本。"), code="already_current")
    # Privacy (issue 6): a version of an open or conditional dataset with unmasked personal data, or below the
    # k-anonymity threshold, does not become current unless an operator let it through (privacy/services.py).
    from citydata.privacy import services as privacy

    privacy.before_publish(version, by, enforce=enforce_privacy_gate)
    previous = DataVersion.objects.filter(dataset=version.dataset, is_current=True).first()
    now = timezone.now()
    DataVersion.objects.filter(dataset=version.dataset, is_current=True).update(is_current=False)
    DataVersion.objects.filter(pk=version.pk).update(is_current=True, published_at=now)
    Dataset.objects.filter(pk=version.dataset_id).update(last_data_update=now, updated_at=now, version=F("version") + 1)
    dataset_changed.send(sender=Dataset, dataset_id=version.dataset_id)
    _ensure_platform_resources(version.dataset)
    version.refresh_from_db()
    audit.record(
        by,
        "data_version.publish",
        version,
        changes={"current": {"before": previous.number if previous else None, "after": version.number}},
    )
    return version


def _ensure_platform_resources(dataset: Dataset) -> None:
    """A dataset whose data the platform serves lists the records API and the full download as resources."""
    from citydata.catalog.models import Resource, ResourceKind

    base = f"/api/v1/datasets/{dataset.slug}/records"
    if Resource.objects.filter(dataset=dataset, url__startswith=base).exists():
        return
    Resource.objects.bulk_create(
        [
            Resource(dataset=dataset, name=str(_("数据查询接口")), kind=ResourceKind.API, format="API", url=base),
            Resource(dataset=dataset, name=str(_("全量下载（CSV）")), format="CSV", url=f"{base}?_format=csv&_bom=1"),
        ]
    )


@transaction.atomic
def version_discard(*, by: User | None, version: DataVersion) -> DataVersion:
    """Drop a version that is not current; its files go at the next cleanup."""
    if by is not None:
        authz.authorize(by, "catalog.edit", version.dataset.department)
    version = DataVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_current:
        raise Conflict(_("当前版本不能丢弃，请先发布另一个版本。"), code="version_current")
    if version.status in (VersionStatus.QUEUED, VersionStatus.RUNNING):
        raise Conflict(_("版本正在处理中，请等处理结束后再丢弃。"), code="version_running")
    DataVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DISCARDED)
    version.refresh_from_db()
    audit.record(by, "data_version.discard", version)
    return version


def current_version(dataset: Dataset) -> DataVersion | None:
    return DataVersion.objects.filter(dataset=dataset, is_current=True).first()


STALE_AFTER = dt.timedelta(minutes=10)


def cleanup(*, grace: dt.timedelta = dt.timedelta(hours=1)) -> dict[str, int]:
    """Undo what crashed ingests left: versions whose worker stopped sending heartbeats fail, and stored files
    no live version refers to are deleted once older than `grace` (so an upload in flight is never taken)."""
    now = timezone.now()
    stale = DataVersion.objects.filter(status=VersionStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    failed = stale.update(
        status=VersionStatus.FAILED,
        error_code="interrupted",
        error=str(_("处理中断（服务器重启或进程退出），请重新上传。")),
        finished_at=now,
    )
    live: set[str] = set()
    for data_key, source_key, layout in DataVersion.objects.exclude(
        status__in=[VersionStatus.DISCARDED, VersionStatus.FAILED]
    ).values_list("data_key", "source_key", "layout"):
        # a serving copy lives while the file it mirrors does (`ingest.add_serving_copy`)
        native = (layout or {}).get("native") if (layout or {}).get("file") == data_key else None
        live.update(k for k in (data_key, source_key, native) if k)
    storage = get_storage()
    removed = 0
    cutoff = (now - grace).timestamp()
    for key, modified in list(storage.list_keys()):
        if key not in live and modified < cutoff:
            storage.delete(key)
            removed += 1
    trimmed = storage.trim_cache()
    work = Path(settings.VAR_DIR) / "work"
    if work.exists():
        for entry in work.iterdir():
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
    return {"interrupted": failed, "files_removed": removed, "cache_trimmed": trimmed}


def dataset_for_ingest(
    *, by: User | None, slug: str, department_code: str = "", title: str = ""
) -> tuple[Dataset, bool]:
    """The dataset to ingest into, created as a draft of `department_code` when the slug is new (CLI)."""
    from citydata.catalog import services as catalog_services

    dataset = Dataset.objects.filter(slug=slug).select_related("department").first()
    if dataset is not None:
        return dataset, False
    if not department_code:
        raise DomainError(
            _("数据集 %(slug)s 不存在；要新建请用 --department 指定提供部门。") % {"slug": slug}, code="unknown_dataset"
        )
    department = Department.objects.filter(code=department_code.upper()).first()
    if department is None:
        raise DomainError(_("部门编码 %(code)s 不存在。") % {"code": department_code}, code="unknown_department")
    dataset = catalog_services.dataset_create(
        by=by,
        department=department,
        slug=slug,
        data={
            "title": title or slug,
            "description": str(_("由数据文件导入创建，请补充摘要。")),
            "update_frequency": "irregular",
        },
        domains=list(Domain.objects.filter(code="government")[:1]) or list(Domain.objects.all()[:1]),
    )
    return dataset, True
