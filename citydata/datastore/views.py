"""Back-office pages of the datastore: upload a file, follow its ingest, publish or discard versions."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse, StreamingHttpResponse
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
from citydata.security.middleware import client_ip


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
    perms_raw = authz.can(request.user, "datastore.raw_upload")
    return render(request, "datastore/version.html", {"dataset": dataset, "version": version, "perms_raw": perms_raw})


@login_required
def version_raw_view(request, slug: str, number: int):
    """Operators download a version's kept raw upload, decrypted as it streams; every download is audited."""
    from django.db import transaction

    from citydata.datastore import rawvault
    from citydata.security import audit

    authz.authorize(request.user, "datastore.raw_upload")
    dataset = get_object_or_404(Dataset, slug=slug[:100])
    version = get_object_or_404(DataVersion, dataset=dataset, number=number)
    if not version.source_key.endswith(".sealed"):
        raise Http404
    with transaction.atomic():
        audit.record(request.user, "data_version.raw_download", version, note=version.source_name)
    response = StreamingHttpResponse(rawvault.unseal(version.source_key), content_type="application/octet-stream")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(version.source_name)}"
    return response


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


PREVIEW_SIZE = 20
OP_LABELS = {
    "exact": "=",
    "not": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "contains": _("包含"),
    "startswith": _("开头是"),
    "in": _("属于（逗号分隔）"),
    "isnull": _("为空（true/false）"),
}


def data_page(request, slug: str):
    """The public data page of a dataset: a table to filter, sort and page, downloads of the current filter,
    and copy-ready API calls for it."""
    from citydata.datastore import queries, records
    from citydata.datastore.storage import get_storage

    if "_fcol" in request.GET:
        # The add-a-filter form: column, operator and value become one column__op=value parameter.
        params = {k: v for k, v in request.GET.items() if not k.startswith("_f") and k not in ("_next", "_offset")}
        column, op = request.GET.get("_fcol", ""), request.GET.get("_fop", "exact")
        if column:
            params[column if op == "exact" else f"{column}__{op}"] = request.GET.get("_fval", "")
        return redirect(f"{request.path}?{urlencode(params)}")
    dataset, version = queries.readable(request.user, slug, None, ip=client_ip(request))
    params = request.GET.copy()
    params.setdefault("_size", str(PREVIEW_SIZE))
    error = ""
    page = None
    try:
        query = records.parse(params, version.columns, version.point, max_size=200)
        if query.group_by:
            raise records.QueryError(_("分组统计请使用接口或图表。"))
        path = str(get_storage().local_path(version.data_key))
        page = records.run(
            query, path, version.columns, version.point, row_count=version.row_count, layout=records.layout_of(version)
        )
        if version.grant is not None:  # read through a grant in the browser: it counts on the grant's usage
            version.grant.record_use(len(page.rows), 0)
    except records.QueryError as exc:
        error = str(exc.message)
    filters = [(k, v) for k, v in request.GET.items() if not k.startswith("_")]
    sort = request.GET.get("_sort", "")
    base = {k: v for k, v in request.GET.items() if k not in ("_next", "_offset")}

    def link(**changes) -> str:
        merged = {**base, **changes}
        return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})

    shown = set(page.names) if page else {c["name"] for c in version.columns}
    columns = []
    for column in (c for c in version.columns if c["name"] in shown):
        name = column["name"]
        next_sort = f"-{name}" if sort == name else name
        columns.append(
            {
                **column,
                "sort_link": link(_sort=next_sort),
                "sorted": sort.lstrip("-") == name,
                "desc": sort == f"-{name}",
            }
        )
    api_query = urlencode({k: v for k, v in base.items() if k != "_size"})
    api_url = request.build_absolute_uri(f"/api/v1/datasets/{dataset.slug}/records") + (
        f"?{api_query}" if api_query else ""
    )
    downloads = {
        fmt: f"/api/v1/datasets/{dataset.slug}/records?"
        + urlencode(
            {
                **{k: v for k, v in base.items() if k != "_size"},
                "_format": fmt,
                **({"_bom": "1"} if fmt == "csv" else {}),
            }
        )
        for fmt in ("csv", "xlsx", "parquet", "geojson")
        if fmt != "geojson" or version.point
    }
    return render(
        request,
        "datastore/data_page.html",
        {
            "dataset": dataset,
            "version": version,
            "page": page,
            "rows": _cells(page, columns),
            "columns": columns,
            "filters": [{"key": k, "value": v, "remove": link(**{k: ""})} for k, v in filters],
            "ops": OP_LABELS,
            "error": error,
            "next_link": link(_next=page.next_cursor) if page and page.next_cursor else "",
            "first_link": link() if request.GET.get("_next") else "",
            "api_url": api_url,
            "downloads": downloads,
            "keep": [(k, v) for k, v in base.items()],
            "chart_query": "?" + urlencode(filters) if filters else "",
        },
        status=400 if error else 200,
    )


