"""Each check family through `dataset_assess`: the findings a dataset gets and those it does not."""

import datetime as dt

import pytest
from django.utils import timezone

from citydata.catalog import services as catalog_services
from citydata.catalog.models import Dataset
from citydata.quality import checks, services
from citydata.quality.models import Finding
from citydata.quality.tests.conftest import assess

pytestmark = pytest.mark.django_db


def codes(dataset) -> set[str]:
    """The dataset's open findings after assessing it now."""
    assess(dataset)
    return set(Finding.objects.filter(dataset=dataset, status="open").values_list("check_code", flat=True))


def test_every_check_is_registered_with_explanation_and_fix():
    registered = checks.all_checks()
    families = {c.family for c in registered}
    assert families == {"metadata", "format", "service", "content", "timeliness", "privacy"}
    for item in registered:
        assert item.code and str(item.title) and str(item.explanation) and str(item.fix)
        assert item.severity in ("high", "medium", "low")


def test_a_good_dataset_has_no_findings_and_scores_100(make_dataset):
    dataset = make_dataset()
    assessment = services.dataset_assess(dataset=dataset)
    assert [f.check_code for f in assessment.open_findings] == []
    assert assessment.score == 100


def test_metadata_problems(make_dataset):
    dataset = make_dataset(contact_name="", spatial_coverage="", temporal_start=None, update_frequency="irregular")
    catalog_services.dataset_fields_set(
        by=_operator(),
        dataset=dataset,
        fields=[catalog_services.FieldSpec("线路", "线路"), catalog_services.FieldSpec("站点数", "站点数", "integer")],
        expected_version=dataset.version,
    )
    found = codes(dataset)
    assert {"metadata.contact", "metadata.coverage", "metadata.frequency", "metadata.fields"} <= found
    finding = Finding.objects.get(dataset=dataset, check_code="metadata.fields", status="open")
    assert "线路" in finding.message and finding.details["items"][0]["fields"] == ["线路", "站点数"]


def _operator():
    from citydata.accounts import services as account_services
    from citydata.accounts.models import User

    user = User.objects.create_user(email=f"op{User.objects.count()}@example.cn", password="x-Pass-2026")
    account_services.role_grant(by=None, user=user, role="operator")
    return user


def test_pdf_only_dataset_fails_format_checks(make_dataset):
    dataset = make_dataset("绵阳市公交线路图", csv=None, resources=[catalog_services.ResourceSpec("线路图", "CSV")])
    operator = _operator()
    catalog_services.resource_add(by=operator, dataset=dataset, spec=catalog_services.ResourceSpec("线路图", "PDF"))
    catalog_services.resource_delete(by=operator, resource=dataset.resources.get(format="CSV"))
    found = codes(dataset)
    assert {"format.machine_readable", "format.openness"} <= found
    openness = Finding.objects.get(dataset=dataset, check_code="format.openness", status="open")
    assert openness.details["items"][0]["stars"] == 1 and openness.severity == "high"


def test_content_problems_are_found_by_vectorised_measures(make_dataset):
    rows = ["线路,站点数,开通日期,备注日期"]
    rows += [f"{n}路,{n},2015-01-0{1 + n % 8},2020-01-01" for n in range(1, 30)]
    rows += ["99路,-3,1880-01-01,2024-02-30", "99路,-3,1880-01-01,2024-02-30", "100路,,2999-12-31,暂无"]
    dataset = make_dataset(csv="\n".join(rows) + "\n", extra_fields=["备注日期"])
    found = codes(dataset)
    assert {"content.ranges", "content.duplicate_rows", "content.types"} <= found
    ranges = Finding.objects.get(dataset=dataset, check_code="content.ranges", status="open")
    assert "开通日期" in ranges.message and "1880-01-01" in ranges.message and "负值" in ranges.message
    types = Finding.objects.get(dataset=dataset, check_code="content.types", status="open")
    assert "备注日期" in types.message and "2024-02-30" in types.message


def test_low_capacity_and_nulls(make_dataset):
    dataset = make_dataset(csv="线路,站点数,开通日期\n1路,,\n2路,,\n")
    assert {"content.capacity", "content.nulls"} <= codes(dataset)


