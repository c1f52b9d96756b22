"""Fixtures of the quality tests: published datasets with data, a local HTTP server for link probes."""

from __future__ import annotations

import http.server
import io
import socket
import threading

import pytest

from citydata.catalog import services as catalog_services
from citydata.catalog.models import Domain


@pytest.fixture(autouse=True)
def _quality_inline(settings, tmp_path):
    from citydata.quality import signals

    settings.VAR_DIR = tmp_path / "var"
    signals.inline = True  # a captured on_commit assesses at once instead of queueing a task
    signals._state.pending = None
    yield
    signals.inline = False
    signals._state.pending = None


def assess(dataset):
    from citydata.catalog.models import Dataset
    from citydata.quality import services

    return services.dataset_assess(dataset=Dataset.objects.get(pk=dataset.pk))


def transport() -> Domain:
    return Domain.objects.get_or_create(code="transport", defaults={"name": "交通出行", "is_priority": True})[0]


GOOD = {
    "description": "全市公交线路的起讫站、首末班时间、票价和途经站点，供出行查询使用。",
    "update_frequency": "monthly",
    "spatial_coverage": "绵阳市全市",
    "contact_name": "数据专员",
    "contact_phone": "0816-2222222",
}


@pytest.fixture
def make_dataset(department):
    """A published dataset with good metadata; `csv` uploads and publishes it as the current data version."""

    def make(
        title: str = "绵阳市地面公交线路信息",
        *,
        dept: str = "JTJ",
        csv: str | None = "线路,站点数,开通日期\n1路,20,2010-05-01\n2路,18,2012-07-01\n"
        + "".join(f"{n}路,{10 + n},2015-01-{1 + n % 28:02d}\n" for n in range(3, 20)),
        fields=None,
        extra_fields=(),
        resources=None,
        **data,
    ):
        import datetime as dt

        from citydata.datastore import services as data_services

        dataset = catalog_services.dataset_create(
            by=None,
            department=department(dept),
            data={"title": title, **GOOD, "temporal_start": dt.date(2020, 1, 1), **data},
            domains=[transport()],
            fields=fields
            or [
                catalog_services.FieldSpec("线路", "线路", description="线路名称"),
                catalog_services.FieldSpec("站点数", "站点数", "integer", unit="个", description="途经站点数"),
                catalog_services.FieldSpec("开通日期", "开通日期", "date", description="线路开通的日期"),
            ]
            + [catalog_services.FieldSpec(name, name, description=f"{name}的说明") for name in extra_fields],
            resources=resources if resources is not None else [catalog_services.ResourceSpec("线路表", "CSV")],
        )
        if csv is not None:
            version = data_services.version_upload(
                by=None, dataset=dataset, stream=io.BytesIO(csv.encode()), filename="data.csv", run_now=True
            )
            assert version.status == "ready", version.error
            data_services.version_publish(by=None, version=version)
        catalog_services.dataset_publish(by=None, dataset=dataset)
        dataset.refresh_from_db()
        assess(dataset)
        return dataset

    return make


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200 if self.path.startswith("/ok") else 404)
        self.end_headers()

    def do_GET(self):
        self.do_HEAD()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A web server on 127.0.0.1: /ok… answers 200, anything else 404."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port():
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.csv"


@pytest.fixture(autouse=True)
def _deadlines_may_reach_next_year(calendar_ahead):
    """See the root conftest's calendar_ahead."""
