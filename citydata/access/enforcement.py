"""The one door to conditional data: a live grant of the caller that covers the dataset. Every reader of
the datastore (records, exports, SQL, charts, pages, streams) goes through `datastore.queries.readable`,
which calls `grant_for` for conditional datasets, so there is no second path to check."""

from __future__ import annotations

import ipaddress

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citydata.access.models import Grant, GrantStatus, GrantUsage
from citydata.errors import Forbidden, TooManyRequests


def _refuse(message, code: str, dataset) -> Forbidden:
    return Forbidden(message, code=code, details={"dataset": dataset.slug})


def _ip_allowed(grant: Grant, ip: str | None) -> bool:
    if not grant.ip_allowlist:
        return True
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(net, strict=False) for net in grant.ip_allowlist)


def grant_for(user, api_key, dataset, ip: str | None) -> tuple[Grant, list[str]]:
    """The grant through which `user` reads `dataset` now, and the fields it allows; Forbidden or
    TooManyRequests with a reason the caller can act on otherwise.

    With an API key, only that key's own grant counts (a personal key never reaches conditional data);
    in the browser, any live grant the signed-in user holds for the dataset."""
    required = _refuse(_("这是有条件开放数据，需在线申请并获得授权后才能获取。"), "grant_required", dataset)
    if user is None or not user.is_authenticated:
        raise required
    grants = Grant.objects.filter(holder=user, items__dataset=dataset).order_by("-id")
    if api_key is not None:
        grants = grants.filter(api_key=api_key)
    candidates = list(grants[:20])
    if not candidates:
        if api_key is not None and Grant.objects.filter(holder=user, items__dataset=dataset).exists():
            raise _refuse(
                _("请使用该授权的专用密钥调用有条件开放数据，个人密钥不能访问。"), "grant_key_required", dataset
            )
        raise required
    today = timezone.localdate()
    live = [g for g in candidates if g.is_live(today)]
    if not live:
        latest = candidates[0]
        if latest.status == GrantStatus.REVOKED:
            raise _refuse(_("您的数据授权已被撤销：%(r)s") % {"r": latest.status_reason}, "grant_revoked", dataset)
        if latest.status == GrantStatus.SUSPENDED:
            raise _refuse(
                _("您的数据授权已暂停：%(r)s") % {"r": latest.status_reason.removeprefix("[report]").strip()},
                "grant_suspended",
                dataset,
            )
        if latest.starts_on > today:
            raise _refuse(_("授权自 %(d)s 起生效。") % {"d": latest.starts_on}, "grant_not_started", dataset)
        raise _refuse(_("您的数据授权已于 %(d)s 到期，请申请续期。") % {"d": latest.ends_on}, "grant_expired", dataset)
    allowed = [g for g in live if _ip_allowed(g, ip)]
    if not allowed:
        raise _refuse(_("当前 IP 地址不在该授权的白名单内。"), "ip_not_allowed", dataset)
    grant = allowed[0]
    used = GrantUsage.objects.filter(grant=grant, day=today).values_list("rows", flat=True).first() or 0
    if used >= grant.daily_rows:
        raise TooManyRequests(
            _("已达到该授权每日 %(n)s 行的调用上限，请明天再试或联系数据提供部门调整。") % {"n": grant.daily_rows},
            code="grant_quota_exceeded",
            details={"dataset": dataset.slug, "daily_rows": grant.daily_rows},
        )
    from citydata.datastore import metering

    metering.check(
        metering.Caller(f"grant:{grant.pk}", grant.rate_per_minute, user.pk, getattr(api_key, "pk", None), ip)
    )
    if grant.first_used_at is None:
        _first_use(grant)
    fields = next(item.fields for item in grant.items.all() if item.dataset_id == dataset.pk)
    return grant, list(fields)


def _first_use(grant: Grant) -> None:
    """The first read moves the application from 已授权 to 使用中."""
    from django.db import transaction

    from citydata.access.models import Application, Event, State

    with transaction.atomic():
        first = Grant.objects.filter(pk=grant.pk, first_used_at__isnull=True).update(first_used_at=timezone.now())
        application_id = grant.application_id
        if (
            first
            and application_id is not None
            and Application.objects.filter(pk=application_id, state=State.GRANTED).update(state=State.IN_USE)
        ):
            Event.objects.create(
                application_id=application_id,
                from_state=State.GRANTED,
                to_state=State.IN_USE,
                note=str(_("首次调用数据")),
            )


def restrict_columns(columns: list[dict], point: dict, fields: list[str]) -> tuple[list[dict], dict]:
    """Only the granted fields: other columns are neither returned nor filterable nor sortable."""
    allowed = set(fields)
    kept = [c for c in columns if c["name"] in allowed]
    keeps_point = point and all(point.get(axis) in allowed for axis in ("lng", "lat"))
    return kept, (point if keeps_point else {})
