"""The audit trail is complete (searches, refusals, logins) and a lead reads only their scope."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from backoffice.audit import audit_search_term_digest
from backoffice.models import AuditEntry
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices

pytestmark = pytest.mark.django_db

BASE = "/admin/submissions/submission"
AUDIT = "/admin/backoffice/auditentry/"


@pytest.fixture
def world():
    office_a, office_b = two_offices()
    case_a = make_case(office=office_a, reference="TH-2026-AAAA-AAAA")
    case_b = make_case(office=office_b, reference="TH-2026-BBBB-BBBB")
    return {
        "office_a": office_a,
        "office_b": office_b,
        "case_a": case_a,
        "case_b": case_b,
        "clerk_a": make_staff("clerk_a", "clerk", [office_a]),
        "clerk_b": make_staff("clerk_b", "clerk", [office_b]),
        "lead_a": make_staff("lead_a", "lead", [office_a]),
        "lead_b": make_staff("lead_b", "lead", [office_b]),
    }


def _rows(body: str) -> list[str]:
    """The result rows of an admin change list, as text."""
    table = re.search(r'<table id="result_list">(.*?)</table>', body, re.S)
    if table is None:
        return []
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def _normalised(content: bytes, pk: int) -> bytes:
    content = content.replace(f"{BASE}/{pk}/change/".encode(), b"ADDRESS")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"CSRF", content)


def test_name_searches_are_audited_only_as_keyed_hmac_never_in_clear(world):
    clerk = world["clerk_a"]
    assert clerk.client.get(f"{BASE}/", {"q": "Mustermann"}).status_code == 200
    search = AuditEntry.objects.get(action="search", actor=clerk.user)
    assert "mustermann" not in search.detail.lower()
    assert audit_search_term_digest(term="mustermann") in search.detail
    listing = AuditEntry.objects.filter(action="view_list", actor=clerk.user).latest("id")
    assert "mustermann" not in listing.detail.lower()
    # Nowhere in the trail in clear.
    for entry in AuditEntry.objects.all():
        assert "mustermann" not in entry.detail.lower()


def test_reference_searches_are_audited_in_clear(world):
    clerk = world["clerk_a"]
    clerk.client.get(f"{BASE}/", {"q": "th-2026-aaaa"})
    search = AuditEntry.objects.get(action="search", actor=clerk.user)
    assert search.detail == "Antragsliste: Aktenzeichen TH-2026-AAAA"


def test_huge_and_hostile_search_terms_are_audited_bounded_and_hashed(world):
    clerk = world["clerk_a"]
    term = "Müller\x00<script>" + "x" * 100_000
    response = clerk.client.get(f"{BASE}/", {"q": term})
    assert response.status_code == 200
    search = AuditEntry.objects.get(action="search", actor=clerk.user)
    assert "Müller" not in search.detail and "<script>" not in search.detail
    assert len(search.detail) < 200
    listing = AuditEntry.objects.filter(action="view_list", actor=clerk.user).latest("id")
    assert "xxxx" not in listing.detail


def test_refused_cross_office_case_is_audited_and_the_404_is_that_of_a_missing_case(world):
    clerk, case_b = world["clerk_a"], world["case_b"]
    missing_id = case_b.pk + 1000
    refused = clerk.client.get(f"{BASE}/{case_b.pk}/change/")
    missing = clerk.client.get(f"{BASE}/{missing_id}/change/")
    assert refused.status_code == missing.status_code == 404
    # Byte for byte the same page, but for the requested address and the CSRF token.
    assert _normalised(refused.content, case_b.pk) == _normalised(missing.content, missing_id)
    assert dict(refused.headers).keys() == dict(missing.headers).keys()
    [entry] = AuditEntry.objects.filter(action="refused")
    assert entry.actor == clerk.user
    assert entry.reference == case_b.reference
    assert entry.office == world["office_b"]
    assert f"GET {BASE}/{case_b.pk}/change/" in entry.detail
    # The same for a download and for a forged id in a bulk action.
    attachment = case_b.attachments.get()
    assert clerk.client.get(f"{BASE}/{case_b.pk}/attachment/{attachment.pk}/").status_code == 404
    response = clerk.client.post(
        f"{BASE}/",
        {
            "action": "export_csv",
            ACTION_CHECKBOX_NAME: [str(world["case_a"].pk), str(case_b.pk)],
            "index": "0",
        },
    )
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="refused", actor=clerk.user).count() == 3
    # An id beyond any bigint is a plain 404, not a server error.
    response = clerk.client.post(
        f"{BASE}/", {"action": "export_csv", ACTION_CHECKBOX_NAME: ["9" * 40], "index": "0"}
    )
    assert response.status_code == 404


def test_the_refusal_shows_in_the_audit_list_of_the_probed_office_only(world):
    world["clerk_a"].client.get(f"{BASE}/{world['case_b'].pk}/change/")
    body_b = world["lead_b"].client.get(AUDIT, {"action__exact": "refused"}).content.decode()
    [row] = _rows(body_b)
    assert "Zugriff verweigert (andere Behörde)" in row and "TH-2026-BBBB-BBBB" in row
    # Local time, German format: "26.11.2026, 10:15:03 Uhr".
    assert re.search(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d Uhr", row)
    body_a = world["lead_a"].client.get(AUDIT, {"action__exact": "refused"}).content.decode()
    assert _rows(body_a) == []


def test_logins_failed_logins_and_wrong_codes_are_audited(world):
    clerk = world["clerk_a"]
    assert AuditEntry.objects.filter(action="login", actor=clerk.user).exists()
    client = Client()
    client.post(
        "/admin/login/",
        {"username": "clerk_a", "password": "falsch-falsch", "otp_token": "000000"},
    )
    client.post(
        "/admin/login/",
        {"username": "clerk_a", "password": clerk.password, "otp_token": "000000"},
    )
    client.post(
        "/admin/login/",
        {"username": "mein-passwort-im-falschen-feld", "password": "x", "otp_token": "1"},
    )
    failed = list(AuditEntry.objects.filter(action="login_failed").order_by("id"))
    assert [entry.actor_username for entry in failed] == ["clerk_a", "clerk_a", ""]
    assert "mein-passwort" not in "".join(e.detail + e.actor_username for e in failed)
    assert failed[2].detail == "unbekannter Benutzername"
    clerk.client.post("/admin/logout/")
    assert AuditEntry.objects.filter(action="logout", actor=clerk.user).exists()


def test_lead_filters_stay_inside_their_offices_even_with_forged_ids(world):
    lead_a, clerk_b = world["lead_a"], world["clerk_b"]
    clerk_b.client.get(f"{BASE}/{world['case_b'].pk}/change/")  # office B's own entries
    clerk_b.client.get(f"{BASE}/", {"q": "Mustermann"})
    world["clerk_a"].client.get(f"{BASE}/", {"q": "Mustermann"})
    # Office B by its id, clerk B by theirs: nothing of office B shows for lead A.
    for query in (
        {"behoerde": str(world["office_b"].pk)},
        {"benutzer": str(clerk_b.user.pk)},
        {"benutzer": "abc"},
        {"benutzer": "9" * 40},
        {"behoerde": "-1"},
        {"zeitraum": "forever"},
    ):
        response = lead_a.client.get(AUDIT, query)
        assert response.status_code == 200, query
        body = response.content.decode()
        assert "TH-2026-BBBB-BBBB" not in body and "clerk_b" not in "".join(_rows(body)), query
    # Positive control: lead A sees clerk A's search and login, filtered by user and period.
    response = lead_a.client.get(
        AUDIT, {"benutzer": str(world["clerk_a"].user.pk), "zeitraum": "heute"}
    )
    rows = _rows(response.content.decode())
    assert any("gesucht" in row for row in rows) and any("angemeldet" in row for row in rows)
    # The list's filter offers only lead A's office and staff.
    body = lead_a.client.get(AUDIT).content.decode()
    assert "Stadtverwaltung B" not in body
