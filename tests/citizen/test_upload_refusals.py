"""A refused upload is reported at its own field by the wizard, never dropped without a
word, while a file accepted in another field of the same page is kept (issue 13, problem 2).

Through the Django test client: fast, and it covers the storage path (quota, per-field
file count) that a browser can hardly reach."""

from __future__ import annotations

import copy
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import Attachment, Draft
from tests.citizen.citizen_support import (
    EXE,
    PDF,
    SMALL_DEFINITION,
    municipal_rule,
    municipality,
    pdf_upload,
    publish,
    t,
)

pytestmark = pytest.mark.django_db


def two_file_definition() -> dict:
    definition = copy.deepcopy(SMALL_DEFINITION)
    documents = next(s for s in definition["steps"] if s["id"] == "nachweise")
    documents["fields"].insert(
        0,
        {
            "id": "lageplan",
            "type": "file",
            "label": t("Lageplan", "Site plan"),
            "extensions": ["pdf", "png"],
            "max_size": 1024 * 1024,
        },
    )
    return definition


@pytest.fixture
def draft(client):
    cache.clear()
    version = publish(two_file_definition())
    municipal_rule(version.service)
    gemeinde, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    draft = Draft.objects.get(id=re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"])[1])
    person = {"halter-vorname": "Erika", "halter-nachname": "Muster", "halter-email": "e@x.de"}
    assert client.post(f"/antrag/{draft.id}/schritt/halter/", person).status_code == 302
    dog = {"hund-hundename": "Bello", "hund-gefaehrlich": "no"}
    assert client.post(f"/antrag/{draft.id}/schritt/hund/", dog).status_code == 302
    return draft


def post_documents(client, draft, data):
    return client.post(f"/antrag/{draft.id}/schritt/nachweise/", data)


def error_at(body: str, field: str) -> str:
    found = re.search(
        rf'<p class="kern-error" id="id_nachweise-{field}-error">(.*?)</p>', body, re.S
    )
    return re.sub(r"<[^>]+>", "", found[1]) if found else ""


def test_disguised_file_in_an_optional_field_is_not_dropped_when_the_other_is_accepted(
    client, draft
):
    """Regression: no error, the file dropped, and "Weiter" went on."""
    disguised = SimpleUploadedFile("lageplan.pdf", EXE, content_type="application/pdf")
    response = post_documents(
        client,
        draft,
        {"nachweise-lageplan": disguised, "nachweise-versicherung": pdf_upload("police.pdf")},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert "lageplan.pdf" in error_at(body, "lageplan")
    assert "passt nicht zur Dateiendung" in error_at(body, "lageplan")
    assert error_at(body, "versicherung") == ""
    assert 'href="#id_nachweise-lageplan"' in body
    assert list(Attachment.objects.values_list("field_path", "original_name")) == [
        ("versicherung", "police.pdf")
    ]


def test_too_big_file_in_a_required_field_says_so_instead_of_please_upload(client, draft):
    """Regression: "Bitte laden Sie … hoch" at the field, the size only in the summary."""
    big = SimpleUploadedFile("police.pdf", PDF + b"0" * (11 * 1024 * 1024))
    response = post_documents(
        client, draft, {"nachweise-lageplan": pdf_upload("plan.pdf"), "nachweise-versicherung": big}
    )
    body = response.content.decode()
    message = error_at(body, "versicherung")
    assert "ist zu groß" in message and "höchstens 10 MB pro Datei" in message
    assert "eine Datei hoch" not in body  # "Bitte laden Sie für „…“ eine Datei hoch."
    assert list(Attachment.objects.values_list("field_path", flat=True)) == ["lageplan"]


def test_the_fields_own_limit_is_announced_and_enforced(client, draft):
    body = client.get(f"/antrag/{draft.id}/schritt/nachweise/").content.decode()
    assert "Erlaubte Formate: PDF, PNG. Höchstens 1 MB pro Datei." in body
    assert "Erlaubte Formate: PDF, PNG, JPG. Höchstens 10 MB pro Datei." in body
    plan = SimpleUploadedFile("plan.pdf", PDF + b"0" * (1024 * 1024))
    response = post_documents(
        client, draft, {"nachweise-lageplan": plan, "nachweise-versicherung": pdf_upload()}
    )
    assert "höchstens 1 MB pro Datei" in error_at(response.content.decode(), "lageplan")


def test_a_file_refused_by_the_draft_quota_is_reported_at_its_field(client, draft, settings):
    settings.PORTAL_MAX_DRAFT_BYTES = len(PDF) + 10
    response = post_documents(
        client,
        draft,
        {"nachweise-lageplan": pdf_upload("plan.pdf"), "nachweise-versicherung": pdf_upload()},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    refused = [f for f in ("lageplan", "versicherung") if "passt nicht mehr" in error_at(body, f)]
    assert len(refused) == 1
    assert Attachment.objects.count() == 1


def test_save_for_later_with_a_refused_file_says_so_before_leaving(client, draft):
    disguised = SimpleUploadedFile("lageplan.pdf", EXE, content_type="application/pdf")
    data = {
        "nachweise-lageplan": disguised,
        "nachweise-versicherung": pdf_upload("police.pdf"),
        "nachweise-rueckfragen": "erika@example.de",
        "wizard_save": "1",
    }
    response = post_documents(client, draft, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "passt nicht zur Dateiendung" in error_at(body, "lageplan")
    assert 'value="erika@example.de"' in body
    assert list(Attachment.objects.values_list("field_path", flat=True)) == ["versicherung"]
    # Saving again without the refused file goes on to the save page.
    response = post_documents(client, draft, {"wizard_save": "1"})
    assert response.status_code == 302 and response["Location"].endswith("/speichern/")
