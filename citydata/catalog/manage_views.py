"""Back-office pages of the catalog: a department's inventory and datasets, and the operators' coverage view."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.accounts.models import Department
from citydata.catalog import bulk, forms, queries, services, standard
from citydata.catalog.models import (
    Dataset,
    InventoryEntry,
    OpeningTarget,
    OpenListStatus,
    OpenListVersion,
    Resource,
    StandardRule,
)
from citydata.errors import DomainError
from citydata.paging import paginate_desc


@login_required
def coverage_view(request):
    """Operators: how much of each department's inventory without a legal basis is on the open list (R2.2)."""
    authz.authorize(request.user, "console.view")
    per, city = queries.coverage_by_department()
    return render(request, "catalog/manage/coverage.html", {"rows": per, "city": city})


def _entry_data(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


@login_required
def inventory_view(request, code: str):
    department = get_object_or_404(Department, code=code)
    authz.authorize(request.user, "catalog.edit", department)
    form = forms.InventoryEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.inventory_entry_save(by=request.user, department=department, data=_entry_data(form))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("数据资源已登记。"))
            return redirect("catalog:manage_inventory", code=code)
    page = paginate_desc(
        InventoryEntry.objects.filter(department=department), key="id", cursor=request.GET.get("cursor"), limit=50
    )
    versions = OpenListVersion.objects.filter(department=department).order_by("-number")[:20]
    return render(
        request,
        "catalog/manage/inventory.html",
        {
            "department": department,
            "entries": page.items,
            "next_cursor": page.next_cursor,
            "form": form,
            "versions": versions,
        },
        status=400 if form.errors else 200,
    )