def _cells(page, columns: list[dict]) -> list[list[dict]]:
    if page is None:
        return []
    index = {name: i for i, name in enumerate(page.names)}
    numeric = {c["name"] for c in columns if c["type"] in ("integer", "decimal")}

    def shown(value):  # dates and times as the API writes them, to the second
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value

    return [
        [{"value": shown(row[index[c["name"]]]), "num": c["name"] in numeric} for c in columns] for row in page.rows
    ]


CHART_CONTROLS = {"kind": "_chart", "x": "_x", "bucket": "_bucket", "y": "_y"}


def chart_page(request, slug: str):
    """The chart builder (R7.4): bar, line, pie, scatter and point-map charts of a version's data under the
    data page's filters, drawn by ECharts, with the same numbers as a table and the API call behind them."""
    from citydata.datastore import charts, queries, records
    from citydata.datastore.storage import get_storage

    dataset, version = queries.readable(request.user, slug, None, ip=client_ip(request))
    path = str(get_storage().local_path(version.data_key))
    params = request.GET.dict()
    if "_chart" not in params:
        params = {**params, **charts.suggest(path, version.columns, version.point)}
    chart, error = None, ""
    try:
        chart = charts.build(params, path, version.columns, version.point, layout=records.layout_of(version))
    except records.QueryError as exc:
        error = str(exc.message)
    titles = charts.titles(version.columns)
    filters = charts.filters_of(params)
    api_url = ""
    if chart:
        api_url = request.build_absolute_uri(f"/api/v1/datasets/{dataset.slug}/records?") + urlencode(chart.api_params)
    return render(
        request,
        "datastore/chart.html",
        {
            "dataset": dataset,
            "version": version,
            "chart": chart,
            "chart_json": chart.as_json(titles) if chart else None,
            "rows": list(zip(chart.labels, chart.values, strict=True)) if chart else [],
            "x_title": titles.get(chart.x, "") if chart else "",
            "y_title": chart.y_title(titles) if chart else "",
            "chosen": {name: params.get(key, "") for name, key in CHART_CONTROLS.items()}
            | ({"x": chart.x} if chart else {}),
            "choices": charts.options(version.columns, version.point),
            "filters": list(filters.items()),
            "data_link": "?" + urlencode(filters) if filters else "",
            "error": error,
            "api_url": api_url,
        },
        status=400 if error else 200,
    )


EXAMPLE_SQL = "SELECT * FROM data LIMIT 20"


def sql_page(request, slug: str):
    """Try read-only SQL on a dataset in the browser: the same sandbox as POST /api/v1/datasets/{slug}/query."""
    from citydata.datastore import queries
    from citydata.datastore import sql as sql_sandbox
    from citydata.datastore.storage import get_storage

    dataset, version = queries.readable(request.user, slug, None, ip=client_ip(request))
    text = str(request.GET.get("sql") or "")[:10_000]
    result, error = None, ""
    if text:
        try:
            path = str(get_storage().local_path(version.data_key))
            granted = version.column_names if version.grant is not None else None
            result = sql_sandbox.run_for(request.user, slug, text, path, max_rows=500, columns=granted)
            if version.grant is not None:
                version.grant.record_use(len(result.rows), 0)
        except DomainError as exc:
            error = str(exc.message)
    return render(
        request,
        "datastore/sql.html",
        {
            "dataset": dataset,
            "version": version,
            "sql": text or EXAMPLE_SQL,
            "result": result,
            "error": error,
            "columns": version.columns,
        },
        status=400 if error else 200,
    )


MIANYANG_BBOX = (104.62, 31.38, 104.86, 31.55)  # west, south, east, north: the city's built-up area


def live_page(request, slug: str):
    """The live map of a real-time dataset with coordinates (bus positions): latest state, then SSE."""
    from citydata.datastore import queries, streams

    dataset = queries.readable_dataset(request.user, slug, ip=client_ip(request))
    names = set(dataset.fields.values_list("name", flat=True))
    lng = next((n for n in ("lng", "longitude", "lon") if n in names), "")
    lat = next((n for n in ("lat", "latitude") if n in names), "")
    label = next((n for n in ("line_name", "name", "org_name") if n in names), "")
    return render(
        request,
        "datastore/live.html",
        {
            "dataset": dataset,
            "lng": lng,
            "lat": lat,
            "label": label,
            "bbox": ",".join(str(v) for v in MIANYANG_BBOX),
            "latest": streams.latest(dataset, size=50),
        },
    )
