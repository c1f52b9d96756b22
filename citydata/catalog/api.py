"""Catalog API: datasets (list with the catalog page's filters, facets, sorts and paging; detail) and domains."""

from __future__ import annotations

from typing import Literal

from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from citydata.accounts import authz
from citydata.accounts.authz import authorize
from citydata.accounts.models import Department
from citydata.api_auth import AUTH, caller
from citydata.catalog import bulk, queries, services
from citydata.catalog.models import Dataset, Domain, InventoryEntry, OpenListStatus, OpenListVersion, Resource
from citydata.catalog.schemas import (
    BulkReportOut,
    CoverageOut,
    DatasetDetailOut,
    DatasetIn,
    DatasetPageOut,
    DatasetPatchIn,
    DepartmentOut,
    DomainOut,
    FieldsIn,
    InventoryEntryIn,
    InventoryEntryOut,
    InventoryPageOut,
    OpenListDetailOut,
    OpenListDiffOut,
    OpenListVersionOut,
    ProgressOut,
    ResourceIn,
    WithdrawIn,
)
from citydata.errors import DomainError
from citydata.paging import paginate_desc

router = Router(tags=["catalog"])


class DatasetFilterIn(Schema):
    q: str = ""
    domain: str = ""
    department: str = ""
    open_type: Literal["", "open", "conditional"] = ""
    format: str = ""
    frequency: str = ""
    sort: Literal["relevance", "newest", "downloads", "views", "updated"] | None = Field(
        None, description="relevance (the default with q), newest (the default without), downloads, views, updated"
    )
    cursor: str | None = None
    limit: int = 20


@router.get("/datasets", response=DatasetPageOut, summary="List published datasets with facets (keyset paging)")
def list_datasets(request, filters: Query[DatasetFilterIn]):
    params = filters.dict()
    flt = queries.CatalogFilter.from_params(params)
    page = queries.dataset_page(flt, cursor=params["cursor"], limit=params["limit"])
    facets = queries.facets(flt)
    return {
        "items": [queries.dataset_summary(d) for d in page.items],
        "next_cursor": page.next_cursor,
        "facets": facets,
        "facets_estimated": facets["estimated"],
    }


@router.get("/datasets/{slug}", response=DatasetDetailOut, summary="One dataset: metadata, fields and resources")
def get_dataset(request, slug: str):
    try:
        dataset = queries.dataset_for_view(slug, request.user)
    except Dataset.DoesNotExist:
        raise Http404 from None
    return queries.dataset_detail(dataset)


@router.get("/domains", response=list[DomainOut], summary="The domain vocabulary with dataset counts")
def list_domains(request):
    return queries.domain_counts()


def _dataset_for_edit(slug: str) -> Dataset:
    return get_object_or_404(Dataset.objects.select_related("department"), slug=slug[:100])


def _reload(dataset: Dataset) -> Dataset:
    return queries.datasets_with_details().get(pk=dataset.pk)


@router.post(
    "/datasets", response={201: DatasetDetailOut}, auth=AUTH, summary="Create a draft dataset (department staff)"
)
def create_dataset(request, body: DatasetIn):
    department = Department.objects.filter(code=body.department.upper()).first()
    if department is None:
        raise DomainError(_("部门编码不存在。"), code="unknown_department", details={"field": "department"})
    domains = list(Domain.objects.filter(code__in=body.domains))
    if len(domains) != len(set(body.domains)):
        raise DomainError(
            _("领域编码无效，请查看 /api/v1/domains。"), code="unknown_domain", details={"field": "domains"}
        )
    data = body.dict(exclude={"department", "slug", "domains", "fields", "resources"})
    dataset = services.dataset_create(
        by=request.user,
        department=department,
        data=data,
        domains=domains,
        slug=body.slug,
        fields=[services.FieldSpec(**f.dict()) for f in body.fields],
        resources=[services.ResourceSpec(**r.dict()) for r in body.resources],
    )
    return Status(201, queries.dataset_detail(_reload(dataset)))