@login_required
def inventory_entry_view(request, pk: int):
    entry = get_object_or_404(InventoryEntry.objects.select_related("department"), pk=pk)
    authz.authorize(request.user, "catalog.edit", entry.department)
    initial = {name: getattr(entry, name) for name in forms.InventoryEntryForm.base_fields}
    form = forms.InventoryEntryForm(request.POST or None, initial=initial)
    form.fields["version"].required = True  # the version the editor saw: a stale one is refused
    if request.method == "POST" and form.is_valid():
        try:
            services.inventory_entry_save(
                by=request.user,
                department=entry.department,
                entry=entry,
                data=_entry_data(form),
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("catalog:manage_inventory", code=entry.department.code)
    return render(
        request,
        "catalog/manage/inventory_entry.html",
        {"entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def inventory_entry_delete_view(request, pk: int):
    entry = get_object_or_404(InventoryEntry.objects.select_related("department"), pk=pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        raise DomainError(_("页面已过期，请刷新后重试。"), code="stale_version") from None
    services.inventory_entry_delete(by=request.user, entry=entry, expected_version=version)
    messages.success(request, _("数据资源“%(name)s”已删除。") % {"name": entry.name})
    return redirect("catalog:manage_inventory", code=entry.department.code)


@login_required
def datasets_view(request, code: str):
    department = get_object_or_404(Department, code=code)
    authz.authorize(request.user, "catalog.edit", department)
    form = forms.DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        domains = list(data.pop("domains"))
        data.pop("version", None)
        try:
            dataset = services.dataset_create(by=request.user, department=department, data=data, domains=domains)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("草稿已创建。登记字段和资源后即可发布。"))
            return redirect("catalog:manage_dataset", slug=dataset.slug)
    page = paginate_desc(
        Dataset.objects.filter(department=department), key="id", cursor=request.GET.get("cursor"), limit=50
    )
    return render(
        request,
        "catalog/manage/datasets.html",
        {"department": department, "datasets": page.items, "next_cursor": page.next_cursor, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def dataset_edit_view(request, slug: str):
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    authz.authorize(request.user, "catalog.edit", dataset.department)
    initial = {name: getattr(dataset, name) for name in forms.DatasetForm.base_fields if name != "domains"}
    initial["domains"] = list(dataset.domains.all())
    form = forms.DatasetForm(request.POST or None, initial=initial)
    form.fields["version"].required = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        domains = list(data.pop("domains"))
        version = data.pop("version")
        try:
            dataset = services.dataset_update(
                by=request.user, dataset=dataset, data=data, domains=domains, expected_version=version
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("catalog:manage_dataset", slug=slug)
    return _dataset_edit_page(request, dataset, form=form, status=400 if form.errors else 200)


def _dataset_edit_page(request, dataset: Dataset, *, form=None, resource_form=None, status: int = 200):
    if form is None:
        initial = {name: getattr(dataset, name) for name in forms.DatasetForm.base_fields if name != "domains"}
        initial["domains"] = list(dataset.domains.all())
        form = forms.DatasetForm(initial=initial)
    fields = list(dataset.fields.all())
    return render(
        request,
        "catalog/manage/dataset_edit.html",
        {
            "dataset": dataset,
            "form": form,
            "withdraw_form": forms.WithdrawForm(),
            "resource_form": resource_form or forms.ResourceForm(),
            "fields": fields,
            "resources": list(dataset.resources.all()),
            "findings": standard.check(dataset),
            "rule_findings": services.field_rule_findings(dataset.department, dataset.open_type, fields),
        },
        status=status,
    )


@login_required
def dataset_fields_view(request, slug: str):
    """Edit a dataset's field table: name, Chinese title, type, unit, description, example, category."""
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    authz.authorize(request.user, "catalog.edit", dataset.department)
    initial = [{k: getattr(f, k) for k in forms.FieldForm.base_fields} for f in dataset.fields.all()]
    formset = forms.FieldFormSet(request.POST or None, initial=initial, prefix="f")
    error = ""
    if request.method == "POST" and formset.is_valid():
        specs = [
            services.FieldSpec(**{k: v for k, v in row.items() if k != "DELETE"})
            for row in formset.cleaned_data
            if row.get("name") and not row.get("DELETE")
        ]
        try:
            version = int(request.POST.get("version", ""))
            services.dataset_fields_set(by=request.user, dataset=dataset, fields=specs, expected_version=version)
        except ValueError:
            error = _("页面已过期，请刷新后重试。")
        except DomainError as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("字段已保存，共 %(n)s 个。") % {"n": len(specs)})
            return redirect("catalog:manage_dataset", slug=slug)
    rules = services.current_rules(dataset.department)
    categories = [r["field_category"] for r in rules.rules if r.get("field_category")] if rules else []
    return render(
        request,
        "catalog/manage/dataset_fields.html",
        {"dataset": dataset, "formset": formset, "error": error, "categories": categories},
        status=400 if (error or formset.total_error_count()) else 200,
    )


@login_required
@require_POST
def resource_add_view(request, slug: str):
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    authz.authorize(request.user, "catalog.edit", dataset.department)
    form = forms.ResourceForm(request.POST)
    if form.is_valid():
        try:
            services.resource_add(by=request.user, dataset=dataset, spec=services.ResourceSpec(**form.cleaned_data))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("资源已添加。"))
            return redirect("catalog:manage_dataset", slug=slug)
    return _dataset_edit_page(request, dataset, resource_form=form, status=400)


@login_required
@require_POST
def resource_delete_view(request, pk: int):
    resource = get_object_or_404(Resource.objects.select_related("dataset__department"), pk=pk)
    services.resource_delete(by=request.user, resource=resource)
    messages.success(request, _("资源“%(name)s”已删除。") % {"name": resource.name})
    return redirect("catalog:manage_dataset", slug=resource.dataset.slug)


@login_required
@require_POST
def dataset_publish_view(request, slug: str):
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    services.dataset_publish(by=request.user, dataset=dataset)
    messages.success(request, _("数据集已发布。"))
    return redirect("catalog:manage_dataset", slug=slug)


@login_required
@require_POST
def dataset_withdraw_view(request, slug: str):
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    form = forms.WithdrawForm(request.POST)
    if not form.is_valid():
        raise DomainError(_("撤回数据集必须说明原因，公众会看到这一说明。"), details={"field": "reason"})
    services.dataset_withdraw(by=request.user, dataset=dataset, reason=form.cleaned_data["reason"])
    messages.success(request, _("数据集已撤回。"))
    return redirect("catalog:manage_dataset", slug=slug)


@login_required
@require_POST
def open_list_submit_view(request, code: str):
    department = get_object_or_404(Department, code=code)
    version = services.open_list_submit(by=request.user, department=department, note=request.POST.get("note", ""))
    messages.success(request, _("开放清单第 %(n)s 版已提交，等待平台运营方审核。") % {"n": version.number})
    return redirect("catalog:manage_inventory", code=code)


@login_required
def open_list_queue_view(request):
    """Operators: open-list versions waiting for review, newest first."""
    authz.authorize(request.user, "catalog.review")
    waiting = OpenListVersion.objects.filter(status=OpenListStatus.SUBMITTED).select_related(
        "department", "submitted_by"
    )
    page = paginate_desc(waiting, key="id", cursor=request.GET.get("cursor"), limit=50)
    return render(
        request, "catalog/manage/open_list_queue.html", {"versions": page.items, "next_cursor": page.next_cursor}
    )


@login_required
def open_list_review_view(request, pk: int):
    version = get_object_or_404(OpenListVersion.objects.select_related("department"), pk=pk)
    authz.authorize(request.user, "catalog.review")
    if request.method == "POST":
        approve = request.POST.get("decision") == "approve"
        services.open_list_review(
            by=request.user, version=version, approve=approve, comment=request.POST.get("comment", "")
        )
        messages.success(request, _("已发布。") if approve else _("已退回，部门会看到您的意见。"))
        return redirect("catalog:manage_open_lists")
    previous = (
        OpenListVersion.objects.filter(
            department=version.department, status=OpenListStatus.APPROVED, number__lt=version.number
        )
        .order_by("-number")
        .first()
    )
    diff = queries.open_list_diff(previous, version) if previous else None
    return render(
        request,
        "catalog/manage/open_list_review.html",
        {"version": version, "previous": previous, "diff": diff, "rows": queries.open_list_rows(version)},
    )


@login_required
def classification_rules_view(request, code: str):
    department = get_object_or_404(Department, code=code)
    authz.authorize(request.user, "catalog.edit", department)
    current = services.current_rules(department)
    initial = forms.ClassificationRulesForm.initial_from(current.rules if current else [])
    form = forms.ClassificationRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.classification_rules_publish(
                by=request.user, department=department, rules=form.rules(), note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("分级分类细则第 %(n)s 版已发布。") % {"n": version.number})
            return redirect("catalog:department_rules", code=code)
    return render(
        request,
        "catalog/manage/classification_rules.html",
        {"department": department, "form": form, "current": current},
        status=400 if form.errors else 200,
    )


@login_required
def bulk_import_view(request, code: str):
    """Import the department's inventory or datasets from the spreadsheet template."""
    department = get_object_or_404(Department, code=code)
    authz.authorize(request.user, "catalog.edit", department)
    form = forms.BulkImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > bulk.MAX_BYTES:
            form.add_error("file", _("文件超过 %(mb)s MB，请分成几个文件导入。") % {"mb": bulk.MAX_BYTES // 2**20})
        else:
            try:
                report = bulk.import_file(
                    by=request.user,
                    department=department,
                    kind=form.cleaned_data["kind"],
                    filename=upload.name,
                    raw=upload.read(),
                    valid_only=form.cleaned_data["valid_only"],
                )
            except bulk.BulkFileError as exc:
                apply_domain_error(form, exc)
    refused = bool(form.errors) or (report is not None and not report.committed)
    return render(
        request,
        "catalog/manage/bulk_import.html",
        {"department": department, "form": form, "report": report, "kinds": bulk.KINDS},
        status=400 if refused else 200,
    )


@login_required
def bulk_template_view(request, kind: str, ext: str):
    """The empty template to fill in, as Excel (with the field sheet and a guide) or CSV."""
    if kind not in bulk.KINDS or ext not in ("xlsx", "csv"):
        raise Http404
    if ext == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        body = bulk.template_xlsx(kind)
    else:
        content_type, body = "text/csv; charset=utf-8", bulk.template_csv(kind)
    response = HttpResponse(body, content_type=content_type)
    name = f"citydata-{kind}-template.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def standard_rules_view(request):
    """Operators: every rule of the naming and metadata standard, each editable, and new rules of any kind."""
    authz.authorize(request.user, "catalog.standard")
    kind = request.GET.get("kind") or request.POST.get("new_kind") or ""
    new_form = None
    if kind in standard.RULE_KINDS:
        new_form = forms.StandardRuleForm(
            request.POST if request.POST.get("new_kind") else None, kind=kind, new=True, prefix="new"
        )
        if new_form.is_bound and new_form.is_valid():
            try:
                rule = services.standard_rule_save(by=request.user, data=new_form.data_for_service())
            except DomainError as exc:
                _apply_param_error(new_form, exc)
            else:
                messages.success(request, _("规则“%(code)s”已添加。") % {"code": rule.code})
                return redirect("catalog:manage_standard")
    return _standard_page(request, new_form=new_form, kind=kind)


@login_required
@require_POST
def standard_rule_edit_view(request, code: str):
    authz.authorize(request.user, "catalog.standard")
    rule = get_object_or_404(StandardRule, code=code)
    form = forms.StandardRuleForm(request.POST, kind=rule.kind, prefix=rule.code)
    if form.is_valid():
        try:
            services.standard_rule_save(by=request.user, rule=rule, data=form.data_for_service())
        except DomainError as exc:
            _apply_param_error(form, exc)
        else:
            messages.success(request, _("规则“%(code)s”已保存，立即生效。") % {"code": rule.code})
            return redirect("catalog:manage_standard")
    return _standard_page(request, bound={rule.code: form})


def _apply_param_error(form, exc: DomainError) -> None:
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    if field and f"param_{field}" in form.fields:
        form.add_error(f"param_{field}", str(exc.message))
    else:
        apply_domain_error(form, exc)


def _standard_page(request, *, bound=None, new_form=None, kind: str = ""):
    bound = bound or {}
    rows = []
    for rule in StandardRule.objects.order_by("position", "code"):
        form = bound.get(rule.code) or forms.StandardRuleForm(
            initial=forms.StandardRuleForm.initial_for(rule), kind=rule.kind, prefix=rule.code
        )
        rows.append({"rule": rule, "form": form, "kind_label": standard.KIND_LABELS.get(rule.kind, rule.kind)})
    invalid = any(f.errors for f in bound.values()) or (new_form is not None and bool(new_form.errors))
    return render(
        request,
        "catalog/manage/standard_rules.html",
        {"rows": rows, "new_form": new_form, "kind": kind, "kinds": standard.KIND_LABELS},
        status=400 if invalid else 200,
    )


@login_required
def targets_view(request):
    """Operators: the year's opening targets for the city and for each department (R1.2)."""
    authz.authorize(request.user, "catalog.targets")
    from django.conf import settings
    from django.utils import timezone

    try:
        year = int(request.POST.get("year") or request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    departments = list(Department.objects.filter(is_active=True).order_by("code"))
    current = dict(OpeningTarget.objects.filter(year=year).values_list("department__code", "target"))
    error = ""
    if request.method == "POST":
        values: dict[str, int | None] = {}
        raw_city = request.POST.get("city", "").strip()
        try:
            city = int(raw_city) if raw_city else None
            for d in departments:
                raw = request.POST.get(f"d_{d.code}", "").strip()
                values[d.code] = int(raw) if raw else None
            services.opening_targets_set(by=request.user, year=year, city=city, departments=values)
        except ValueError:
            error = _("目标应为整数。")
        except DomainError as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("%(year)s 年的开放目标已保存。") % {"year": year})
            return redirect(f"{request.path}?year={year}")
    rows = [{"department": d, "target": current.get(d.code)} for d in departments]
    return render(
        request,
        "catalog/manage/targets.html",
        {
            "year": year,
            "city": current.get(None),
            "default": settings.ANNUAL_TARGET,
            "rows": rows,
            "error": error,
            "posted": request.POST,
        },
        status=400 if error else 200,
    )
