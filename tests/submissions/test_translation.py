"""The English translation covers every German UI string, and the compiled catalogue is current."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
# The project catalogue and the apps' own catalogues (makemessages fills the app's one
# with the strings of an app that has a locale folder).
CATALOGUES = sorted(
    [ROOT / "locale/en/LC_MESSAGES", *ROOT.glob("*/locale/en/LC_MESSAGES")],
)
SOURCES = [
    "templates",
    "submissions",
    "backoffice",
    "citizen",
    "forms_catalog",
    "municipalities",
    "thueringen_portal",
]
# Simple one-line literals: {% translate "…" %} in templates, _("…") / gettext("…") in Python.
PATTERNS = [
    re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"'),
    re.compile(r"{%\s*(?:translate|trans)\s+'([^']+)'"),
    re.compile(r'(?<![A-Za-z0-9_])(?:_|gettext|gettext_lazy|pgettext)\(\s*"([^"\\]+)"\s*[,)]'),
]


def source_strings() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".html", ".txt", ".py"} or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in PATTERNS:
                found.update(pattern.findall(text))
    return found


def test_every_translatable_string_has_an_english_translation():
    strings = source_strings()
    assert len(strings) > 200
    with translation.override("en"):
        missing = sorted(s for s in strings if translation.gettext(s) == s and s not in IDENTICAL)
    assert missing == [], "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


# Strings that are the same in English.
IDENTICAL = {"Thüringen-Portal", "Version", "Status", "Name", "Website", "Webhook", "Cookies",
             "(optional)", "Definition", "Definition (JSON)", "Webhook-URL", "English", "AGS",
             "Details", "Median", "Start", "FIT-Connect",
             "Web", "Web: %(value)s"}  # fmt: skip


@pytest.mark.parametrize("folder", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogue_is_not_older_than_the_translations(folder):
    po = (folder / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po
    catalogue = gettext.GNUTranslations((folder / "django.mo").open("rb"))
    entries = re.findall(r'^(?:msgctxt "(.+)"\n)?msgid "(.+)"\nmsgstr "(.+)"$', po, re.M)
    assert entries

    def unescape(text: str) -> str:
        return text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")

    for context, msgid, msgstr in entries:
        msgid, msgstr = unescape(msgid), unescape(msgstr)
        if context:
            assert catalogue.pgettext(unescape(context), msgid) == msgstr, (context, msgid)
        else:
            assert catalogue.gettext(msgid) == msgstr, msgid


def test_django_uses_the_translation():
    with translation.override("en"):
        assert translation.gettext("Antrag starten") == "Start application"
    with translation.override("de"):
        assert translation.gettext("Antrag starten") == "Antrag starten"
