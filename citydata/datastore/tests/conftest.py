import io

import pytest

from citydata.catalog import services as catalog_services
from citydata.catalog.models import Domain


@pytest.fixture(autouse=True)
def _work_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"  # ingest work folders; the root conftest already isolates storage


@pytest.fixture
def dataset(department):
    return catalog_services.dataset_create(
        by=None,
        department=department("JTJ"),
        slug="bus",
        data={
            "title": "绵阳市地面公交实时位置",
            "description": "全市地面公交车辆的实时位置、线路和速度，每 30 秒更新一次。",
            "update_frequency": "realtime",
        },
        # get_or_create: a transactional test before this one may have flushed the seeded vocabulary
        domains=[Domain.objects.get_or_create(code="transport", defaults={"name": "交通出行", "is_priority": True})[0]],
    )


@pytest.fixture
def upload(dataset):
    from citydata.datastore import services

    def make(content: bytes | str, name: str = "data.csv", policy: str = "reject", target=None, encoding="utf-8"):
        raw = content.encode(encoding) if isinstance(content, str) else content
        return services.version_upload(
            by=None,
            dataset=target or dataset,
            stream=io.BytesIO(raw),
            filename=name,
            bad_rows_policy=policy,
            run_now=True,
        )

    return make


LINES = ["1路", "2路", "3路", "10路", None]


def bus_csv(n: int = 50) -> str:
    rows = ["线路,车牌,速度,经度,纬度,时间,载客"]
    for i in range(n):
        line = LINES[i % 5] or ""
        speed = "" if i % 7 == 0 else f"{(i * 3) % 60}.5"
        rows.append(
            f"{line},川B{10000 + i},{speed},{104.70 + i * 0.002:.4f},{31.44 + i * 0.001:.4f},"
            f"2026-01-{1 + i % 28:02d} 08:{i % 60:02d}:00,{i % 40}"
        )
    return "\n".join(rows) + "\n"


@pytest.fixture
def published(dataset, upload):
    from citydata.catalog.models import DatasetField
    from citydata.datastore import services

    version = upload(bus_csv())
    services.version_publish(by=None, version=version)
    DatasetField.objects.filter(dataset=dataset).update(description="说明")
    # publishing the version listed the records API and the CSV download as the dataset's resources
    catalog_services.dataset_publish(by=None, dataset=dataset)
    return version
