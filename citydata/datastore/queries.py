"""Reads of the datastore shared by the API and the pages: which version of which dataset a caller may read."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.catalog.models import Dataset, DatasetStatus, OpenType
from citydata.datastore.models import DataVersion, VersionStatus
from citydata.errors import Forbidden, NotFound


def is_staff_of(user, dataset: Dataset) -> bool:
    return authz.can(user, "catalog.view_drafts", dataset.department)


def readable_dataset(user, slug: str) -> Dataset:
    """The dataset itself under the same rules as its data (for real-time feeds, which have no version)."""
    dataset = Dataset.objects.select_related("department").filter(slug=slug[:100]).first()
    if dataset is None or (dataset.status != DatasetStatus.PUBLISHED and not is_staff_of(user, dataset)):
        raise NotFound(_("数据集不存在或尚未发布。"))
    if dataset.open_type != OpenType.OPEN and not is_staff_of(user, dataset):
        raise Forbidden(
            _("这是有条件开放数据，需在线申请并获得授权后才能获取。"), code="grant_required", details={"dataset": slug}
        )
    return dataset


def readable(user, slug: str, number: int | None = None) -> tuple[Dataset, DataVersion]:
    """The dataset and data version `user` may read: published datasets for everyone, drafts for their
    department; conditional data only with a grant (the conditional-access issue adds grants)."""
    if number is None:
        # The common case in one query: the current version of a published open dataset.
        current = (
            DataVersion.objects.select_related("dataset__department")
            .defer("bad_rows")
            .filter(dataset__slug=slug[:100], is_current=True, status=VersionStatus.READY)
            .first()
        )
        if current is not None and (current.dataset.status, current.dataset.open_type) == (
            DatasetStatus.PUBLISHED,
            OpenType.OPEN,
        ):
            return current.dataset, current
    dataset = readable_dataset(user, slug)
    # The bad-row report can be large and readers never need it.
    versions = DataVersion.objects.filter(dataset=dataset, status=VersionStatus.READY).defer("bad_rows")
    version = versions.filter(number=number).first() if number else versions.filter(is_current=True).first()
    if version is None:
        raise NotFound(_("这个数据集还没有可查询的数据版本。") if not number else _("没有这个数据版本。"))
    return dataset, version
