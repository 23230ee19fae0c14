"""Ortsteile and former Gemeinden: the search finds a Gemeinde by any name people
use and says why; the CSV import refuses hostile files whole; the admin saves
invalidate the search index."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from municipalities.models import Gemeinde, GemeindeAlias
from municipalities.selectors import search_gemeinden, search_gemeinden_hits
from municipalities.services import (
    ImportRefused,
    gemeinde_aliases_import,
    municipal_data_changed,
)
from tests.municipalities.conftest import POSTCODES

pytestmark = pytest.mark.django_db

RHOENBLICK, ERFURT, LANGENWETZENDORF = "16066093", "16051000", "16076039"


def first_hit(query: str):
    hits = search_gemeinden_hits(query=query)
    assert hits, query
    return hits[0]


@pytest.mark.parametrize(
    ("query", "ags", "kind", "matched"),
    [
        ("Wölfershausen", RHOENBLICK, "ortsteil", "Wölfershausen"),
        ("Woelfershausen", RHOENBLICK, "ortsteil", "Wölfershausen"),
        ("wolfersh", RHOENBLICK, "ortsteil", "Wölfershausen"),
        ("Hochheim", ERFURT, "ortsteil", "Hochheim"),
        ("Kühdorf", LANGENWETZENDORF, "former", "Kühdorf"),
        ("Kuehdorf", LANGENWETZENDORF, "former", "Kühdorf"),
        ("Schönstedt", "16064076", "former", "Schönstedt"),
        ("Wünschendorf/Elster", "16076094", "former", "Wünschendorf/Elster"),
    ],
)
def test_an_ortsteil_or_former_name_finds_its_gemeinde_first(thueringen, query, ags, kind, matched):
    hit = first_hit(query)
    assert (hit.gemeinde.ags, hit.alias_kind, hit.matched_name) == (ags, kind, matched)


def test_exact_alias_comes_before_a_fuzzy_gemeinde_name(thueringen):
    # Before: only "Osthausen-Wülfershausen" (Ilm-Kreis), one letter off, was found.
    hits = search_gemeinden_hits(query="Wölfershausen")
    names = [h.gemeinde.name for h in hits]
    assert names[0] == "Rhönblick"
    assert "Osthausen-Wülfershausen" in names[1:]
    assert hits[names.index("Osthausen-Wülfershausen")].alias_kind == ""


def test_a_gemeinde_is_listed_once_and_by_its_own_name_first(thueringen):
    erfurt = Gemeinde.objects.get(ags=ERFURT)
    GemeindeAlias.objects.create(name="Erfurt-Mitte", gemeinde=erfurt)
    municipal_data_changed()
    hits = search_gemeinden_hits(query="Erfurt")
    assert [h.gemeinde.ags for h in hits].count(ERFURT) == 1
    assert hits[0].gemeinde.ags == ERFURT and hits[0].alias_kind == ""
    # The plain selector keeps its contract: Gemeinden, each once.
    assert [g.ags for g in search_gemeinden(query="Hochheim")][:1] == [ERFURT]


def test_rodeberg_leads_to_both_successors(thueringen):
    found = {h.gemeinde.ags for h in search_gemeinden_hits(query="Rodeberg") if h.alias_kind}
    assert found == {"16061118", "16064046"}


def test_expired_alias_and_alias_of_a_dissolved_gemeinde_are_not_found(thueringen):
    alias = GemeindeAlias.objects.get(name="Hochheim")
    alias.valid_to = datetime.date(2000, 1, 1)
    alias.save()
    municipal_data_changed()
    assert all(h.alias_kind == "" for h in search_gemeinden_hits(query="Hochheim"))


def test_search_stays_one_query_with_aliases(thueringen, django_assert_max_num_queries):
    search_gemeinden_hits(query="warm-up")
    with django_assert_max_num_queries(1):
        search_gemeinden_hits(query="Wölfershausen")


def test_former_names_seeding_is_idempotent_and_keeps_staff_edits(thueringen):
    formers = GemeindeAlias.objects.filter(kind=GemeindeAlias.Kind.FORMER)
    assert formers.count() == 10  # nine names, Rodeberg with two successors
    edited = formers.get(name="Kühdorf")
    edited.valid_to = datetime.date(2030, 1, 1)
    edited.save()
    call_command("import_postcodes", str(POSTCODES), stdout=StringIO())
    assert formers.count() == 10
    assert formers.get(name="Kühdorf").valid_to == datetime.date(2030, 1, 1)


# --- The CSV import --------------------------------------------------------------


def write(tmp_path, content: bytes):
    path = tmp_path / "ortsteile.csv"
    path.write_bytes(content)
    return path


def test_import_adds_new_names_and_is_idempotent(thueringen, tmp_path):
    path = write(tmp_path, b"name,ags\nMarbach,16051000\n  Bischleben  ,16051000\n")
    assert gemeinde_aliases_import(path=path).created == 2
    again = gemeinde_aliases_import(path=path)
    assert (again.created, again.unchanged) == (0, 2)
    assert first_hit("Bischleben").gemeinde.ags == ERFURT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,ags\nMöbisburg,16051000\n".encode("latin-1"), "kein gültiges UTF-8"),
        (b"\xff\xfe" + "name,ags\n".encode("utf-16-le"), "kein gültiges UTF-8"),
        (b"ags,name\n16051000,Marbach\n", "Kopfzeile"),
        (b"", "Kopfzeile"),
        (b"name,ags\n", "keine Namen"),
        (b"name,ags\nMarbach,99999999\n", "AGS 99999999 ist unbekannt"),
        (b"name,ags\nMarbach,1605\n", "ist ungültig"),
        (
            b"name,ags\nMarbach,16051000\nmarbach,16051000\n",
            "Zeile 3: marbach steht schon in Zeile 2",
        ),
        (b"name,ags\n,16051000\n", "Name fehlt"),
        (b"name,ags\nA\x07B,16051000\n", "Steuerzeichen"),
        (("name,ags\n" + "x" * 101 + ",16051000\n").encode(), "zu lang"),
        (b"name,ags\nMarbach,16051000,extra\n", "falsche Anzahl Spalten"),
        (b"name,ags\n" + b"Ort,16051000\n" * 200_000, "größer als 2 MB"),
    ],
)
def test_hostile_files_are_refused_whole(thueringen, tmp_path, content, message):
    good_first = b"name,ags\nNeuer Ort,16051000\n"
    before = GemeindeAlias.objects.count()
    with pytest.raises(ImportRefused, match=message):
        gemeinde_aliases_import(path=write(tmp_path, content))
    # Nothing half-imported: a good row followed by a bad one changes nothing either.
    if content.startswith(b"name,ags\n") and 9 < len(content) < 1000:
        with pytest.raises(ImportRefused):
            gemeinde_aliases_import(path=write(tmp_path, good_first + content[9:]))
    assert GemeindeAlias.objects.count() == before


def test_many_errors_are_listed_with_their_lines_and_capped(thueringen, tmp_path):
    path = write(tmp_path, b"name,ags\n" + b"Ort,00000000\n" * 100)
    with pytest.raises(ImportRefused) as refused:
        gemeinde_aliases_import(path=path)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith("Zeile 2:") and len(lines) == 21


def test_command_reports_refusal_clearly(thueringen, tmp_path):
    path = write(tmp_path, b"name,ags\nMarbach,99999999\n")
    with pytest.raises(CommandError, match="Es wurde nichts geändert"):
        call_command("import_ortsteile", str(path), stdout=StringIO())
    out = StringIO()
    call_command(
        "import_ortsteile",
        str(write(tmp_path, b"name,ags\nKuhdorf,16076039\n")),
        "--kind",
        "former",
        stdout=out,
    )
    assert "1 neu" in out.getvalue()
    assert first_hit("Kuhdorf").alias_kind == "former"


# --- Search page -------------------------------------------------------------------


def test_search_page_names_the_kreis_and_the_reason(thueringen, client):
    body = client.get("/gemeinden/", {"q": "Wölfershausen"}).content.decode()
    assert body.index('href="/gemeinden/16066093/"') < body.index("Osthausen-Wülfershausen")
    assert "Schmalkalden-Meiningen" in body
    assert "Wölfershausen: Ortsteil von Rhönblick" in body
    body = client.get("/gemeinden/", {"q": "Kühdorf"}).content.decode()
    assert "früher: Kühdorf" in body and "Langenwetzendorf" in body
    body = client.get("/gemeinden/", {"q": "Hochheim"}).content.decode()
    assert 'href="/gemeinden/16051000/"' in body and "Hochheim: Ortsteil von Erfurt, Stadt" in body


def test_search_page_escapes_a_hostile_alias_name(thueringen, client):
    erfurt = Gemeinde.objects.get(ags=ERFURT)
    GemeindeAlias.objects.create(name="<script>alert(1)</script>Ort", gemeinde=erfurt)
    municipal_data_changed()
    body = client.get("/gemeinden/", {"q": "script alert"}).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Ort: Ortsteil von Erfurt" in body


def test_search_page_in_english(thueringen, client):
    client.cookies["django_language"] = "en"
    body = client.get("/gemeinden/", {"q": "Kühdorf"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "formerly: Kühdorf" in body
    body = client.get("/gemeinden/", {"q": "Hochheim"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hochheim: part of Erfurt, Stadt" in body


def test_the_issue_examples_find_the_right_gemeinde_first(thueringen):
    # Issue 13: "Wölfershausen" found Osthausen-Wülfershausen, "Hochheim" nothing.
    assert search_gemeinden(query="Wölfershausen")[0].ags == RHOENBLICK
    assert search_gemeinden(query="Hochheim")[0].ags == ERFURT
    assert search_gemeinden(query="Kühdorf")[0].ags == LANGENWETZENDORF
