"""Issue 13: names as people say them, contacts, favicon, Leichte Sprache, draft language."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.utils import translation

from citizen.drafts import draft_issue_resume_token
from municipalities.models import Gemeinde
from municipalities.names import gemeinde_display_name
from submissions.models import Draft
from tests.citizen.citizen_support import (
    SMALL_DEFINITION,
    municipal_rule,
    municipality,
    pdf_upload,
    publish,
)

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).resolve().parents[2] / "forms_catalog" / "catalogue"

KREISFREI, STADT, GEMEINDE = (
    Gemeinde.Kind.KREISFREIE_STADT,
    Gemeinde.Kind.STADT,
    Gemeinde.Kind.GEMEINDE,
)


@pytest.mark.parametrize(
    ("name", "kind", "german", "english"),
    [
        ("Erfurt, Stadt", KREISFREI, "Stadt Erfurt", "City of Erfurt"),
        ("Gößnitz, Stadt", STADT, "Stadt Gößnitz", "Town of Gößnitz"),
        ("Rhönblick", GEMEINDE, "Gemeinde Rhönblick", "Municipality of Rhönblick"),
        # A town whose directory entry lacks the suffix still reads as a town.
        ("Gera", KREISFREI, "Stadt Gera", "City of Gera"),
        # Another designation is part of the proper name and moves in front untranslated.
        ("Eisenach, Wartburgstadt", STADT, "Wartburgstadt Eisenach", "Wartburgstadt Eisenach"),
        ("  Bad   Sulza,  Stadt ", STADT, "Stadt Bad Sulza", "Town of Bad Sulza"),
        ("", GEMEINDE, "", ""),
        ("   ", STADT, "", ""),
        ("<b>X</b>", "??", "Gemeinde <b>X</b>", "Municipality of <b>X</b>"),
    ],
)
def test_display_name_says_it_as_people_do(name, kind, german, english):
    with translation.override("de"):
        assert gemeinde_display_name(name=name, kind=kind) == german
    with translation.override("en"):
        assert gemeinde_display_name(name=name, kind=kind) == english


def test_pages_and_receipt_use_the_display_name(client):
    version = publish()
    municipal_rule(version.service)
    gemeinde, office = municipality("Erfurt, Stadt", "Stadtverwaltung Erfurt")
    Gemeinde.objects.filter(pk=gemeinde.pk).update(kind=KREISFREI)
    office.city = "Erfurt"
    office.save()
    detail = client.get(f"/gemeinden/{gemeinde.ags}/").content.decode()
    service = client.get(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/").content.decode()
    for body in (detail, service):
        assert "Stadt Erfurt" in body
        assert "Erfurt, Stadt" not in body
        assert "Gemeinde Erfurt" not in body


def test_imprint_and_privacy_show_placeholders_when_unset(client, settings):
    settings.PORTAL_OPERATOR_NAME = ""
    settings.PORTAL_OPERATOR_ADDRESS = ""
    settings.PORTAL_OPERATOR_EMAIL = ""
    settings.PORTAL_OPERATOR_PHONE = ""
    settings.PORTAL_DPO_EMAIL = ""
    imprint = client.get("/impressum/").content.decode()
    assert "Anschrift wird ergänzt." in imprint
    assert "E-Mail-Adresse wird ergänzt." in imprint
    assert "Telefonnummer wird ergänzt." in imprint
    privacy = client.get("/datenschutz/").content.decode()
    assert "Die Kontaktadresse der datenschutzbeauftragten Person wird ergänzt." in privacy
    assert "mailto:" not in privacy


def test_imprint_and_privacy_show_configured_contacts_as_text(client, settings):
    settings.PORTAL_OPERATOR_NAME = 'Landesverwaltungsamt <script>alert("x")</script>'
    settings.PORTAL_OPERATOR_ADDRESS = "Jorge-Semprún-Platz 4\\n\\n99423 Weimar"
    settings.PORTAL_OPERATOR_EMAIL = "portal@tlvwa.thueringen.de"
    settings.PORTAL_OPERATOR_PHONE = "+49 361 57 331 0"
    settings.PORTAL_DPO_EMAIL = "datenschutz@tlvwa.thueringen.de"
    for url in ("/impressum/", "/datenschutz/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body
        assert "Landesverwaltungsamt &lt;script&gt;" in body
        assert "Jorge-Semprún-Platz 4<br>99423 Weimar" in body
        assert 'href="mailto:portal@tlvwa.thueringen.de"' in body
        assert "+49 361 57 331 0" in body
        assert "wird ergänzt" not in body
    privacy = client.get("/datenschutz/").content.decode()
    assert 'href="mailto:datenschutz@tlvwa.thueringen.de"' in privacy


def test_favicon_linked_from_every_page_and_served(client):
    body = client.get("/").content.decode()
    assert 'rel="icon"' in body
    assert static("portal/favicon.svg") in body
    assert static("portal/favicon.png") in body
    svg = finders.find("portal/favicon.svg")
    png = finders.find("portal/favicon.png")
    assert svg and png
    with open(svg, encoding="utf-8") as handle:
        assert handle.read().lstrip().startswith("<svg")
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_easy_read_page_linked_from_footer_with_video_slot(client, settings):
    settings.PORTAL_SIGN_LANGUAGE_VIDEO_URL = ""
    start = client.get("/").content.decode()
    assert 'href="/leichte-sprache/"' in start
    body = client.get("/leichte-sprache/").content.decode()
    assert "Informationen in Leichter Sprache" in body
    assert "Ein Video in Deutscher Gebärdensprache kommt bald." in body
    settings.PORTAL_SIGN_LANGUAGE_VIDEO_URL = "https://video.thueringen.de/dgs/portal.mp4"
    body = client.get("/leichte-sprache/").content.decode()
    assert 'href="https://video.thueringen.de/dgs/portal.mp4"' in body
    assert "kommt bald" not in body


def test_easy_read_page_in_plain_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/leichte-sprache/").content.decode()
    assert 'lang="en"' in body
    assert "Easy read" in body
    assert "Leichte Sprache" not in body
    assert "Gebärdensprache" not in body
    assert client.post("/leichte-sprache/").status_code == 405


def test_resumed_draft_comes_back_in_its_language(client):
    version = publish()
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    assert response.status_code == 302
    draft = Draft.objects.get()
    assert client.get(response["Location"], follow=True).status_code == 200
    draft.refresh_from_db()
    assert draft.language == "en"
    token = draft_issue_resume_token(draft=draft)
    other_browser = Client()
    page = other_browser.get(f"/fortsetzen/{token}/", follow=True)
    body = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="en">' in body
    assert "Continue" in body


def test_switching_language_mid_draft_is_remembered_and_hostile_codes_ignored(client):
    version = publish()
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    draft = Draft.objects.get()
    assert draft.language == "de"
    client.cookies["django_language"] = "xx<script>"
    client.get(response["Location"], follow=True)
    draft.refresh_from_db()
    assert draft.language == "de"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.get(response["Location"], follow=True)
    draft.refresh_from_db()
    assert draft.language == "en"


def test_check_page_fee_lines_and_privacy_link_in_english(client):
    definition = copy.deepcopy(SMALL_DEFINITION)
    definition["fees"] = {
        "lines": [
            {
                "id": "anmeldung",
                "label": {"de": "Anmeldegebühr für {x}<b>", "en": "Registration fee <b>"},
                "amount": 25,
            }
        ]
    }
    version = publish(definition)
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    draft = Draft.objects.get()
    base = f"/antrag/{draft.id}/schritt/"
    person = {"halter-vorname": "Erika", "halter-nachname": "Mustermann", "halter-email": "e@x.de"}
    assert client.post(base + "halter/", person).status_code == 302
    assert client.post(base + "hund/", {"hund-hundename": "Bello", "hund-gefaehrlich": "no"})
    client.post(base + "nachweise/", {"nachweise-versicherung": pdf_upload()})
    assert response.status_code == 302
    body = client.get(f"/antrag/{draft.id}/pruefen/").content.decode()
    assert "Registration fee &lt;b&gt;" in body
    assert "Anmeldegebühr" not in body
    assert 'href="/datenschutz/"' in body.split("<form", 1)[1]


def _labels(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["label"]["de"]] if isinstance(node.get("label"), dict) else []
        return found + [text for value in node.values() for text in _labels(value)]
    if isinstance(node, list):
        return [text for value in node for text in _labels(value)]
    return []


@pytest.mark.parametrize("path", sorted(CATALOGUE.glob("*.json")), ids=lambda p: p.stem)
def test_declaration_is_asked_once_on_the_check_page_only(path):
    """The check page asks "Ich versichere …"; no form step asks it (or a privacy consent) again."""
    definition = json.loads(path.read_text(encoding="utf-8"))
    titles = [step["title"]["de"] for step in definition["definition"]["steps"]]
    assert "Erklärung" not in titles
    for label in _labels(definition):
        assert not label.startswith("Ich versichere"), label
        assert not label.startswith("Ich habe die Hinweise zum Datenschutz gelesen"), label
