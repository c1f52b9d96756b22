"""The inspection checks (R6.2) as registered plug-ins, the way the privacy detectors are registered.

A check is a function of a `Subject` (one dataset with its fields, resources and current data version) that
returns the problems it sees. It is registered with a code, a family, a default severity, a Chinese title,
an explanation of why it matters and a suggested fix; pages, the API and docs/quality.md read them from
`CHECKS`. Content and privacy checks read the version's profile (`quality.profile`), computed once per
version by vectorised DuckDB queries; the service check reads the probe history (`quality.probes`).
Add a check by writing a function in one of the family modules and decorating it with `@check(...)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils import timezone

from citydata.quality.models import SEVERITY_ORDER

logger = logging.getLogger("citydata.quality")


@dataclass
class Problem:
    """What a check saw: a message in the user's language, machine-readable details, optionally a severity
    other than the check's default (a stale dataset is worse the longer it is stale)."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None


@dataclass
class Subject:
    """One dataset as the checks see it. Build it with `Subject.of(dataset)`; the profile is computed lazily."""

    dataset: Any
    fields: list[Any]
    resources: list[Any]
    version: Any | None
    now: dt.datetime

    @classmethod
    def of(cls, dataset, *, now: dt.datetime | None = None) -> Subject:
        from citydata.datastore.models import DataVersion

        version = DataVersion.objects.filter(dataset=dataset, is_current=True).defer("bad_rows").first()
        return cls(
            dataset=dataset,
            fields=list(dataset.fields.all()),
            resources=list(dataset.resources.all()),
            version=version,
            now=now or timezone.now(),
        )

    profile_error: str = ""

    @cached_property
    def profile(self):
        """The current version's `VersionProfile`, or None when the dataset has no data on the platform or its
        file cannot be read (then `profile_error` says why, for the records-API check)."""
        if self.version is None or not self.version.data_key:
            return None
        from citydata.quality import profile

        try:
            return profile.for_version(self.version, self.fields)
        except Exception as exc:  # a missing or unreadable file is a finding, not a crash of the inspection
            logger.warning("profile of version %s failed: %s", self.version.pk, exc)
            self.profile_error = str(exc)[:300] or exc.__class__.__name__
            return None


CheckFn = Callable[[Subject], list[Problem]]


@dataclass(frozen=True)
class Check:
    code: str
    family: str
    severity: str
    title: Any
    explanation: Any
    fix: Any
    run: CheckFn

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "family": self.family,
            "severity": self.severity,
            "title": str(self.title),
            "explanation": str(self.explanation),
            "fix": str(self.fix),
        }


CHECKS: dict[str, Check] = {}


def check(
    *, code: str, family: str, severity: str, title: Any, explanation: Any, fix: Any
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check `code`."""

    def register(fn: CheckFn) -> CheckFn:
        if code in CHECKS:
            raise ValueError(f"quality check {code!r} is registered twice")
        CHECKS[code] = Check(code, family, severity, title, explanation, fix, fn)
        return fn

    return register


def get(code: str) -> Check | None:
    _load()
    return CHECKS.get(code)


def all_checks() -> list[Check]:
    _load()
    return list(CHECKS.values())


def _load() -> None:
    # The family modules register their checks on import.
    from citydata.quality.checks import content, formats, metadata, privacy, service, timeliness  # noqa: F401


@dataclass
class Result:
    """One check's verdict on one dataset: no problems means it passes."""

    check: Check
    problems: list[Problem]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def severity(self) -> str:
        levels = [p.severity or self.check.severity for p in self.problems] or [self.check.severity]
        return min(levels, key=lambda s: SEVERITY_ORDER.get(s, 9))

    @property
    def message(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0].message
        return "；".join(p.message.rstrip("。") for p in self.problems) + "。"

    @property
    def details(self) -> dict[str, Any]:
        return {"items": [p.details for p in self.problems if p.details]}


def run(subject: Subject, codes: list[str] | None = None) -> list[Result]:
    """Run every registered check (or those in `codes`) on one subject."""
    results = []
    for item in all_checks():
        if codes is not None and item.code not in codes:
            continue
        results.append(Result(item, list(item.run(subject))))
    return results
