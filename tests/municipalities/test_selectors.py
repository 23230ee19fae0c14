"""The resolver, routing commands, municipality search and local fee parameters."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from forms_catalog.models import Service
from municipalities.models import (
    Gemeinde,
    LocalFeeParameter,
    Office,
    ResponsibilityException,
    ResponsibilityRule,
)
from municipalities.selectors import (
    NoResponsibleOffice,
    fee_parameters,
    responsible_office,
    search_gemeinden,
)
from municipalities.services import municipal_data_changed
from tests.municipalities.conftest import CATALOGUE_SLUGS

pytestmark = pytest.mark.django_db

GEWERBE, WOHNGELD, HUND, BAU, PASS, EVENT = CATALOGUE_SLUGS

# (AGS, kind of Gemeinde, {service: expected office}); services not named go to
# the municipal administration (`municipal`) or the Landratsamt (`kreis`) given.
ROUTING_CASES = [
    ("16051000", "kreisfreie Stadt Erfurt", "Stadtverwaltung Erfurt", "Stadtverwaltung Erfurt", {}),
    ("16055000", "kreisfreie Stadt Weimar", "Stadtverwaltung Weimar", "Stadtverwaltung Weimar", {}),
    (
        "16061114",
        "VG-Mitglied Teistungen",
        "VG Lindenberg/Eichsfeld",
        "Landratsamt Eichsfeld",
        {},
    ),
    (
        "16061002",
        "beauftragende Gemeinde Asbach-Sickenberg",
        "Gemeindeverwaltung Uder",
        "Landratsamt Eichsfeld",
        {},
    ),
    (
        "16061119",
        "erfüllende Gemeinde Uder",
        "Gemeindeverwaltung Uder",
        "Landratsamt Eichsfeld",
        {},
    ),
    (
        "16061074",
        "verbandsfreie Gemeinde Niederorschel",
        "Gemeindeverwaltung Niederorschel",
        "Landratsamt Eichsfeld",
        {},
    ),
    (
        "16070004",
        "verbandsfreie Stadt Arnstadt (ohne eigenes Gewerbeamt)",
        "Stadtverwaltung Arnstadt",
        "Landratsamt Ilm-Kreis",
        {},
    ),
    (
        "16064046",
        "Ausnahme Mühlhausen/Thüringen",
        "Stadtverwaltung Mühlhausen/Thüringen",
        "Landratsamt Unstrut-Hainich-Kreis",
        {GEWERBE: "Stadtverwaltung Mühlhausen/Thüringen"},
    ),
    (
        "16066042",
        "Ausnahme Meiningen (erfüllende Gemeinde)",
        "Stadtverwaltung Meiningen",
        "Landratsamt Schmalkalden-Meiningen",
        {GEWERBE: "Stadtverwaltung Meiningen"},
    ),
    (
        "16066056",
        "Rippershausen (beauftragt Meiningen; die Ausnahme gilt nicht)",
        "Stadtverwaltung Meiningen",
        "Landratsamt Schmalkalden-Meiningen",
        {},
    ),
    (
        "16063105",
        "Ausnahme Eisenach",
        "Stadtverwaltung Eisenach",
        "Landratsamt Wartburgkreis",
        {GEWERBE: "Stadtverwaltung Eisenach", BAU: "Stadtverwaltung Eisenach"},
    ),
    (
        "16067029",
        "Ausnahme Gotha",
        "Stadtverwaltung Gotha",
        "Landratsamt Gotha",
        {WOHNGELD: "Stadtverwaltung Gotha"},
    ),
    (
        "16070029",
        "Ausnahme Ilmenau",
        "Stadtverwaltung Ilmenau",
        "Landratsamt Ilm-Kreis",
        {WOHNGELD: "Stadtverwaltung Ilmenau"},
    ),
    (
        "16073076",
        "Ausnahme Rudolstadt",
        "Stadtverwaltung Rudolstadt",
        "Landratsamt Saalfeld-Rudolstadt",
        {WOHNGELD: "Stadtverwaltung Rudolstadt"},
    ),
    (
        "16073077",
        "Ausnahme Saalfeld/Saale",
        "Stadtverwaltung Saalfeld/Saale",
        "Landratsamt Saalfeld-Rudolstadt",
        {WOHNGELD: "Stadtverwaltung Saalfeld/Saale"},
    ),
]
LEVEL = {
    GEWERBE: "kreis",
    WOHNGELD: "kreis",
    BAU: "kreis",
    HUND: "municipal",
    PASS: "municipal",
    EVENT: "municipal",
}


def expected_rows():
    for ags, label, municipal, kreis, overrides in ROUTING_CASES:
        for slug in CATALOGUE_SLUGS:
            default = municipal if LEVEL[slug] == "municipal" else kreis
            yield pytest.param(ags, slug, overrides.get(slug, default), id=f"{label}-{slug}")


@pytest.mark.parametrize(("ags", "slug", "office_name"), list(expected_rows()))
def test_responsible_office(thueringen, ags, slug, office_name):
    gemeinde = Gemeinde.objects.get(ags=ags)
    office = responsible_office(service=Service.objects.get(slug=slug), gemeinde=gemeinde)
    assert office.name == office_name


def test_resolver_needs_one_query(thueringen, django_assert_max_num_queries):
    service = Service.objects.get(slug=GEWERBE)
    for ags in ("16064046", "16061002", "16051000"):
        gemeinde = Gemeinde.objects.get(ags=ags)
        with django_assert_max_num_queries(1):
            responsible_office(service=service, gemeinde=gemeinde)


def test_no_rule_raises_naming_service_and_gemeinde(thueringen):
    service = Service.objects.create(slug="fischereischein", name_de="Fischereischein", name_en="x")
    gemeinde = Gemeinde.objects.get(ags="16061119")
    with pytest.raises(NoResponsibleOffice, match=r"„Fischereischein“ .* in Uder \(AGS 16061119\)"):
        responsible_office(service=service, gemeinde=gemeinde)


def test_inactive_office_is_not_responsible(thueringen):
    gemeinde = Gemeinde.objects.get(ags="16061119")
    Office.objects.filter(verband=gemeinde.verband).update(is_active=False)
    with pytest.raises(NoResponsibleOffice):
        responsible_office(service=Service.objects.get(slug=HUND), gemeinde=gemeinde)


def test_inactive_exception_office_does_not_fall_back_to_the_rule(thueringen):
    """An exception names who is responsible: if that office is switched off, say so."""
    gemeinde = Gemeinde.objects.get(ags="16064046")
    Office.objects.filter(verband=gemeinde.verband).update(is_active=False)
    with pytest.raises(NoResponsibleOffice):
        responsible_office(service=Service.objects.get(slug=GEWERBE), gemeinde=gemeinde)


def test_validity_dates_of_rules_and_exceptions(thueringen):
    service = Service.objects.get(slug=BAU)
    gemeinde = Gemeinde.objects.get(ags="16061119")
    today = timezone.localdate()
    switch = today + datetime.timedelta(days=30)
    ResponsibilityRule.objects.filter(service=service).update(
        valid_to=switch - datetime.timedelta(days=1)
    )
    ResponsibilityRule.objects.create(service=service, level="municipal", valid_from=switch)
    assert responsible_office(service=service, gemeinde=gemeinde).name == "Landratsamt Eichsfeld"
    assert (
        responsible_office(service=service, gemeinde=gemeinde, on_date=switch).name
        == "Gemeindeverwaltung Uder"
    )
    special = Office.objects.create(name="Sonderbehörde", kind=Office.Kind.OTHER)
    ResponsibilityException.objects.create(
        service=service, gemeinde=gemeinde, office=special, valid_from=switch
    )
    assert responsible_office(service=service, gemeinde=gemeinde).name == "Landratsamt Eichsfeld"
    assert responsible_office(service=service, gemeinde=gemeinde, on_date=switch) == special


# --- Commands ------------------------------------------------------------------


def test_check_routing_passes_for_every_gemeinde_and_service(thueringen):
    out = StringIO()
    call_command("check_routing", stdout=out)
    assert f"Alle {605 * len(CATALOGUE_SLUGS)} Kombinationen" in out.getvalue()


def test_check_routing_fails_listing_each_gap(thueringen):
    Office.objects.filter(kreis__key="16061").update(is_active=False)
    err = StringIO()
    with pytest.raises(CommandError, match="ohne zuständige Behörde"):
        call_command("check_routing", stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    eichsfeld = Gemeinde.objects.current().filter(kreis__key="16061").count()
    assert len(lines) == eichsfeld * 3  # Gewerbe, Wohngeld, Bauantrag
    assert "16061119,Uder,bauantrag" in lines


def test_routing_table_csv_has_every_gemeinde_and_service(thueringen):
    out = StringIO()
    call_command("routing_table", stdout=out)
    rows = list(csv.reader(StringIO(out.getvalue())))
    assert rows[0] == ["ags", "gemeinde", "service", "office_id", "office_name"]
    assert len(rows) == 1 + 605 * len(CATALOGUE_SLUGS)
    assert all(row[3] and row[4] for row in rows[1:])
    eisenach = Office.objects.get(name="Stadtverwaltung Eisenach")
    assert ["16063105", "Eisenach, Stadt", "bauantrag", str(eisenach.pk), eisenach.name] in rows


def test_routing_table_for_one_service_by_leistungsschluessel(thueringen):
    out = StringIO()
    call_command("routing_table", "--service", "99050012104000", "--format", "text", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 606
    assert all("gewerbe-anmeldung" in line for line in lines[1:])
    with pytest.raises(CommandError, match="Keine aktive Leistung"):
        call_command("routing_table", "--service", "gibt-es-nicht", stdout=StringIO())


# --- Search --------------------------------------------------------------------


def names(query: str, **kwargs) -> list[str]:
    return [g.name for g in search_gemeinden(query=query, **kwargs)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Gößnitz", "Gößnitz, Stadt"),
        ("Gossnitz", "Gößnitz, Stadt"),
        ("goessnitz", "Gößnitz, Stadt"),
        ("GÖSSNITZ", "Gößnitz, Stadt"),
        ("Mühlhausen", "Mühlhausen/Thüringen, Stadt"),
        ("Muehlhausen", "Mühlhausen/Thüringen, Stadt"),
        ("Muhlh", "Mühlhausen/Thüringen, Stadt"),
        ("Stadt Gera", "Gera, Stadt"),
        ("Gera, Stadt", "Gera, Stadt"),
        ("Erf", "Erfurt, Stadt"),
        ("Salzungen", "Bad Salzungen, Stadt"),
        ("Saalfeld Saale", "Saalfeld/Saale, Stadt"),
        ("Ilmenua", "Ilmenau, Stadt"),  # transposition
        ("Weimr", "Weimar, Stadt"),  # missing letter
        ("Eisenacch", "Eisenach, Stadt"),  # extra letter
        ("Rudolstdt", "Rudolstadt, Stadt"),
        ("Meinigen", "Meiningen, Stadt"),
        ("Jena", "Jena, Stadt"),
        ("07743", "Jena, Stadt"),
        ("  Erfurt\x00\x07\n", "Erfurt, Stadt"),
    ],
)
def test_search_finds_the_gemeinde_first(thueringen, query, first):
    results = names(query)
    assert results, query
    assert results[0] == first


def test_ambiguous_postcode_lists_every_candidate(thueringen):
    results = search_gemeinden(query="07646", limit=5)
    assert len(results) == 33
    assert "Stadtroda, Stadt" in [g.name for g in results]
    assert len({g.pk for g in results}) == 33


def test_partial_postcode_and_limits(thueringen):
    assert 0 < len(names("076", limit=7)) <= 7
    assert names("x" * 100_000) == []
    assert names("") == []
    assert names("Stadt") == []
    assert names("<script>alert(1)</script>") == []
    assert names("Erfurt", limit=0) == []
    assert search_gemeinden(query=None) == []  # type: ignore[arg-type]
    assert search_gemeinden(query=12345) == []  # type: ignore[arg-type]
    assert names("99999") == []


def test_short_queries_are_not_typo_tolerant(thueringen):
    assert "Jena, Stadt" not in names("Jma")


def test_search_index_follows_data_changes(thueringen, django_assert_max_num_queries):
    assert names("Neu-Lindenberg") == []
    with django_assert_max_num_queries(1):
        search_gemeinden(query="Erfurt")
    teistungen = Gemeinde.objects.get(ags="16061114")
    teistungen.name = "Neu-Lindenberg"
    teistungen.save()
    municipal_data_changed()
    assert names("Neu-Lindenberg") == ["Neu-Lindenberg"]


def test_retired_gemeinden_are_not_found(thueringen):
    Gemeinde.objects.filter(ags="16061114").update(valid_to=datetime.date(2020, 1, 1))
    municipal_data_changed()
    assert "Teistungen" not in names("Teistungen")


# --- Fees ------------------------------------------------------------------------


def test_fee_parameters_gemeinde_wins_over_verband_and_respects_validity(
    thueringen, django_assert_max_num_queries
):
    service = Service.objects.get(slug=HUND)
    asbach = Gemeinde.objects.get(ags="16061002")
    uder = Gemeinde.objects.get(ags="16061119")
    LocalFeeParameter.objects.create(
        service=service, verband=uder.verband, key="erster_hund", value=Decimal("50")
    )
    LocalFeeParameter.objects.create(
        service=service, verband=uder.verband, key="zweiter_hund", value=Decimal("75")
    )
    LocalFeeParameter.objects.create(
        service=service, gemeinde=asbach, key="erster_hund", value=Decimal("40")
    )
    later = timezone.localdate() + datetime.timedelta(days=10)
    LocalFeeParameter.objects.create(
        service=service, gemeinde=asbach, key="erster_hund", value=Decimal("45"), valid_from=later
    )
    with django_assert_max_num_queries(1):
        params = fee_parameters(service=service, gemeinde=asbach)
    assert params == {"erster_hund": Decimal("40.00"), "zweiter_hund": Decimal("75.00")}
    assert fee_parameters(service=service, gemeinde=asbach, on_date=later)["erster_hund"] == 45
    assert fee_parameters(service=service, gemeinde=uder) == {
        "erster_hund": Decimal("50.00"),
        "zweiter_hund": Decimal("75.00"),
    }
    assert fee_parameters(service=Service.objects.get(slug=PASS), gemeinde=uder) == {}