@router.patch("/datasets/{slug}", response=DatasetDetailOut, auth=AUTH, summary="Edit a dataset's metadata")
def update_dataset(request, slug: str, body: DatasetPatchIn):
    dataset = _dataset_for_edit(slug)
    changes = {k: v for k, v in body.dict(exclude={"version"}).items() if v is not None}
    dataset = services.dataset_update(by=request.user, dataset=dataset, data=changes, expected_version=body.version)
    return queries.dataset_detail(_reload(dataset))


@router.put("/datasets/{slug}/fields", response=DatasetDetailOut, auth=AUTH, summary="Replace a dataset's field list")
def replace_fields(request, slug: str, body: FieldsIn):
    dataset = services.dataset_fields_set(
        by=request.user,
        dataset=_dataset_for_edit(slug),
        fields=[services.FieldSpec(**f.dict()) for f in body.fields],
        expected_version=body.version,
    )
    return queries.dataset_detail(_reload(dataset))


@router.post(
    "/datasets/{slug}/resources", response={201: DatasetDetailOut}, auth=AUTH, summary="Add a resource to a dataset"
)
def add_resource(request, slug: str, body: ResourceIn):
    dataset = _dataset_for_edit(slug)
    services.resource_add(by=request.user, dataset=dataset, spec=services.ResourceSpec(**body.dict()))
    return Status(201, queries.dataset_detail(_reload(dataset)))


@router.delete("/datasets/{slug}/resources/{resource_id}", response={204: None}, auth=AUTH, summary="Remove a resource")
def delete_resource(request, slug: str, resource_id: int):
    dataset = _dataset_for_edit(slug)
    resource = get_object_or_404(Resource, pk=resource_id, dataset=dataset)
    services.resource_delete(by=request.user, resource=resource)
    return Status(204, None)


@router.post("/datasets/{slug}/publish", response=DatasetDetailOut, auth=AUTH, summary="Publish a dataset")
def publish_dataset(request, slug: str):
    dataset = services.dataset_publish(by=request.user, dataset=_dataset_for_edit(slug))
    return queries.dataset_detail(_reload(dataset))


@router.post("/datasets/{slug}/withdraw", response=DatasetDetailOut, auth=AUTH, summary="Withdraw a published dataset")
def withdraw_dataset(request, slug: str, body: WithdrawIn):
    dataset = services.dataset_withdraw(by=request.user, dataset=_dataset_for_edit(slug), reason=body.reason)
    return queries.dataset_detail(_reload(dataset))


@router.get("/departments", response=list[DepartmentOut], summary="Departments with their published dataset counts")
def list_departments(request):
    counts = dict(queries.published().order_by().values_list("department_id").annotate(n=Count("id")))
    return [
        {"code": d.code, "name": d.name, "dataset_count": counts.get(d.pk, 0)}
        for d in Department.objects.filter(is_active=True).order_by("code")
    ]


