"""The citizen journey through the Django test client: service page, wizard, check, submit."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citizen.models import AccessibilityFeedback
from submissions.models import Attachment, Draft, Submission
from tests.citizen.citizen_support import (
    EXE,
    municipal_rule,
    municipality,
    pdf_upload,
    publish,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def setup():
    version = publish()
    municipal_rule(version.service)
    gemeinde, office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    return version, gemeinde, office


def start(client, gemeinde, slug="hundeanmeldung") -> Draft:
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/{slug}/")
    assert response.status_code == 302, response.content[:500]
    draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"]).group(1)
    return Draft.objects.get(id=draft_id)


def step_url(draft, step):
    return f"/antrag/{draft.id}/schritt/{step}/"


PERSON = {"halter-vorname": "Erika", "halter-nachname": "Mustermann", "halter-email": "e@x.de"}


def fill_all(client, draft):
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    dog = {"hund-hundename": "Bello", "hund-gefaehrlich": "no"}
    assert client.post(step_url(draft, "hund"), dog).status_code == 302
    response = client.post(step_url(draft, "nachweise"), {"nachweise-versicherung": pdf_upload()})
    assert response.status_code == 302
    assert response["Location"] == f"/antrag/{draft.id}/pruefen/"


def test_service_page_shows_office_and_starts_a_draft_pinned_to_the_published_version(
    client, setup
):
    version, gemeinde, _office = setup
    response = client.get(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Gemeindeverwaltung Rhönblick" in body and "Antrag starten" in body
    draft = start(client, gemeinde)
    assert draft.form_version == version
    newer = publish()
    fill_all(client, draft)
    draft.refresh_from_db()
    assert draft.form_version == version != newer


def test_unknown_municipality_or_service_is_a_404_page(client, setup):
    _, gemeinde, _ = setup
    assert client.get("/gemeinden/99999999/leistungen/hundeanmeldung/").status_code == 404
    assert client.get(f"/gemeinden/{gemeinde.ags}/leistungen/gibtsnicht/").status_code == 404
    assert client.get("/gemeinden/<script>/leistungen/hundeanmeldung/").status_code == 404


def test_full_journey_with_error_change_and_submit(client, setup):
    _, gemeinde, office = setup
    draft = start(client, gemeinde)
    # A validation error keeps everything typed and says "Fehler:" in the title.
    response = client.post(step_url(draft, "halter"), {**PERSON, "halter-email": "kaputt"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Fehler:" in body
    assert 'value="Erika"' in body and 'value="kaputt"' in body
    assert 'href="#id_halter-email"' in body
    fill_all(client, draft)
    check = client.get(f"/antrag/{draft.id}/pruefen/").content.decode()
    assert "Bello" in check and "versicherung.pdf" in check
    # Change one answer from the check page and come back to it.
    change = f"{step_url(draft, 'hund')}?zurueck=1"
    assert change.replace("?", "?").split("?")[0] in check
    page = client.get(change).content.decode()
    assert 'name="zurueck"' in page and "Zurück zur Übersicht" in page
    response = client.post(
        step_url(draft, "hund"),
        {"hund-hundename": "Rex", "hund-gefaehrlich": "no", "zurueck": "1"},
    )
    assert response["Location"] == f"/antrag/{draft.id}/pruefen/"
    assert "Rex" in client.get(f"/antrag/{draft.id}/pruefen/").content.decode()
    # The declaration is required.
    response = client.post(f"/antrag/{draft.id}/pruefen/", {})
    assert response.status_code == 200 and "Bitte bestätigen Sie die Erklärung" in (
        response.content.decode()
    )
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == f"/bestaetigung/{submission.reference}/"
    assert submission.answers["hundename"] == "Rex"
    assert submission.attachments.count() == 1
    confirmation = client.get(response["Location"]).content.decode()
    assert submission.reference in confirmation and office.name in confirmation
    assert "Seite neu laden" in confirmation  # receipt not rendered yet (no worker here)
    # Submitting again (double click, back button) files nothing twice.
    again = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert again.status_code == 302 and Submission.objects.count() == 1


def test_steps_cannot_be_skipped_by_url_or_post(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    response = client.get(step_url(draft, "nachweise"))
    assert response["Location"] == step_url(draft, "halter")
    response = client.post(step_url(draft, "nachweise"), {"nachweise-versicherung": pdf_upload()})
    assert response["Location"] == step_url(draft, "halter")
    assert not Attachment.objects.exists()
    # A hidden step (visible only for dangerous dogs) cannot be reached either.
    client.post(step_url(draft, "halter"), PERSON)
    client.post(step_url(draft, "hund"), {"hund-hundename": "Bello", "hund-gefaehrlich": "no"})
    response = client.post(step_url(draft, "gefahr"), {"gefahr-gutachten": "x"})
    assert response["Location"] == step_url(draft, "nachweise")
    assert client.get(f"/antrag/{draft.id}/pruefen/")["Location"] == step_url(draft, "nachweise")
    response = client.get(step_url(draft, "<script>"))
    assert response.status_code == 302


def test_conditional_step_appears_when_its_condition_holds(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    client.post(step_url(draft, "halter"), PERSON)
    response = client.post(
        step_url(draft, "hund"), {"hund-hundename": "Bello", "hund-gefaehrlich": "yes"}
    )
    assert response["Location"] == step_url(draft, "gefahr")


def test_forged_or_foreign_draft_ids_show_a_clear_page(client, setup, django_user_model):
    from django.test import Client

    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    stranger = Client()
    for url in (
        f"/antrag/{draft.id}/",
        step_url(draft, "halter"),
        f"/antrag/{draft.id}/pruefen/",
        f"/antrag/{uuid.uuid4()}/schritt/halter/",
    ):
        response = stranger.get(url)
        assert response.status_code == 404
        assert "Antrag nicht gefunden" in response.content.decode()
    response = stranger.post(step_url(draft, "halter"), PERSON)
    assert response.status_code == 404
    draft.refresh_from_db()
    assert "answers" not in draft.data


def test_huge_and_hostile_input_is_bounded_and_escaped(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    huge = "A" * 1_000_000
    response = client.post(
        step_url(draft, "halter"),
        {**PERSON, "halter-vorname": huge, "halter-nachname": "<script>alert(1)</script>",
         "junk": huge},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    draft.refresh_from_db()
    assert len(str(draft.data)) < 100_000


def test_disguised_upload_is_refused_and_typed_values_are_kept(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    fake = SimpleUploadedFile("versicherung.pdf", EXE, content_type="application/pdf")
    response = client.post(step_url(draft, "nachweise"), {"nachweise-versicherung": fake})
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert "versicherung.pdf" in body
    assert not Attachment.objects.exists()


def fill_until_upload(client, draft):
    client.post(step_url(draft, "halter"), PERSON)
    client.post(step_url(draft, "hund"), {"hund-hundename": "Bello", "hund-gefaehrlich": "no"})


def test_upload_can_be_downloaded_only_by_its_draft_and_replaced(client, setup):
    from django.test import Client

    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    client.post(step_url(draft, "nachweise"), {"nachweise-versicherung": pdf_upload("a.pdf")})
    first = Attachment.objects.get()
    url = f"/antrag/{draft.id}/datei/{first.id}/"
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert Client().get(url).status_code == 404
    # No route serves the storage: not under its name, not under a media prefix.
    for guess in (f"/{first.file.name}", f"/media/{first.file.name}", f"/static/{first.file.name}"):
        assert client.get(guess).status_code == 404
    # Another draft cannot fetch this draft's file by its id.
    other = start(client, gemeinde)
    assert client.get(f"/antrag/{other.id}/datei/{first.id}/").status_code == 404
    # Replace: a new file in a single-file field drops the old one, row and stored file.
    client.post(step_url(draft, "nachweise"), {"nachweise-versicherung": pdf_upload("b.pdf")})
    assert list(Attachment.objects.filter(draft=draft).values_list("original_name", flat=True)) == [
        "b.pdf"
    ]


def test_save_and_resume_in_another_browser(client, setup, smtp_server):
    from django.test import Client

    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    client.post(step_url(draft, "halter"), PERSON)
    # Save with an invalid half-typed step: what was typed is kept.
    response = client.post(
        step_url(draft, "hund"), {"hund-hundename": "Halbfertig", "wizard_save": "1"}
    )
    assert response["Location"] == f"/antrag/{draft.id}/speichern/"
    page = client.post(response["Location"], {"email": "erika@example.org"}).content.decode()
    link = re.search(r'data-testid="resume-link">([^<]+)<', page).group(1)
    assert "/fortsetzen/" in link
    # The mail goes through the e-mail queue (see test_citizen_security for its delivery).
    assert 'data-testid="mail-queued"' in page and not smtp_server.messages
    token = link.rstrip("/").rsplit("/", 1)[1]
    draft.refresh_from_db()
    assert token not in str(draft.__dict__)
    other = Client()
    response = other.get(f"/fortsetzen/{token}/", follow=True)
    body = response.content.decode()
    assert 'value="Halbfertig"' in body
    assert "Fehler:" not in body
    assert other.get(f"/fortsetzen/{token}x/").status_code == 404


def test_resume_and_status_lookup_are_rate_limited(client, setup):
    for _ in range(20):
        client.get("/fortsetzen/falsch/")
    response = client.get("/fortsetzen/falsch/")
    assert response.status_code == 429 and "Zu viele Anfragen" in response.content.decode()
    for _ in range(10):
        client.post("/status/", {"reference": "TH-2026-XXXX-XXXX", "secret": "x"})
    assert client.post("/status/", {"reference": "x", "secret": "y"}).status_code == 429


def test_status_lookup_shows_status_and_history_only_with_the_secret(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_all(client, draft)
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    confirmation = client.get(response["Location"]).content.decode()
    reference = re.search(r'data-testid="reference">([^<]+)<', confirmation).group(1)
    secret = re.search(r'data-testid="secret">([^<]+)<', confirmation).group(1)
    from django.test import Client

    other = Client()
    wrong = other.post("/status/", {"reference": reference, "secret": "falsch"})
    assert "keinen Antrag" in wrong.content.decode() and "<title>Fehler:" in wrong.content.decode()
    right = other.post("/status/", {"reference": reference.lower(), "secret": secret})
    body = right.content.decode()
    assert "eingegangen" in body and reference in body
    assert Client().get(f"/bestaetigung/{reference}/").status_code == 404


def test_csrf_is_enforced_with_a_clear_page(setup):
    from django.test import Client

    _, gemeinde, _ = setup
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    assert response.status_code == 403 and "Sitzung abgelaufen" in response.content.decode()
    assert not Draft.objects.exists()


def test_accessibility_feedback_is_stored_and_mailed(client, settings, smtp_server):
    settings.PORTAL_FEEDBACK_EMAIL = "barrierefreiheit@example.org"
    response = client.post("/barrierefreiheit/", {"message": ""})
    assert response.status_code == 200 and "<title>Fehler:" in response.content.decode()
    response = client.post(
        "/barrierefreiheit/", {"message": "Kontrast zu gering", "page_url": "/status/"}
    )
    assert response.status_code == 302
    assert AccessibilityFeedback.objects.get().message == "Kontrast zu gering"
    assert smtp_server.messages[0].rcpt_to == ["barrierefreiheit@example.org"]


@pytest.mark.parametrize("url", ["/", "/impressum/", "/datenschutz/", "/barrierefreiheit/"])
def test_static_pages_have_footer_links_and_language_switch(client, url):
    body = client.get(url).content.decode()
    for link in ("/barrierefreiheit/", "/impressum/", "/datenschutz/", "/quellen/"):
        assert f'href="{link}"' in body
    assert 'name="language" value="en"' in body and 'href="#main"' in body


def submitted(client, setup) -> Submission:
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_all(client, draft)
    client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    return Submission.objects.get()


def test_receipt_is_offered_once_rendered_and_only_to_its_citizen(client, setup):
    from django.core.files.base import ContentFile
    from django.test import Client

    submission = submitted(client, setup)
    page = client.get(f"/bestaetigung/{submission.reference}/").content.decode()
    assert "Seite neu laden" in page and ".pdf" not in page
    assert client.get(f"/status/{submission.reference}/eingangsbestaetigung.pdf").status_code == 302
    submission.receipt_pdf.save("receipt.pdf", ContentFile(b"%PDF-1.7 receipt"))
    page = client.get(f"/bestaetigung/{submission.reference}/").content.decode()
    assert "Eingangsbestätigung herunterladen (PDF)" in page
    response = client.get(f"/status/{submission.reference}/eingangsbestaetigung.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 receipt"
    assert response["Content-Disposition"].startswith("attachment")
    stranger = Client()
    assert (
        stranger.get(f"/status/{submission.reference}/eingangsbestaetigung.pdf").status_code == 404
    )


def test_submitting_is_rate_limited_per_address(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_all(client, draft)
    for _ in range(10):
        assert client.post(f"/antrag/{draft.id}/pruefen/", {}).status_code == 200
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 429 and response["Retry-After"] == "600"
    assert not Submission.objects.exists()


def test_english_pages_and_messages(client, setup):
    _, gemeinde, _ = setup
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body and "Apply online" in body
    draft = start(client, gemeinde)
    response = client.post(step_url(draft, "halter"), {})
    assert "<title>Error:" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [("put", "/status/"), ("delete", "/impressum/"), ("patch", "/barrierefreiheit/")],
)
def test_wrong_http_methods_get_a_clear_page(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert "Ungültige Anfrage" in response.content.decode() and response["Allow"]


def test_wrong_method_on_a_wizard_step(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    response = client.put(step_url(draft, "halter"))
    assert response.status_code == 405 and "Ungültige Anfrage" in response.content.decode()


def test_a_forged_delete_of_another_drafts_file_changes_nothing(client, setup):
    from django.core.files.storage import default_storage
    from django.test import Client

    _, gemeinde, _ = setup
    owner = Client()
    theirs = start(owner, gemeinde)
    fill_until_upload(owner, theirs)
    owner.post(step_url(theirs, "nachweise"), {"nachweise-versicherung": pdf_upload("theirs.pdf")})
    foreign = Attachment.objects.get(draft=theirs)

    mine = start(client, gemeinde)
    fill_until_upload(client, mine)
    forged = {
        "nachweise-versicherung": pdf_upload("mine.pdf"),
        "nachweise-versicherung-delete": str(foreign.id),
    }
    client.post(step_url(mine, "nachweise"), forged)
    foreign.refresh_from_db()
    assert foreign.draft_id == theirs.id and default_storage.exists(foreign.file.name)
    assert client.get(f"/antrag/{mine.id}/datei/{foreign.id}/").status_code == 404
    mine.refresh_from_db()
    assert str(foreign.id) not in str(mine.data)


def test_a_good_file_is_kept_when_another_field_on_the_page_has_an_error(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    response = client.post(
        step_url(draft, "nachweise"),
        {"nachweise-versicherung": pdf_upload("a.pdf"), "nachweise-rueckfragen": "kaputt"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body and "a.pdf" in body
    assert 'value="kaputt"' in body
    # Without choosing the file again, the step now passes.
    response = client.post(step_url(draft, "nachweise"), {"nachweise-rueckfragen": ""})
    assert response["Location"] == f"/antrag/{draft.id}/pruefen/"
    # A second file in this single-file field replaces the first.
    client.post(
        step_url(draft, "nachweise"),
        {"nachweise-versicherung": pdf_upload("b.pdf"), "nachweise-rueckfragen": "kaputt"},
    )
    client.post(step_url(draft, "nachweise"), {"nachweise-rueckfragen": ""})
    names = Attachment.objects.filter(draft=draft).values_list("original_name", flat=True)
    assert list(names) == ["b.pdf"]


def test_a_stored_step_that_no_longer_validates_blocks_the_later_steps(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    # Stored answers changed behind the wizard's back (e.g. a tampered or older draft).
    draft.refresh_from_db()
    draft.data["answers"]["email"] = "keine-adresse"
    draft.save()
    response = client.get(step_url(draft, "nachweise"))
    assert response["Location"] == step_url(draft, "halter")
    page = client.get(response["Location"]).content.decode()
    assert "<title>Fehler:" in page and 'value="keine-adresse"' in page


def test_wizard_records_reached_steps_and_refused_fields_for_the_funnel(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    draft.refresh_from_db()
    # The first step is reached when the draft starts.
    assert (draft.steps_reached, draft.furthest_step, draft.field_errors) == (0b1, 0, {})
    bad = {"halter-vorname": "", "halter-nachname": "Mustermann", "halter-email": "kaputt"}
    with CaptureQueriesContext(connection) as queries:
        assert client.post(step_url(draft, "halter"), bad).status_code == 200
    # One extra UPDATE adds the failures (the other saves the typed input); the values
    # typed are nowhere in it.
    updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith("UPDATE")
        and "submissions_draft" in q["sql"].split("SET")[0]
    ]
    counting = [sql for sql in updates if "field_errors" in sql]
    assert len(updates) == 2 and len(counting) == 1 and "kaputt" not in counting[0]
    client.post(step_url(draft, "halter"), {**PERSON, "halter-email": "kaputt"})
    # "Save for later" with invalid input shows no errors, so it counts none.
    client.post(step_url(draft, "halter"), {**bad, "wizard_save": "1"})
    draft.refresh_from_db()
    assert draft.field_errors == {"vorname": 1, "email": 2}
    fill_all(client, draft)
    draft.refresh_from_db()
    # halter, hund, nachweise and the check page (position 4); not the conditional step.
    assert (draft.steps_reached, draft.furthest_step) == (0b11011, 4)
    assert "kaputt" not in json.dumps(draft.field_errors)
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.submitted_at is not None and draft.field_errors == {"vorname": 1, "email": 2}


def test_wizard_counts_a_refused_repeatable_group_field_once_per_post(client):
    definition = {
        "schema_version": 1,
        "steps": [
            {
                "id": "hunde",
                "title": {"de": "Hunde", "en": "Dogs"},
                "fields": [
                    {
                        "id": "hund",
                        "type": "group",
                        "label": {"de": "Hunde", "en": "Dogs"},
                        "item_label": {"de": "Hund", "en": "Dog"},
                        "repeatable": True,
                        "min": 2,
                        "max": 5,
                        "fields": [
                            {
                                "id": "name",
                                "type": "text",
                                "label": {"de": "Name", "en": "Name"},
                                "required": True,
                            }
                        ],
                    }
                ],
            }
        ],
    }
    version = publish(definition, slug="hunde-mehrere")
    municipal_rule(version.service)
    gemeinde, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    draft = start(client, gemeinde, slug="hunde-mehrere")
    page = client.get(step_url(draft, "hunde")).content.decode()
    assert "hunde-hund-0-name" in page, page[-3000:]
    response = client.post(
        step_url(draft, "hunde"),
        {"hunde-hund-0-name": "", "hunde-hund-1-name": "", "hunde-hund-count": "2"},
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.field_errors == {"hund.name": 1}
