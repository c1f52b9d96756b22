"""Load the demo catalog: departments, inventory entries of every open type, and 500+ published datasets.

Deterministic (every number comes from a seeded generator keyed by the dataset's slug) and
idempotent (items are looked up by their natural keys first), like the accounts demo.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from citydata.accounts import services as account_services
from citydata.accounts.models import Department
from citydata.catalog import demo_catalog as content
from citydata.catalog import services
from citydata.catalog.models import Dataset, Domain, InventoryEntry, OpeningTarget, OpenListVersion, ResourceKind

CITY = "绵阳市"
FIRST_PUBLISHED = dt.datetime(2020, 4, 1, 9, 0, tzinfo=dt.UTC)
LAST_PUBLISHED = dt.datetime(2026, 10, 31, 9, 0, tzinfo=dt.UTC)


# Every department's first classification rules: levels of GB/T 43697-2024, plus sensitive field kinds.
DEFAULT_RULES = [
    {"sensitivity": "general", "allowed_open_type": "open", "masking": "none"},
    {"sensitivity": "important", "allowed_open_type": "conditional", "masking": "partial"},
    {"sensitivity": "core", "allowed_open_type": "closed", "masking": "suppress"},
    {"field_category": "个人身份信息", "allowed_open_type": "conditional", "masking": "pseudonym"},
    {"field_category": "联系方式", "allowed_open_type": "open", "masking": "partial"},
    {"field_category": "精确位置", "allowed_open_type": "conditional", "masking": "generalise"},
]


def _slug(theme_index: int, district_index: int | None) -> str:
    suffix = "city" if district_index is None else f"d{district_index:02d}"
    return f"ds-{theme_index:03d}-{suffix}"


def _published_at(rng: random.Random) -> dt.datetime:
    span = (LAST_PUBLISHED - FIRST_PUBLISHED).total_seconds()
    return FIRST_PUBLISHED + dt.timedelta(seconds=int(rng.random() * span))


def _resources(theme: content.Theme, title: str, slug: str, rng: random.Random) -> list[services.ResourceSpec]:
    specs = [
        services.ResourceSpec(f"{title}.{fmt.lower()}", fmt, size_bytes=rng.randint(8_000, 4_000_000))
        for fmt in theme.formats
    ]
    specs.append(
        services.ResourceSpec(f"{title}查询接口", "API", kind=ResourceKind.API, url=f"/api/v1/datasets/{slug}")
    )
    if theme.realtime:
        specs.append(
            services.ResourceSpec(
                f"{title}实时推送", "SSE", kind=ResourceKind.STREAM, url=f"/api/v1/streams/{slug}/events"
            )
        )
    return specs


@transaction.atomic
def load() -> dict[str, int]:
    created = {"departments": 0, "inventory": 0, "datasets": 0, "open_lists": 0, "rule_sets": 0}
    for code, name in content.EXTRA_DEPARTMENTS:
        if not Department.objects.filter(code=code).exists():
            account_services.department_create(by=None, code=code, name=name)
            created["departments"] += 1
    departments = {d.code: d for d in Department.objects.all()}
    for department in departments.values():
        if services.current_rules(department) is None:
            services.classification_rules_publish(
                by=None, department=department, rules=DEFAULT_RULES, note="依据 GB/T 43697-2024 编制"
            )
            created["rule_sets"] += 1
    domains = {d.code: d for d in Domain.objects.all()}
    existing = set(Dataset.objects.values_list("slug", flat=True))
    now = timezone.now()

    for index, theme in enumerate(content.THEMES, start=1):
        department = departments[theme.department]
        places = list(enumerate(content.DISTRICTS, start=1)) if theme.per_district else [(None, CITY)]
        for district_index, place in places:
            slug = _slug(index, district_index)
            if slug in existing:
                continue
            rng = random.Random(slug)
            title = f"{place}{theme.title}"
            entry_code = f"{theme.department}-{index:03d}-{district_index or 0:02d}"
            entry = InventoryEntry.objects.filter(department=department, code=entry_code).first()
            if entry is None:
                entry = services.inventory_entry_save(
                    by=None,
                    department=department,
                    data={
                        "code": entry_code,
                        "name": title,
                        "description": theme.description,
                        "open_type": theme.open_type,
                        "sensitivity": "general" if theme.open_type == "open" else "important",
                    },
                )
                created["inventory"] += 1
            published_at = _published_at(rng)
            dataset = services.dataset_create(
                by=None,
                department=department,
                slug=slug,
                inventory_entry=entry,
                data={
                    "title": title,
                    "description": theme.description,
                    "open_type": theme.open_type,
                    "update_frequency": theme.frequency,
                    "spatial_coverage": place,
                    "tags": [place, theme.title.removesuffix("信息").removesuffix("名录")[:8]],
                    "contact_name": f"{department.name}数据专员",
                    "contact_phone": f"0816-{2200000 + rng.randint(0, 99999)}",
                    "temporal_start": dt.date(2019 + rng.randint(0, 3), 1, 1),
                },
                domains=[domains[code] for code in theme.domains],
                fields=[
                    services.FieldSpec(name, title_, type_, unit, description, example)
                    for name, title_, type_, unit, description, example in theme.fields
                ],
                resources=_resources(theme, title, slug, rng),
            )
            services.dataset_publish(by=None, dataset=dataset, when=published_at)
            freshness = (
                dt.timedelta(minutes=5) if theme.frequency == "realtime" else dt.timedelta(days=rng.randint(0, 90))
            )
            Dataset.objects.filter(pk=dataset.pk).update(
                view_count=rng.randint(50, 20_000),
                download_count=rng.randint(5, 3_000),
                last_data_update=max(published_at, now - freshness),
            )
            created["datasets"] += 1

    # The first open list of every department, reviewed before the not-open entries were added …
    with_entries = Department.objects.filter(inventory__isnull=False).distinct().order_by("code")
    for department in with_entries:
        if not OpenListVersion.objects.filter(department=department).exists():
            first = services.open_list_submit(by=None, department=department, note="首次编制开放清单")
            services.open_list_review(by=None, version=first, approve=True, comment="同意发布")
            created["open_lists"] += 1

    for position, closed in enumerate(content.CLOSED_ENTRIES, start=1):
        department = departments[closed.department]
        code = f"{closed.department}-N{position:03d}"
        if not InventoryEntry.objects.filter(department=department, code=code).exists():
            services.inventory_entry_save(
                by=None,
                department=department,
                data={
                    "code": code,
                    "name": closed.name,
                    "description": closed.description,
                    "open_type": "closed",
                    "sensitivity": "important",
                    "legal_basis_name": closed.basis_name,
                    "legal_basis_article": closed.basis_article,
                },
            )
            created["inventory"] += 1

    # … and a second version where they were, so the demo has a diff to show.
    for code in sorted({closed.department for closed in content.CLOSED_ENTRIES}):
        department = departments[code]
        if OpenListVersion.objects.filter(department=department).count() == 1:
            second = services.open_list_submit(by=None, department=department, note="补充登记不予开放的数据资源")
            services.open_list_review(by=None, version=second, approve=True, comment="依据充分，同意发布")
            created["open_lists"] += 1

    # This year's targets: each department a little beyond what it has open, so progress has something to show.
    year = timezone.localdate().year
    if not OpeningTarget.objects.filter(year=year).exists():
        open_now = dict(
            Dataset.objects.filter(status="published").values_list("department__code").annotate(n=Count("id"))
        )
        services.opening_targets_set(
            by=None,
            year=year,
            city=None,
            departments={code: max(5, round(n * 1.2)) for code, n in open_now.items()},
        )
    return created
