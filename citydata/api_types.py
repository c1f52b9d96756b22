"""Input types shared by the API schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _no_control_characters(value: str) -> str:
    # NUL and other C0 controls are never meaningful in names, codes or identifiers, and
    # PostgreSQL refuses NUL in text columns: reject them here as a 422 instead.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
