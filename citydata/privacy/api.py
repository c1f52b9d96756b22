"""Privacy API: a version's publication gate (findings, plans, k-anonymity), masking it, marking quasi-identifiers,
the operator's override, and the operator's dashboard. The same queries and services as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema

from citydata.accounts import authz
from citydata.api_auth import AUTH
from citydata.privacy import queries, services

router = Router(tags=["privacy"])


class StepIn(Schema):
    column: str
    strategy: str
    params: dict[str, Any] = {}


class MaskIn(Schema):
    suggested: bool = False
    plan: list[StepIn] = []


class RiskIn(Schema):
    quasi_identifiers: list[str]
    sensitive: str = ""


class OverrideIn(Schema):
    reason: str


class GateOut(Schema):
    version: int
    gated: bool
    blocked: bool
    overridden: bool
    override_reason: str
    override_at: dt.datetime | None
    scanned_at: dt.datetime | None
    rows: int
    blocking: list[dict]
    warnings: list[dict]
    plan: list[dict]
    suggested: list[dict]
    quasi_identifiers: list[str]
    sensitive_column: str
    k: int | None
    l: int | None  # noqa: E741 - the measure's name
    min_k: int
    min_l: int
    risk_blocked: bool
    smallest_classes: list[dict]
    proposal: dict
    columns: list[dict]


class DashboardOut(Schema):
    open: int
    overdue: int
    by_department: list[dict]
    runs: list[dict]
    trend: list[dict]


PATH = "/datasets/{slug}/versions/{number}/privacy"


@router.get(PATH, response=GateOut, auth=AUTH, summary="A version's privacy check: findings (masked), plans, k")
def get_gate(request, slug: str, number: int):
    return queries.version_gate(queries.version_for_staff(request.user, slug, number))


@router.post(PATH + "/mask", response=GateOut, auth=AUTH, summary="Mask a version (the suggested plan or a plan)")
def mask(request, slug: str, number: int, body: MaskIn):
    version = queries.version_for_staff(request.user, slug, number)
    if body.suggested:
        services.version_mask_suggested(by=request.user, version=version)
    else:
        services.version_mask(by=request.user, version=version, plan=[s.dict() for s in body.plan])
    version.refresh_from_db()
    return queries.version_gate(version)


@router.post(PATH + "/risk", response=GateOut, auth=AUTH, summary="Mark quasi-identifiers and measure k and l")
def set_risk(request, slug: str, number: int, body: RiskIn):
    version = queries.version_for_staff(request.user, slug, number)
    services.quasi_identifiers_set(
        by=request.user, version=version, columns=body.quasi_identifiers, sensitive=body.sensitive
    )
    return queries.version_gate(version)


@router.post(PATH + "/proposal", response=GateOut, auth=AUTH, summary="Apply the proposed generalisation")
def apply_proposal(request, slug: str, number: int):
    version = queries.version_for_staff(request.user, slug, number)
    services.version_apply_proposal(by=request.user, version=version)
    version.refresh_from_db()
    return queries.version_gate(version)


@router.post(PATH + "/override", response=GateOut, auth=AUTH, summary="Operator: let a version through the gate")
def override(request, slug: str, number: int, body: OverrideIn):
    version = queries.version_for_staff(request.user, slug, number)
    services.gate_override(by=request.user, version=version, reason=body.reason)
    return queries.version_gate(version)


@router.get("/privacy/dashboard", response=DashboardOut, auth=AUTH, summary="Operator: periodic scans and tasks")
def dashboard(request):
    authz.authorize(request.user, "privacy.dashboard")
    return queries.dashboard()
