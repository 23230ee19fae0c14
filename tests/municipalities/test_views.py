"""Citizen pages: search, municipality page, sources; hostile input never yields a 500."""

from __future__ import annotations

import pytest

from forms_catalog.models import Service
from municipalities.models import Gemeinde, Office

pytestmark = pytest.mark.django_db


def test_search_page_without_query_shows_a_labelled_form(thueringen, client):
    response = client.get("/gemeinden/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label class="kern-label" for="id_q">Gemeinde oder Postleitzahl</label>' in body
    assert 'aria-describedby="id_q_hint"' in body
    assert "Ergebnisse" not in body


def test_search_by_name_links_to_the_municipality_page(thueringen, client):
    body = client.get("/gemeinden/", {"q": "Ilmenua"}).content.decode()
    assert 'href="/gemeinden/16070029/"' in body
    assert "Stadt Ilmenau" in body
    assert "Ilm-Kreis" in body


def test_search_without_result_says_so(thueringen, client):
    body = client.get("/gemeinden/", {"q": "Atlantis"}).content.decode()
    assert "Keine Gemeinde gefunden für „Atlantis“" in body


def test_ambiguous_postcode_lists_all_candidates_with_a_note(thueringen, client):
    body = client.get("/gemeinden/", {"q": "07646"}).content.decode()
    assert "Die Postleitzahl 07646 gehört zu 33 Gemeinden" in body
    assert body.count('href="/gemeinden/160') == 33


def test_unique_postcode_has_no_ambiguity_note(thueringen, client):
    body = client.get("/gemeinden/", {"q": "99084"}).content.decode()
    assert "Stadt Erfurt" in body
    assert "gehört zu" not in body


@pytest.mark.parametrize(
    "query",
    [
        "x" * 100_000,
        "Erfurt\x00",
        "<script>alert(1)</script>",
        "\x1b[31mrot\x1b[0m",
        "' OR 1=1 --",
        "%00%ff",
    ],
)
def test_hostile_queries_get_a_page_not_a_500(thueringen, client, query):
    response = client.get("/gemeinden/", {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "Traceback" not in body


def test_overlong_query_shows_the_one_error_summary(thueringen, client):
    """The search page uses the portal's one error summary component (issue 13)."""
    body = client.get("/gemeinden/", {"q": "x" * 500}).content.decode()
    assert 'id="error-summary"' in body and "portal-error-summary" in body
    assert "Es gibt ein Problem" in body
    assert "Bitte korrigieren Sie Ihre Eingabe" not in body
    assert 'aria-invalid="true"' in body
    assert 'href="#id_q"' in body
    assert body.startswith("<!DOCTYPE html>") and "<title>Fehler:" in body


def test_repeated_query_parameter_uses_one_value(thueringen, client):
    response = client.get("/gemeinden/?q=Erfurt&q=Jena")
    assert response.status_code == 200


def test_municipality_page_lists_services_with_office_and_contact(thueringen, client):
    office = Office.objects.get(name="Stadtverwaltung Meiningen")
    office.street = "Schloßplatz 1"
    office.email = "buergerbuero@meiningen.example"
    office.phone = "03693 454-0"
    office.opening_hours = "Mo–Fr 9–12 Uhr"
    office.save()
    response = client.get("/gemeinden/16066056/")  # Rippershausen, served by Meiningen
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h1 class="kern-heading-large">Gemeinde Rippershausen</h1>' in body
    assert "erfüllende Gemeinde Stadt Meiningen" in body
    for service in Service.objects.filter(is_active=True):
        assert service.name_de in body
    assert "Landratsamt Schmalkalden-Meiningen" in body
    assert "Schloßplatz 1" in body
    assert "mailto:buergerbuero@meiningen.example" in body
    assert "Mo–Fr 9–12 Uhr" in body


def test_service_without_office_shows_a_note_not_an_error(thueringen, client):
    Service.objects.create(slug="angeln", name_de="Fischereischein", name_en="Fishing licence")
    Office.objects.filter(kreis__key="16051").update(is_active=False)
    response = client.get("/gemeinden/16051000/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Fischereischein" in body
    assert body.count("keine Behörde hinterlegt") == 1 + 6  # Erfurt's only office is off


def test_inactive_service_is_not_listed(thueringen, client):
    Service.objects.filter(slug="bauantrag").update(is_active=False)
    body = client.get("/gemeinden/16051000/").content.decode()
    assert "Bauantrag" not in body


def test_retired_gemeinde_page_says_so(thueringen, client):
    import datetime

    Gemeinde.objects.filter(ags="16061114").update(valid_to=datetime.date(2024, 12, 31))
    body = client.get("/gemeinden/16061114/").content.decode()
    assert "besteht seit dem 31.12.2024 nicht mehr" in body
    assert "Zuständig:" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/gemeinden/99999999/",
        "/gemeinden/1606111/",
        "/gemeinden/160611190/",
        "/gemeinden/16061119%00/",
        "/gemeinden/%3Cscript%3E/",
        "/gemeinden/" + "1" * 5000 + "/",
        "/gemeinden/../../etc/passwd/",
        "/gemeinden/１６０６１１１９/",  # fullwidth digits
    ],
)
def test_forged_ags_gives_the_404_page(thueringen, client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.content.decode()


def test_sources_page_shows_the_attributions(client):
    body = client.get("/quellen/").content.decode()
    assert (
        "© Statistisches Bundesamt (Destatis), 2025, Gemeindeverzeichnis GV100AD, "
        "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0)" in body
    )
    assert "Postleitzahlen: © OpenStreetMap contributors, ODbL 1.0" in body


def test_every_page_links_to_the_sources(client):
    body = client.get("/").content.decode()
    assert 'href="/quellen/"' in body
    assert 'href="/gemeinden/"' in body
