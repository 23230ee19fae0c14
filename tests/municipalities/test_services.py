"""Applying GV100AD editions, postcodes and the responsibility seed to the database."""

from __future__ import annotations

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from forms_catalog.models import Service
from municipalities.importers.gv100ad import parse_gv100ad
from municipalities.models import (
    DataEdition,
    Gemeinde,
    Gemeindeverband,
    Kreis,
    Land,
    Office,
    Postcode,
    ResponsibilityException,
    ResponsibilityRule,
)
from municipalities.selectors import responsible_office
from municipalities.services import gv100ad_apply
from submissions.models import Draft
from tests.factories import FormVersionFactory, SubmissionFactory
from tests.municipalities.conftest import (
    CATALOGUE_SLUGS,
    GV100AD,
    POSTCODES,
    thueringen_lines,
    write_edition,
)

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[dict]]:
    """Every column of every row of the official data and offices."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Land, Kreis, Gemeindeverband, Gemeinde, Office, DataEdition)
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_creates_all_units_and_default_offices(thueringen):
    current = Gemeinde.objects.current()
    assert current.count() == 605
    assert Kreis.objects.count() == 22
    kinds = Gemeindeverband.Kind
    assert Gemeindeverband.objects.filter(kind=kinds.VERWALTUNGSGEMEINSCHAFT).count() == 42
    assert Gemeindeverband.objects.filter(kind=kinds.ERFUELLENDE_GEMEINDE).count() == 38
    assert Gemeindeverband.objects.filter(kind=kinds.VERBANDSFREI).count() == 109
    # 22 Kreise + 189 Verbände, the 5 kreisfreie Städte being one office for both.
    assert Office.objects.count() == 206
    assert not Kreis.objects.filter(office__isnull=True).exists()
    assert not Gemeindeverband.objects.filter(office__isnull=True).exists()


@pytest.mark.parametrize(
    ("lookup", "name"),
    [
        ({"kreis__key": "16070"}, "Landratsamt Ilm-Kreis"),
        ({"kreis__key": "16051"}, "Stadtverwaltung Erfurt"),
        ({"verband__key": "160510000"}, "Stadtverwaltung Erfurt"),
        ({"verband__key": "160615001"}, "VG Lindenberg/Eichsfeld"),
        ({"verband__key": "160615051"}, "Gemeindeverwaltung Uder"),
        ({"verband__key": "160745052"}, "Stadtverwaltung Eisenberg"),
        ({"verband__key": "160665050"}, "Stadtverwaltung Meiningen"),
        ({"verband__key": "160610074"}, "Gemeindeverwaltung Niederorschel"),
        ({"verband__key": "160640046"}, "Stadtverwaltung Mühlhausen/Thüringen"),
    ],
)
def test_default_office_names(thueringen, lookup, name):
    assert Office.objects.get(**lookup).name == name


def test_rerun_of_the_same_file_changes_nothing(thueringen):
    before = snapshot()
    counts = {name: len(rows) for name, rows in before.items()}
    output = run("import_gv100ad", str(GV100AD))
    assert "Keine Änderungen" in output
    after = snapshot()
    assert {name: len(rows) for name, rows in after.items()} == counts
    # Only the edition's bookkeeping timestamp may move.
    for rows in (before["DataEdition"], after["DataEdition"]):
        for row in rows:
            row.pop("imported_at")
    assert after == before


def test_rerun_never_overwrites_staff_edits_of_offices(thueringen):
    office = Office.objects.get(kreis__key="16070")
    office.name = "Landratsamt Ilm-Kreis, Fachdienst Bürgerservice"
    office.email = "buergerservice@example.org"
    office.street = "Ritterstraße 14"
    office.save()
    run("import_gv100ad", str(GV100AD))
    office.refresh_from_db()
    assert office.name == "Landratsamt Ilm-Kreis, Fachdienst Bürgerservice"
    assert office.email == "buergerservice@example.org"
    assert Office.objects.filter(kreis__key="16070").count() == 1


def test_deleted_default_office_is_created_again(thueringen):
    Office.objects.filter(verband__key="160615051").delete()
    output = run("import_gv100ad", str(GV100AD))
    assert "'office': 1" in output
    assert Office.objects.get(verband__key="160615051").name == "Gemeindeverwaltung Uder"


def test_bad_file_changes_nothing_and_names_the_line(thueringen, tmp_path):
    lines = thueringen_lines()
    lines[-1] = lines[-1][:50]
    path = write_edition(tmp_path / "kaputt.txt", lines)
    before = snapshot()
    with pytest.raises(CommandError, match=rf"Zeile {len(lines)}: .*nichts geändert"):
        run("import_gv100ad", str(path))
    assert snapshot() == before


def test_older_edition_is_refused(thueringen, tmp_path):
    older = [line[:2] + "20241231" + line[10:] for line in thueringen_lines()]
    before = snapshot()
    with pytest.raises(CommandError, match=r"neuere Stand 30\.11\.2025"):
        run("import_gv100ad", str(write_edition(tmp_path / "alt.txt", older)))
    assert snapshot() == before


def test_edition_that_would_dissolve_a_kreis_is_refused_without_force(thueringen, tmp_path):
    day = timezone.localdate().strftime("%Y%m%d")
    lines = [line[:2] + day + line[10:] for line in thueringen_lines() if line[10:15] != "16077"]
    path = write_edition(tmp_path / "ohne-altenburg.txt", lines)
    with pytest.raises(CommandError, match="1 Kreis"):
        run("import_gv100ad", str(path))
    assert Gemeinde.objects.current().count() == 605


def merged_edition(tmp_path, day: datetime.date):
    """Teistungen and Ecklingerode (VG Lindenberg/Eichsfeld) merge into 'Neu-Lindenberg'."""
    stamp = day.strftime("%Y%m%d")
    lines = []
    for line in thueringen_lines():
        if line[10:18] in {"16061114", "16061026"} and line.startswith("60"):
            if line[10:18] == "16061114":
                new = line[:15] + "901" + line[18:22] + "Neu-Lindenberg".ljust(50) + line[72:]
                lines.append(new)
            continue
        lines.append(line)
    return write_edition(tmp_path / "merged.txt", [line[:2] + stamp + line[10:] for line in lines])


def test_merger_retires_old_keys_adds_a_routable_new_one_and_keeps_references(thueringen, tmp_path):
    teistungen = Gemeinde.objects.get(ags="16061114")
    ecklingerode = Gemeinde.objects.get(ags="16061026")
    assert ecklingerode.verband_id == teistungen.verband_id
    version = FormVersionFactory(service=Service.objects.get(slug="hundeanmeldung"))
    submission = SubmissionFactory(form_version=version, gemeinde=teistungen)
    draft = Draft.objects.create(
        token_hash=hashlib.sha256(b"resume").hexdigest(),
        service=version.service,
        form_version=version,
        gemeinde=ecklingerode,
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    day = timezone.localdate()

    output = run("import_gv100ad", str(merged_edition(tmp_path, day)))

    assert "'gemeinde': 2" in output  # retired
    for old in (teistungen, ecklingerode):
        old.refresh_from_db()
        assert old.valid_to == day - datetime.timedelta(days=1)
    new = Gemeinde.objects.get(ags="16061901")
    assert new.name == "Neu-Lindenberg"
    assert new.valid_from == day
    assert new.verband_id == teistungen.verband_id
    assert Gemeinde.objects.current().count() == 604
    assert set(Gemeinde.objects.current().values_list("ags", flat=True)) >= {"16061901"}
    assert not Gemeinde.objects.current().filter(ags__in=["16061114", "16061026"]).exists()
    # Existing references still point at the retired Gemeinden.
    submission.refresh_from_db()
    draft.refresh_from_db()
    assert submission.gemeinde_id == teistungen.pk
    assert draft.gemeinde_id == ecklingerode.pk
    # The new Gemeinde is routable for every catalogue service.
    for slug in CATALOGUE_SLUGS:
        office = responsible_office(service=Service.objects.get(slug=slug), gemeinde=new)
        expected = (
            "Landratsamt Eichsfeld"
            if slug in {"gewerbe-anmeldung", "wohngeld-mietzuschuss", "bauantrag"}
            else "VG Lindenberg/Eichsfeld"
        )
        assert office.name == expected, slug
    run("check_routing")
    # Re-running the new edition is a no-op; the old one is now refused.
    assert "Keine Änderungen" in run("import_gv100ad", str(merged_edition(tmp_path, day)))
    with pytest.raises(CommandError, match="neuere Stand"):
        run("import_gv100ad", str(GV100AD))


def test_apply_is_one_transaction(thueringen, monkeypatch):
    """A failure late in the apply step (after Gemeinden were written) rolls everything back."""
    edition = parse_gv100ad(GV100AD)
    day = timezone.localdate()
    edition.gebietsstand = day
    del edition.gemeinden["16061114"]
    before = snapshot()
    monkeypatch.setattr(
        "municipalities.services._create_default_offices",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("disk full")),
    )
    with pytest.raises(RuntimeError):
        gv100ad_apply(edition=edition, sha256="x")
    assert snapshot() == before


# --- Postcodes -------------------------------------------------------------------


def test_postcodes_are_imported_idempotently(thueringen):
    assert Postcode.objects.count() == 655
    assert Postcode.objects.values("code").distinct().count() == 216
    before = list(Postcode.objects.order_by("pk").values())
    assert "0 neu, 0 entfernt, 655 unverändert" in run("import_postcodes", str(POSTCODES))
    assert list(Postcode.objects.order_by("pk").values()) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("plz,ags\n07743,16053000\n0774,16053000\n", "Zeile 3: Postleitzahl"),
        ("plz,ags\n07743,16053000\n07743,99999999\n", "Zeile 3: Gemeinde 99999999 ist unbekannt"),
        ("plz,ags\n07743,1605300<script>\n", "Zeile 2: AGS"),
        ("postleitzahl;ags\n07743;16053000\n", "Zeile 1: Kopfzeile"),
        ("plz,ags\n07743,16053000,zuviel\n", "Zeile 2: falsche Anzahl"),
        ("plz,ags\n", "keine Postleitzahlen"),
    ],
)
def test_bad_postcode_file_changes_nothing(thueringen, tmp_path, content, message):
    path = tmp_path / "plz.csv"
    path.write_text(content, encoding="utf-8")
    before = list(Postcode.objects.order_by("pk").values())
    with pytest.raises(CommandError, match=message):
        run("import_postcodes", str(path))
    assert list(Postcode.objects.order_by("pk").values()) == before


def test_postcode_file_with_invalid_utf8_is_refused(thueringen, tmp_path):
    path = tmp_path / "plz.csv"
    path.write_bytes(b"plz,ags\n07743,16053000\n\xff\xfe,16053000\n")
    with pytest.raises(CommandError, match="Zeile 3: kein gültiges UTF-8"):
        run("import_postcodes", str(path))


# --- Responsibility seed ------------------------------------------------------


def test_seed_is_idempotent_and_keeps_admin_edits(thueringen):
    rules = ResponsibilityRule.objects.count()
    exceptions = ResponsibilityException.objects.count()
    assert rules == 6
    assert exceptions == 8
    rule = ResponsibilityRule.objects.get(service__slug="reisepass")
    rule.legal_basis = "geändert im Admin"
    rule.save()
    ResponsibilityException.objects.filter(
        service__slug="wohngeld-mietzuschuss", gemeinde__ags="16073077"
    ).update(valid_to=datetime.date(2025, 12, 31))
    output = run("seed_responsibility")
    assert "0 Leistungen, 0 Regeln, 0 Ausnahmen" in output
    rule.refresh_from_db()
    assert rule.legal_basis == "geändert im Admin"
    assert ResponsibilityException.objects.get(gemeinde__ags="16073077").valid_to is not None


def test_seed_creates_missing_services_by_slug(thueringen):
    assert set(Service.objects.values_list("slug", flat=True)) >= set(CATALOGUE_SLUGS)
    assert Service.objects.get(slug="gewerbe-anmeldung").leistungsschluessel == "99050012104000"
    assert Service.objects.get(slug="bauantrag").leistungsschluessel == ""


def test_seed_with_unknown_gemeinde_is_refused(thueringen, tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(
        '{"services": [{"slug": "bauantrag", "level": "kreis", '
        '"exceptions": [{"ags": "16099999", "office": "own_administration"}]}]}'
    )
    with pytest.raises(CommandError, match="Gemeinde '16099999' ist unbekannt"):
        run("seed_responsibility", str(path))
    path.write_text("{nicht json")
    with pytest.raises(CommandError, match="nicht lesbar"):
        run("seed_responsibility", str(path))
