"""API schemas of the quality app."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from citydata.api_types import Text


class FamilyScoreOut(Schema):
    family: str
    label: str
    weight: int
    score: int
    findings: int


class FindingOut(Schema):
    id: int
    check: str
    family: str
    family_label: str
    severity: str
    severity_label: str
    title: str
    message: str
    explanation: str
    fix: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    gain: float | None = Field(None, description="points the score gains when this finding alone is fixed")


class TrendPointOut(Schema):
    day: str
    score: int


class DatasetQualityOut(Schema):
    dataset: str
    title: str
    assessed: bool
    score: int | None
    grade: str
    computed_at: dt.datetime | None
    stars: int = Field(description="openness stars 0–5 of the best resource (ckanext-qa scale)")
    breakdown: list[FamilyScoreOut]
    findings: list[FindingOut] = Field(description="open findings, what to fix first first")
    trend: list[TrendPointOut]


class CheckOut(Schema):
    code: str
    family: str
    severity: str
    title: str
    explanation: str
    fix: str


class RunIn(Schema):
    scope: Literal["all", "department", "domain"] = "all"
    department: Text = ""
    domain: Text = ""
    create_tasks: bool = True


class RunDepartmentOut(Schema):
    department: str
    name: str
    high: int
    medium: int
    low: int
    tasks: int


class RunOut(Schema):
    id: int
    scope: str
    scope_label: str
    status: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    datasets_checked: int
    findings: int
    tasks_created: int
    by_department: list[RunDepartmentOut]


class TaskOut(Schema):
    id: int
    dataset: str
    department: str
    title: str
    description: str
    check: str
    source: str
    severity: str
    status: str
    status_label: str
    deadline: dt.datetime
    overdue: bool
    created_at: dt.datetime
    fixed_at: dt.datetime | None
    closed_at: dt.datetime | None
    recheck_message: str


class TaskPageOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class FixedIn(Schema):
    note: Text = Field("", max_length=2000)
