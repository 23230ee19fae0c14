"""Import commands against an empty database (no shared fixture in this module)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from municipalities.models import Gemeinde, Land, Office, Postcode
from tests.municipalities.conftest import POSTCODES, thueringen_lines, write_edition

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_bad_file_into_empty_database_creates_nothing(tmp_path):
    lines = thueringen_lines()
    lines[400] = lines[400][:20]
    with pytest.raises(CommandError, match="Zeile 401"):
        run("import_gv100ad", str(write_edition(tmp_path / "kaputt.txt", lines)))
    assert not Gemeinde.objects.exists()
    assert not Office.objects.exists()
    assert not Land.objects.exists()


def test_postcodes_before_gemeinden_are_refused_clearly():
    with pytest.raises(CommandError, match="zuerst import_gv100ad"):
        run("import_postcodes", str(POSTCODES))
    assert not Postcode.objects.exists()
