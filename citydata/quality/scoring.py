"""How findings become scores. A dataset scores 0–100: each family starts at 100 and loses points per open
finding by severity; the dataset score is the families' weighted mean. Department and city scores are the
mean of their published datasets' scores, with the same breakdown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from citydata.quality.models import Family, Severity

WEIGHTS: dict[str, int] = {
    Family.METADATA: 20,
    Family.FORMAT: 15,
    Family.SERVICE: 15,
    Family.CONTENT: 25,
    Family.TIMELINESS: 15,
    Family.PRIVACY: 10,
}
PENALTY: dict[str, int] = {Severity.HIGH: 60, Severity.MEDIUM: 30, Severity.LOW: 10}


@dataclass(frozen=True)
class Scored:
    """A finding as the score sees it."""

    family: str
    severity: str


def _family_score(items: Iterable[Scored]) -> int:
    return max(0, 100 - sum(PENALTY.get(i.severity, 0) for i in items))


def dataset_score(findings: list[Scored]) -> tuple[int, dict[str, Any]]:
    """(score, breakdown) of one dataset from its open findings."""
    families = []
    total = 0.0
    for family, weight in WEIGHTS.items():
        mine = [f for f in findings if f.family == family]
        score = _family_score(mine)
        total += weight * score
        families.append({"family": str(family), "weight": weight, "score": score, "findings": len(mine)})
    return round(total / 100), {"families": families}


def gain(finding: Scored, findings: list[Scored]) -> float:
    """Points the dataset score would gain if this finding alone were fixed: what to fix first."""
    same = [f for f in findings if f.family == finding.family]
    rest = list(same)
    rest.remove(finding)
    return round(WEIGHTS.get(finding.family, 0) * (_family_score(rest) - _family_score(same)) / 100, 1)


def mean(scores: list[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    """The mean score and mean family scores of several datasets (100 with no dataset: nothing is wrong yet)."""
    if not scores:
        return 100, {
            "families": [{"family": str(f), "weight": w, "score": 100, "findings": 0} for f, w in WEIGHTS.items()],
            "datasets": 0,
        }
    families = []
    for index, (family, weight) in enumerate(WEIGHTS.items()):
        values = [b["families"][index] for _s, b in scores]
        families.append(
            {
                "family": str(family),
                "weight": weight,
                "score": round(sum(v["score"] for v in values) / len(values)),
                "findings": sum(v["findings"] for v in values),
            }
        )
    return round(sum(s for s, _b in scores) / len(scores)), {"families": families, "datasets": len(scores)}
