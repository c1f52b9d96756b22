"""Reads of the datastore shared by the API and the pages: which version of which dataset a caller may read."""

from __future__ import annotations

import functools

from django.db import connection
from django.utils.translation import gettext_lazy as _

from citydata.accounts import authz
from citydata.catalog.models import Dataset, DatasetStatus, OpenType
from citydata.datastore.models import DataVersion, VersionStatus
from citydata.errors import Forbidden, NotFound


def is_staff_of(user, dataset: Dataset) -> bool:
    return authz.can(user, "catalog.view_drafts", dataset.department)


def readable_dataset(user, slug: str, *, api_key=None, ip: str | None = None) -> Dataset:
    """The dataset itself under the same rules as its data (for real-time feeds, which have no version).
    Read through a grant, `dataset.grant` is that grant and `dataset.granted_fields` the fields it allows;
    both are None otherwise."""
    dataset = next(iter(Dataset.objects.select_related("department").filter(slug=slug[:100]).order_by()[:1]), None)
    if dataset is None or (dataset.status != DatasetStatus.PUBLISHED and not is_staff_of(user, dataset)):
        raise NotFound(_("数据集不存在或尚未发布。"))
    dataset.grant, dataset.granted_fields = None, None
    if dataset.open_type != OpenType.OPEN and not is_staff_of(user, dataset):
        if dataset.open_type != OpenType.CONDITIONAL:
            raise Forbidden(_("该数据集不予开放。"), code="not_open", details={"dataset": slug})
        from citydata.access.enforcement import grant_for  # conditional data: only through a live grant

        dataset.grant, dataset.granted_fields = grant_for(user, api_key, dataset, ip)
    return dataset


# What a records query reads of the version and its dataset (`readable(..., lean=True)`).
LEAN_VERSION = ("id", "dataset", "number", "status", "is_current", "columns", "point", "row_count", "data_key",
                "cluster_keys")  # fmt: skip
LEAN_DATASET = ("id", "slug", "status", "open_type", "department")


def _column(field) -> str:
    """A model field's column, quoted for this database."""
    return connection.ops.quote_name(field.get_attname_column()[1])


@functools.cache
def _lean_query(vendor: str) -> tuple[str, list, list]:
    """The SQL of the lean lookup, written once per process from the models (so it follows their columns), with
    the version's and the dataset's fields in the order `Model.from_db` takes them."""
    quote = connection.ops.quote_name
    fields = [
        [f for f in model._meta.concrete_fields if f.name in names]
        for model, names in ((DataVersion, LEAN_VERSION), (Dataset, LEAN_DATASET))
    ]
    columns = [f"v.{_column(f)}" for f in fields[0]] + [f"d.{_column(f)}" for f in fields[1]]
    version, dataset = DataVersion._meta, Dataset._meta
    v = {name: _column(version.get_field(name)) for name in ("dataset", "is_current", "status")}
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(version.db_table)} v "  # noqa: S608 - names from the models
        f"JOIN {quote(dataset.db_table)} d ON d.{_column(dataset.pk)} = v.{v['dataset']} "
        f"WHERE d.{_column(dataset.get_field('slug'))} = %s AND v.{v['is_current']} AND v.{v['status']} = %s"
    )
    return sql, fields[0], fields[1]


def _lean_current(slug: str) -> DataVersion | None:
    """The current ready version of `slug` with its dataset, holding only the lean fields (the rest load on first
    use, one query each). Written as one SQL statement: building it through the ORM on every call cost the
    records API as much CPU as its DuckDB query."""
    sql, version_fields, dataset_fields = _lean_query(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug, VersionStatus.READY])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        f.from_db_value(value, None, connection) if hasattr(f, "from_db_value") else value
        for f, value in zip([*version_fields, *dataset_fields], row, strict=True)
    ]
    split = len(version_fields)
    version = DataVersion.from_db(connection.alias, [f.attname for f in version_fields], values[:split])
    version.dataset = Dataset.from_db(connection.alias, [f.attname for f in dataset_fields], values[split:])
    return version


def readable(
    user, slug: str, number: int | None = None, *, api_key=None, ip: str | None = None, lean: bool = False
) -> tuple[Dataset, DataVersion]:
    """The dataset and data version `user` may read: published datasets for everyone, drafts for their
    department; conditional data only through a live grant, and then only the granted fields: the
    returned version's `columns` and `point` are cut down to them (never save it), and `version.grant`
    is the grant the read is metered against (None for open data and department staff). `lean` loads only
    `LEAN_VERSION` and `LEAN_DATASET` in the common case (`_lean_current`): what the records API reads."""
    if number is None:
        # The common case in one query: the current version of a published open dataset.
        # No ORDER BY (a dataset has at most one current version): compiling the models' default ordering
        # through the join cost more than the query itself.
        if lean:
            current = _lean_current(slug[:100])
        else:
            found = DataVersion.objects.filter(dataset__slug=slug[:100], is_current=True, status=VersionStatus.READY)
            found = found.select_related("dataset__department").defer("bad_rows", "layout")
            current = next(iter(found.order_by()[:1]), None)
        if current is not None and (current.dataset.status, current.dataset.open_type) == (
            DatasetStatus.PUBLISHED,
            OpenType.OPEN,
        ):
            current.grant = None
            return current.dataset, current
    dataset = readable_dataset(user, slug, api_key=api_key, ip=ip)
    # The bad-row report and the layout can be large; readers never need the one and read the other once.
    versions = DataVersion.objects.filter(dataset=dataset, status=VersionStatus.READY).defer("bad_rows", "layout")
    if number and not is_staff_of(user, dataset):
        # Privacy (issue 6): readers outside the department get only versions that have been published; one that
        # never was may still hold personal data the publication gate stopped.
        versions = versions.filter(published_at__isnull=False)
    version = versions.filter(number=number).first() if number else versions.filter(is_current=True).first()
    if version is None:
        raise NotFound(_("这个数据集还没有可查询的数据版本。") if not number else _("没有这个数据版本。"))
    version.grant = dataset.grant
    if dataset.granted_fields is not None:
        from citydata.access.enforcement import restrict_columns

        version.columns, version.point = restrict_columns(version.columns, version.point, dataset.granted_fields)
    return dataset, version
