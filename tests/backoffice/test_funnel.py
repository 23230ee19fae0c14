"""The funnel statistics page: who may see it, what it shows, and forged filters."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from backoffice.models import AuditEntry
from submissions.models import Draft
from tests.backoffice.backoffice_support import make_staff, two_offices
from tests.citizen.citizen_support import municipality, publish

pytestmark = pytest.mark.django_db

URL = "/admin/backoffice/statistik/formulare/"


def drafts(version, gemeinde, count: int, *, reached: int = 0b1, errors=None, submitted=False):
    now = timezone.now()
    for _ in range(count):
        Draft.objects.create(
            token_hash=uuid.uuid4().hex,
            service=version.service,
            form_version=version,
            gemeinde=gemeinde,
            expires_at=now + datetime.timedelta(days=30),
            steps_reached=reached,
            furthest_step=reached.bit_length() - 1,
            field_errors=errors or {},
            email="erika@example.org",
            data={"answers": {"vorname": "Erika"}},
            submitted_at=now if submitted else None,
        )


@pytest.fixture
def page_data():
    version = publish()
    gemeinde, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    drafts(version, gemeinde, 7, reached=0b11111, submitted=True)
    drafts(version, gemeinde, 3, reached=0b1, errors={"vorname": 1})
    return version, gemeinde


def test_kompetenzzentrum_sees_the_funnel_without_personal_data(page_data):
    version, _gemeinde = page_data
    editor = make_staff("kz_funnel", "kompetenzzentrum")
    overview = editor.client.get(URL)
    assert overview.status_code == 200
    body = overview.content.decode()
    assert "Hundeanmeldung" in body and "Formular-Statistik" in body
    page = editor.client.get(URL, {"leistung": version.service_id})
    assert page.status_code == 200
    body = page.content.decode()
    # 10 started, 7 submitted, 3 failures of the given name: shown as "< 5".
    [funnel] = page.context["funnels"]
    assert (funnel.started, funnel.submitted) == (10, 7)
    assert "Angaben zur Person" in body and "Vorname" in body and "&lt; 5" in body
    assert "funnel-bar--70" in body  # 7 of 10 reached the check page
    assert "Erika" not in body and "erika@example.org" not in body
    assert 'style="' not in body
    assert AuditEntry.objects.filter(actor=editor.user, detail="funnel statistics").count() == 2


def test_the_page_speaks_english_too(page_data):
    version, _ = page_data
    editor = make_staff("kz_funnel_en", "kompetenzzentrum")
    page = editor.client.get(URL, {"leistung": version.service_id}, HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "Form statistics" in body and "About you" in body and "Given name" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"version": "abc"}, "Diese Version gibt es nicht"),
        ({"version": "999999"}, "Diese Version gibt es nicht"),
        ({"kreis": "999999"}, "Diesen Kreis gibt es nicht"),
        ({"kreis": "'; DROP TABLE x; --"}, "Diesen Kreis gibt es nicht"),
        ({"leistung": "x" * 5000}, "Diese Leistung gibt es nicht"),
        ({"von": "2026-05-01", "bis": "2026-04-01"}, "vor seinem Anfang"),
        ({"von": "31.02.2026"}, "Bitte geben Sie ein Datum ein"),
        ({"von": "0001-01-01"}, "ab dem Jahr 2000"),
    ],
)
def test_forged_filters_get_a_german_message_not_an_error(page_data, query, message):
    editor = make_staff("kz_forged", "kompetenzzentrum")
    page = editor.client.get(URL, query)
    assert page.status_code == 200
    body = page.content.decode()
    assert message in body
    assert page.context["funnels"] is None


def test_a_version_of_another_service_is_refused(page_data):
    version, _ = page_data
    other = publish(slug="gewerbe")
    editor = make_staff("kz_mismatch", "kompetenzzentrum")
    page = editor.client.get(URL, {"leistung": other.service_id, "version": version.pk})
    assert "gehört nicht zur gewählten Leistung" in page.content.decode()


def test_clerks_and_office_leads_do_not_get_the_page(page_data):
    office_a, _ = two_offices()
    clerk = make_staff("clerk_funnel", "clerk", [office_a])
    lead = make_staff("lead_funnel", "lead", [office_a])
    assert clerk.client.get(URL).status_code == 404
    assert lead.client.get(URL).status_code == 404
    assert "Formular-Statistik" not in clerk.client.get("/admin/").content.decode()
    anonymous = make_staff("kz_logged_out", "kompetenzzentrum", login=False)
    assert anonymous.client.get(URL).status_code == 302  # to the login page
