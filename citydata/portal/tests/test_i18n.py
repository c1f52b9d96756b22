"""The English catalogue is complete and its compiled form matches the source."""

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"


def test_every_message_has_an_english_translation():
    catalogue = polib.pofile(str(PO))
    assert not catalogue.untranslated_entries(), [e.msgid for e in catalogue.untranslated_entries()][:10]
    assert not catalogue.fuzzy_entries(), [e.msgid for e in catalogue.fuzzy_entries()][:10]


def test_compiled_catalogue_matches_the_source():
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in polib.pofile(str(PO))
        if not e.obsolete
    }
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in polib.mofile(str(MO))
        if e.msgid
    }
    assert source == compiled, "run `make messages` to recompile django.mo"


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not os.environ.get("CITYDATA_REQUIRE_BROWSER"),
    reason="GNU gettext is not installed (.ci/run installs it)",
)
def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path, settings, monkeypatch):
    # Extract from a copy of the source, so the real catalogue is never touched by the test.
    copy = tmp_path / "citydata"
    shutil.copytree(LOCALE.parent, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    settings.LOCALE_PATHS = []
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    new = [e.msgid for e in fresh.untranslated_entries()] + [e.msgid for e in fresh.fuzzy_entries()]
    assert not new, f"strings without an English translation (run `make messages`): {new[:10]}"
