"""The citizen downloads their Bescheid from the status page, and nobody else's."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from backoffice.casework import case_transition
from backoffice.decisions import case_decide, case_reopen
from submissions.references import access_secret_generate, access_secret_hash, reference_generate
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _decided(office, clerk, *, outcome="approved", message="Alles in Ordnung."):
    secret = access_secret_generate()
    case = make_case(
        office=office,
        reference=reference_generate(year=2026),
        access_secret_hash=access_secret_hash(secret),
    )
    case_transition(submission=case, to_status="in_progress", actor=clerk)
    letter = case_decide(submission=case, actor=clerk, outcome=outcome, message=message).letter
    return case, secret, letter


def _granted(case, secret) -> Client:
    client = Client()
    response = client.post("/status/", {"reference": case.reference, "secret": secret})
    assert response.status_code == 200 and case.reference in response.content.decode()
    return client


@pytest.fixture
def world():
    office, _ = two_offices()
    clerk = make_staff("letter_clerk", "clerk", [office], login=False).user
    mine = _decided(office, clerk)
    theirs = _decided(office, clerk, outcome="rejected", message="Fehlt.")
    return {"office": office, "clerk": clerk, "mine": mine, "theirs": theirs}


def test_status_page_offers_the_bescheid_and_the_download_is_private(world):
    case, secret, letter = world["mine"]
    client = _granted(case, secret)
    page = client.get(f"/status/{case.reference}/").content.decode()
    url = f"/status/{case.reference}/bescheid/{letter.pk}/"
    assert url in page and "Bescheid erstellt" in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"Bescheid-{case.reference}-" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_another_citizens_letter_or_a_forged_id_is_404(world):
    case, secret, _letter = world["mine"]
    other_case, _other_secret, other_letter = world["theirs"]
    client = _granted(case, secret)
    # The other application's letter under this application's reference.
    assert client.get(f"/status/{case.reference}/bescheid/{other_letter.pk}/").status_code == 404
    # The other application's URL without its access.
    url = f"/status/{other_case.reference}/bescheid/{other_letter.pk}/"
    assert client.get(url).status_code == 404
    for forged in ("0", "99999999", "9" * 25, "-1", "abc", "1.0"):
        response = client.get(f"/status/{case.reference}/bescheid/{forged}/")
        assert response.status_code == 404, forged
        assert b"%PDF" not in response.content
    # No session at all.
    assert Client().get(f"/status/{case.reference}/bescheid/{_letter.pk}/").status_code == 404


def test_purged_application_offers_no_letter(world):
    case, secret, letter = world["mine"]
    client = _granted(case, secret)
    case.purged_at = timezone.now()
    case.save(update_fields=["purged_at"])
    assert client.get(f"/status/{case.reference}/bescheid/{letter.pk}/").status_code == 404


def test_reopened_case_shows_the_letter_as_set_aside_with_the_reason_in_the_history(world):
    case, secret, letter = world["mine"]
    lead = make_staff("letter_lead", "lead", [world["office"]], login=False).user
    case_reopen(submission=case, actor=lead, reason="Neue Prüfung nötig.")
    client = _granted(case, secret)
    page = client.get(f"/status/{case.reference}/").content.decode()
    assert "Neue Prüfung nötig." in page and "erneut bearbeitet" in page
    assert 'data-testid="decision-letter-current"' not in page
    # Still downloadable: the citizen keeps what they were sent.
    assert client.get(f"/status/{case.reference}/bescheid/{letter.pk}/").status_code == 200


def test_english_status_page_translates_the_letter_section(world):
    case, secret, _letter = world["mine"]
    client = _granted(case, secret)
    client.cookies["django_language"] = "en"
    page = client.get(f"/status/{case.reference}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    if "Your decision letter" not in page:
        pytest.fail("the status page did not switch to English:\n" + page[:2000])
    assert "Decision letter issued" in page
