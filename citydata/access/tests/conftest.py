import datetime as dt
import io

import pytest
from django.utils import timezone

from citydata.access import services
from citydata.access.models import AgreementTemplate
from citydata.catalog import services as catalog_services
from citydata.catalog.models import Dataset, Domain
from citydata.catalog.services import FieldSpec

CSV = "户号,户名,街道,月份,用电量\n" + "".join(
    f"A{1000 + i},居民{i},{'涪城' if i % 2 else '游仙'},2026-{1 + i % 12:02d},{100 + i}\n" for i in range(30)
)
TEMPLATE = (
    "开放利用协议（编号 {number}）\n甲方：{department}\n乙方：{applicant}\n数据：{datasets}\n字段：{fields}\n"
    "用途：{purpose}\n期限：{period_start} 至 {period_end}\n限额：每分钟 {rate} 次，每日 {daily_rows} 行。"
)


@pytest.fixture(autouse=True)
def _work_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def conditional(department):
    """A published conditional dataset with data (户号, 户名, 街道, 月份, 用电量)."""
    from citydata.datastore import services as data_services

    dataset = catalog_services.dataset_create(
        by=None,
        department=department("FGW", "市发展和改革委员会"),
        slug="power",
        data={
            "title": "居民用电量",
            "description": "按户按月的居民用电量。",
            "open_type": "conditional",
            "update_frequency": "monthly",
        },
        domains=[Domain.objects.get_or_create(code="energy", defaults={"name": "能源"})[0]],
        fields=[FieldSpec(name=n, title=n) for n in ("户号", "户名", "街道", "月份", "用电量")],
    )
    version = data_services.version_upload(
        by=None, dataset=dataset, stream=io.BytesIO(CSV.encode()), filename="power.csv", run_now=True
    )
    data_services.version_publish(by=None, version=version)
    Dataset.objects.filter(pk=dataset.pk).update(status="published")
    dataset.refresh_from_db()
    AgreementTemplate.objects.get_or_create(version=1, defaults={"title": "开放利用协议", "body": TEMPLATE})
    return dataset


@pytest.fixture
def people(user_with_role):
    return {
        "applicant": user_with_role("registered"),
        "reviewer": user_with_role("provider", "FGW"),
        "operator": user_with_role("operator"),
        "experts": [user_with_role("expert"), user_with_role("expert")],
        "other": user_with_role("registered"),
    }


@pytest.fixture
def apply(conditional, people):
    def make(fields=("户号", "街道", "用电量"), by=None, **overrides):
        values = {
            "purpose": "研究居民用电与气温的关系",
            "scenario": "高校课题组建模分析",
            "period_start": timezone.localdate(),
            "period_end": timezone.localdate() + dt.timedelta(days=180),
            "expected_volume": "每日不超过 1 万行",
            "security_measures": "专人专机，数据不出内网",
        }
        values.update(overrides)
        return services.application_save(by=by or people["applicant"], items=[(conditional, list(fields))], **values)

    return make


@pytest.fixture
def granted(apply, people):
    """An application taken all the way to a grant; returns (application, grant, secret)."""
    application = apply()
    services.application_submit(by=people["applicant"], application=application, commitment=True)
    services.application_accept(by=people["reviewer"], application=application)
    services.application_evaluate(by=people["reviewer"], application=application)
    services.application_decide(by=people["reviewer"], application=application, approve=True, reason="用途明确")
    application.refresh_from_db()
    import hashlib

    text = services.agreement_text(application)
    grant, secret = services.agreement_accept(
        by=people["applicant"],
        application=application,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        ip="127.0.0.1",
    )
    application.refresh_from_db()
    return application, grant, secret


@pytest.fixture(autouse=True)
def _deadlines_may_reach_next_year(calendar_ahead):
    """See the root conftest's calendar_ahead."""


@pytest.fixture(autouse=True, scope="session")
def _url_map_loaded_before_time_is_frozen():
    """Loading the URL map imports the API's schemas; under freezegun, pydantic cannot build a schema for its
    fake datetime class. Load it once up front, so tests may freeze time around service calls that notify."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
