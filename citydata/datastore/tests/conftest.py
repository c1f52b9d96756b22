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
