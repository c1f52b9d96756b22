"""`python -m citydata.docs`: rewrite the generated settings table in docs/configuration.md."""

from __future__ import annotations

import io
import os
import re

from citydata.config import BASE_DIR

DOC = BASE_DIR / "docs" / "configuration.md"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydata.settings")
    import django
    from django.core.management import call_command

    django.setup()
    out = io.StringIO()
    call_command("settings_doc", stdout=out)
    text = DOC.read_text()
    text = re.sub(
        r"(<!-- generated: begin -->\n).*?(<!-- generated: end -->)",
        lambda m: m.group(1) + out.getvalue() + m.group(2),
        text,
        flags=re.S,
    )
    DOC.write_text(text)


if __name__ == "__main__":
    main()
