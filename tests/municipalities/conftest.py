"""The real shipped data, imported once per test module (inside a transaction
that is rolled back afterwards, so other modules see an empty database)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "municipalities" / "data"
GV100AD = DATA / "GV100AD_30112025.txt"
POSTCODES = DATA / "thueringen_plz_gemeinde.csv"
ORTSTEILE = DATA / "thueringen_ortsteile.csv"
CATALOGUE_SLUGS = [
    "gewerbe-anmeldung",
    "wohngeld-mietzuschuss",
    "hundeanmeldung",
    "bauantrag",
    "reisepass",
    "veranstaltungsanmeldung",
]


@pytest.fixture(scope="module")
def thueringen(django_db_setup, django_db_blocker):
    """All 605 Gemeinden, their offices, postcodes and the seeded responsibility."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("import_gv100ad", str(GV100AD), stdout=StringIO(), stderr=StringIO())
            call_command("import_postcodes", str(POSTCODES), stdout=StringIO())
            call_command("import_ortsteile", str(ORTSTEILE), stdout=StringIO())
            call_command("seed_responsibility", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def thueringen_lines() -> list[str]:
    """The Land-16 records of the shipped file, without the rest of Germany."""
    return [
        line for line in GV100AD.read_text(encoding="utf-8").splitlines() if line[10:12] == "16"
    ]


def write_edition(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