@router.get(
    "/departments/{code}/inventory",
    response=InventoryPageOut,
    summary="A department's inventory and open list (public)",
)
def department_inventory(request, code: str, cursor: str | None = None, limit: int = 50):
    department = get_object_or_404(Department, code=code.upper()[:32])
    page = paginate_desc(queries.public_inventory(department), key="id", cursor=cursor, limit=limit)
    fields = ("code", "name", "description", "open_type", "legal_basis_name", "legal_basis_article", "legal_basis_url")
    return {"items": [{f: getattr(e, f) for f in fields} for e in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/departments/{code}/inventory",
    response={201: InventoryEntryOut},
    auth=AUTH,
    summary="Register an inventory entry (department staff)",
)
def create_inventory_entry(request, code: str, body: InventoryEntryIn):
    department = get_object_or_404(Department, code=code.upper()[:32])
    entry = services.inventory_entry_save(by=request.user, department=department, data=body.dict())
    fields = ("code", "name", "description", "open_type", "legal_basis_name", "legal_basis_article", "legal_basis_url")
    return Status(201, {f: getattr(entry, f) for f in fields})


@router.delete(
    "/departments/{code}/inventory/{entry_code}",
    response={204: None},
    auth=AUTH,
    summary="Remove an inventory entry no dataset publishes (department staff)",
)
def delete_inventory_entry(request, code: str, entry_code: str, version: int | None = None):
    entry = get_object_or_404(
        InventoryEntry.objects.select_related("department"), department__code=code.upper()[:32], code=entry_code[:60]
    )
    services.inventory_entry_delete(by=request.user, entry=entry, expected_version=version)
    return Status(204, None)


@router.post(
    "/departments/{code}/import",
    response=BulkReportOut,
    auth=AUTH,
    summary="Import inventory entries or datasets from the spreadsheet template (department staff)",
)
def bulk_import(
    request,
    code: str,
    kind: Form[Literal["inventory", "datasets"]],
    file: File[UploadedFile],
    valid_only: Form[bool] = False,
):
    """All rows or none: when a row is refused nothing is imported (400, `rows_refused`, with each row's problem),
    unless `valid_only` is set, in which case the valid rows are imported and the refused ones reported."""
    department = get_object_or_404(Department, code=code.upper()[:32])
    if file.size and file.size > bulk.MAX_BYTES:
        raise bulk.BulkFileError(_("文件超过 %(mb)s MB，请分成几个文件导入。") % {"mb": bulk.MAX_BYTES // 2**20})
    report = bulk.import_file(
        by=request.user,
        department=department,
        kind=kind,
        filename=file.name or "",
        raw=file.read(),
        valid_only=valid_only,
    )
    body = {**report.__dict__, "refused_rows": report.refused_rows, "errors": [e.__dict__ for e in report.errors]}
    if not report.committed:
        raise DomainError(
            _("%(n)s 行有问题，本次没有导入任何内容。") % {"n": report.refused_rows},
            code="rows_refused",
            details=body,
        )
    return body


@router.get("/catalog/progress", response=ProgressOut, summary="Datasets opened against the annual target (R1.2)")
def catalog_progress(
    request,
    year: int | None = None,
    department: str = Query("", max_length=32),
    domain: str = Query("", max_length=40),
):
    result = queries.progress(**queries.progress_args({"year": year, "department": department, "domain": domain}))
    return {**result.__dict__, "share": result.share}


def _open_lists(request, code: str):
    """A department's open-list versions: the approved ones for everyone, every one for its staff."""
    department = get_object_or_404(Department, code=code.upper()[:32])
    versions = OpenListVersion.objects.filter(department=department).order_by("-number")
    if not authz.can(request.user, "catalog.view_drafts", department):
        versions = versions.filter(status=OpenListStatus.APPROVED)
    return versions


def _version_summary(version: OpenListVersion) -> dict:
    fields = ("number", "status", "note", "review_comment", "submitted_at", "reviewed_at")
    return {**{f: getattr(version, f) for f in fields}, "entry_count": len(version.entries)}


@router.get(
    "/departments/{code}/open-lists", response=list[OpenListVersionOut], summary="A department's open-list versions"
)
def list_open_lists(request, code: str):
    caller(request)
    return [_version_summary(v) for v in _open_lists(request, code)[:200]]


@router.get(
    "/departments/{code}/open-lists/{number}",
    response=OpenListDetailOut,
    summary="One open-list version with its entries",
)
def get_open_list(request, code: str, number: int):
    caller(request)
    version = get_object_or_404(_open_lists(request, code), number=number)
    return {**_version_summary(version), "entries": queries.open_list_rows(version)}


@router.get(
    "/departments/{code}/open-lists/{number}/diff/{other}",
    response=OpenListDiffOut,
    summary="What changed between two open-list versions: added, removed and re-classified entries",
)
def diff_open_lists(request, code: str, number: int, other: int):
    caller(request)
    versions = _open_lists(request, code)
    first = get_object_or_404(versions, number=min(number, other))
    second = get_object_or_404(versions, number=max(number, other))
    diff = queries.open_list_diff(first, second)
    return {"older": first.number, "newer": second.number, **diff.__dict__}


@router.get("/catalog/coverage", response=list[CoverageOut], auth=AUTH, summary="Open-list coverage (operators)")
def coverage(request):
    authorize(request.user, "console.view")
    per, city = queries.coverage_by_department()
    return [{**c.__dict__, "share": c.share} for c in [city, *per]]
