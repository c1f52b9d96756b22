"""The `citydata` console script: every management command of the platform under one name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["citydata", *(sys.argv[1:] if argv is None else argv)])