def test_the_same_data_under_two_titles_is_a_duplicate(make_dataset):
    first = make_dataset("绵阳市公交线路基本信息")
    second = make_dataset("绵阳市地面公交线路名录")
    services.dataset_assess(dataset=first)
    assert "content.duplicate_dataset" in codes(first) and "content.duplicate_dataset" in codes(second)
    message = Finding.objects.get(dataset=second, check_code="content.duplicate_dataset", status="open").message
    assert "绵阳市公交线路基本信息" in message


def test_a_series_cut_into_monthly_datasets_is_fragmented(make_dataset):
    for month in (1, 2, 3):
        make_dataset(f"绵阳市2026年{month}月公交客运量", csv=f"线路,站点数,开通日期\n{month}路,3,2015-01-01\n")
    services.dataset_assess(dataset=Dataset.objects.get(title="绵阳市2026年1月公交客运量"))
    finding = Finding.objects.get(dataset__title="绵阳市2026年1月公交客运量", check_code="content.fragmented")
    assert len(finding.details["items"][0]["datasets"]) == 2
    assert "content.fragmented" not in codes(make_dataset("绵阳市公交线路信息表"))


def test_a_stale_daily_dataset(make_dataset):
    dataset = make_dataset(update_frequency="daily")
    assert "timeliness.stale" not in codes(dataset)
    Dataset.objects.filter(pk=dataset.pk).update(last_data_update=timezone.now() - dt.timedelta(days=12))
    services.dataset_assess(dataset=Dataset.objects.get(pk=dataset.pk))
    finding = Finding.objects.get(dataset=dataset, check_code="timeliness.stale", status="open")
    assert finding.severity == "high" and "12 天" in finding.message


def test_personal_data_is_found_by_the_privacy_detectors(make_dataset):
    from citydata.privacy.detectors import resident_id_check_char

    ids = []
    for n in range(30):
        body = f"51070319{80 + n % 20}01{10 + n:02d}{100 + n:03d}"
        ids.append(body + resident_id_check_char(body))
    csv = "线路,站点数,开通日期,司机身份证\n" + "".join(f"{n}路,{n},2015-01-01,{i}\n" for n, i in enumerate(ids))
    dataset = make_dataset(csv=csv, extra_fields=["司机身份证"])
    finding = Finding.objects.get(dataset=dataset, check_code="privacy.personal_data", status="open")
    assert "司机身份证" in finding.message and finding.severity == "high"


def test_dead_links_are_found_from_probe_history(make_dataset, http_server, closed_port):
    from citydata.quality import probes

    dataset = make_dataset(
        resources=[
            catalog_services.ResourceSpec("线路表", "CSV", url=f"{http_server}/ok.csv"),
            catalog_services.ResourceSpec("旧线路表", "CSV", url=closed_port),
        ]
    )
    assert probes.probe_all(dataset.resources.all()) == 2
    services.dataset_assess(dataset=dataset)
    finding = Finding.objects.get(dataset=dataset, check_code="service.links", status="open")
    assert "旧线路表" in finding.message and "线路表”" not in finding.message.replace("旧线路表”", "")
    assert dataset.resources.get(name="线路表").probes.get().ok


def test_a_missing_data_file_fails_the_records_api_check(make_dataset):
    from citydata.datastore.models import DataVersion
    from citydata.datastore.storage import get_storage

    dataset = make_dataset()
    version = DataVersion.objects.get(dataset=dataset, is_current=True)
    get_storage().delete(version.data_key)
    from citydata.quality.models import VersionProfile

    VersionProfile.objects.filter(version=version).delete()
    services.dataset_assess(dataset=dataset)
    assert "service.records_api" in codes(dataset)


def test_a_finding_is_resolved_when_the_problem_goes_away(make_dataset):
    dataset = make_dataset(contact_name="")
    assert "metadata.contact" in codes(dataset)
    catalog_services.dataset_update(
        by=_operator(), dataset=dataset, data={"contact_name": "张三"}, expected_version=dataset.version
    )
    assert "metadata.contact" not in codes(dataset)
    assert Finding.objects.get(dataset=dataset, check_code="metadata.contact").status == "resolved"
