"""The demo seeds a problem of every family; its inspection finds them all and creates tasks; one fix closes."""

import pytest

from citydata.quality.models import Finding, RectificationTask

pytestmark = pytest.mark.django_db


def test_the_demo_inspection_finds_every_seeded_problem(department):
    from citydata.accounts import demo as accounts_demo
    from citydata.accounts.models import User
    from citydata.catalog import services as catalog_services
    from citydata.quality import demo, services

    accounts_demo.load()
    first = demo.load()
    assert first["quality_datasets"] == 11 and first["inspection_runs"] == 1 and first["rectification_tasks"] > 0
    assert demo.load() == {"quality_datasets": 0, "inspection_runs": 0, "rectification_tasks": 0}  # idempotent
    found = set(Finding.objects.filter(status="open").values_list("dataset__slug", "check_code"))
    expected = {
        ("qdemo-bus-route-maps", "format.machine_readable"),
        ("qdemo-road-congestion-daily", "timeliness.stale"),
        ("qdemo-births-by-hospital", "content.ranges"),
        ("qdemo-taxi-operators", "content.duplicate_dataset"),
        ("qdemo-taxi-companies", "content.duplicate_dataset"),
        ("qdemo-bus-ridership-2026-08", "content.fragmented"),
        ("qdemo-parking-lots", "metadata.fields"),
        ("qdemo-taxi-companies-2019", "service.links"),
        ("qdemo-family-doctor-teams", "privacy.personal_data"),
    }
    assert expected <= found
    assert {f for _slug, f in found} >= {"metadata.fields", "format.machine_readable", "service.links"}
    # Fix one: describe the field, say so, the re-check closes the task.
    task = RectificationTask.objects.get(dataset__slug="qdemo-parking-lots", check_code="metadata.fields")
    staff = User.objects.get(email="jtj@demo.citydata.cn")
    assert staff in task.assignees.all()
    dataset = task.dataset
    catalog_services.dataset_fields_set(
        by=staff,
        dataset=dataset,
        fields=[
            catalog_services.FieldSpec(f.name, f.title, f.type, f.unit, f.description or "停车收费标准（元/小时）")
            for f in dataset.fields.all()
        ],
        expected_version=dataset.version,
    )
    assert services.task_report_fixed(by=staff, task=task, note="已补充字段说明").status == "closed"
