"""`python -m citydata.i18n compile`: compile the English catalogue without GNU gettext (uses polib)."""

from __future__ import annotations

import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"


def compile_catalogues() -> list[Path]:
    import polib

    written = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        catalogue = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] != ["compile"]:
        sys.exit("usage: python -m citydata.i18n compile")
    for path in compile_catalogues():
        print(f"wrote {path.relative_to(LOCALE.parent.parent)}")  # noqa: T201
