"""Back-office pages of the datastore: upload a file, follow its ingest, publish or discard versions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citydata.accounts import authz
from citydata.accounts.forms import apply_domain_error
from citydata.catalog.models import Dataset
from citydata.datastore import services
from citydata.datastore.forms import UploadForm
from citydata.datastore.models import DataVersion
from citydata.errors import DomainError


def _dataset(request, slug: str) -> Dataset:
    dataset = get_object_or_404(Dataset.objects.select_related("department"), slug=slug)
    authz.authorize(request.user, "catalog.edit", dataset.department)
    return dataset


@login_required
def data_view(request, slug: str):
    dataset = _dataset(request, slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            version = services.version_upload(
                by=request.user,
                dataset=dataset,
                stream=upload,
                filename=upload.name,
                bad_rows_policy=form.cleaned_data["bad_rows"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("文件已上传，正在后台处理。"))
            return redirect("datastore:version", slug=slug, number=version.number)
    versions = DataVersion.objects.filter(dataset=dataset).order_by("-number")[:50]
    return render(
        request,
        "datastore/data.html",
        {"dataset": dataset, "form": form, "versions": versions},
        status=400 if form.errors else 200,
    )


@login_required
def version_view(request, slug: str, number: int):
    dataset = _dataset(request, slug)
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    return render(request, "datastore/version.html", {"dataset": dataset, "version": version})


@login_required
def version_status_view(request, slug: str, number: int):
    """What the version page polls while an ingest runs."""
    dataset = _dataset(request, slug)
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    return JsonResponse(
        {
            "status": version.status,
            "status_label": version.get_status_display(),
            "phase": version.phase,
            "progress": version.progress,
            "done": version.status not in ("queued", "running"),
        }
    )


@login_required
@require_POST
def version_publish_view(request, slug: str, number: int):
    dataset = _dataset(request, slug)
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    services.version_publish(by=request.user, version=version)
    messages.success(request, _("第 %(n)s 版已成为当前版本，接口和下载立即使用新数据。") % {"n": number})
    return redirect("datastore:data", slug=slug)


@login_required
@require_POST
def version_discard_view(request, slug: str, number: int):
    dataset = _dataset(request, slug)
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    services.version_discard(by=request.user, version=version)
    messages.success(request, _("第 %(n)s 版已丢弃。") % {"n": number})
    return redirect("datastore:data", slug=slug)
