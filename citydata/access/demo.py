"""Demo content of the access app, loaded by `citydata demo` after the catalog and its data. Idempotent."""

from __future__ import annotations


def load() -> dict[str, int]:
    return {}
