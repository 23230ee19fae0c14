"""Clerks of two offices: neither can read, change, export or download the other's cases."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from backoffice.models import AuditEntry, CaseNote
from submissions.models import Submission
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    office_a, office_b = two_offices()
    case_a = make_case(office=office_a, reference="TH-2026-AAAA-AAAA")
    case_b = make_case(office=office_b, reference="TH-2026-BBBB-BBBB")
    clerk_a = make_staff("clerk_a", "clerk", [office_a])
    clerk_b = make_staff("clerk_b", "clerk", [office_b])
    return {
        "a": (office_a, case_a, clerk_a),
        "b": (office_b, case_b, clerk_b),
    }


BASE = "/admin/submissions/submission"


def read_urls(case: Submission) -> list[str]:
    attachment = case.attachments.get()
    return [
        f"{BASE}/{case.pk}/",
        f"{BASE}/{case.pk}/change/",
        f"{BASE}/{case.pk}/history/",
        f"{BASE}/{case.pk}/delete/",
        f"{BASE}/{case.pk}/pdf/office/",
        f"{BASE}/{case.pk}/pdf/receipt/",
        f"{BASE}/{case.pk}/attachment/{attachment.pk}/",
    ]


def write_posts(case: Submission, other_user) -> list[tuple[str, dict]]:
    return [
        (f"{BASE}/{case.pk}/transition/", {"to_status": "in_progress", "comment": "x"}),
        (f"{BASE}/{case.pk}/transition/", {"to_status": "rejected", "comment": "weg"}),
        (f"{BASE}/{case.pk}/assign/", {"assignee": "me"}),
        (f"{BASE}/{case.pk}/assign/", {"assignee": str(other_user.pk)}),
        (f"{BASE}/{case.pk}/note/", {"text": "geheim"}),
        (f"{BASE}/{case.pk}/delete/", {"post": "yes"}),
        (f"{BASE}/{case.pk}/change/", {"status": "approved"}),
    ]


def action_posts(case: Submission) -> list[dict]:
    return [
        {"action": action, ACTION_CHECKBOX_NAME: [str(case.pk)], "index": "0"}
        for action in ("export_csv", "export_statistics_csv", "take_cases", "delete_selected")
    ]


@pytest.mark.parametrize(("me", "other"), [("a", "b"), ("b", "a")])
def test_clerk_gets_404_for_every_url_of_the_other_offices_case(world, me, other):
    _office, own_case, clerk = world[me]
    _other_office, foreign_case, _other_clerk = world[other]
    before = Submission.objects.values().get(pk=foreign_case.pk)

    # Positive control: the same URLs work for the clerk's own case.
    for url in read_urls(own_case):
        response = clerk.client.get(url)
        assert response.status_code in (200, 302, 403), (url, response.status_code)
    assert clerk.client.get(f"{BASE}/{own_case.pk}/change/").status_code == 200

    for url in read_urls(foreign_case):
        response = clerk.client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert foreign_case.applicant_name.encode() not in response.content
        assert foreign_case.reference.encode() not in response.content
    for url, data in write_posts(foreign_case, clerk.user):
        response = clerk.client.post(url, data)
        assert response.status_code == 404, (url, data, response.status_code)
    for data in action_posts(foreign_case):
        response = clerk.client.post(f"{BASE}/", data)
        assert response.status_code == 404, (data, response.status_code)
        assert b"%PDF" not in response.content
    # A forged ID mixed with an own one is refused as a whole.
    response = clerk.client.post(
        f"{BASE}/",
        {
            "action": "export_csv",
            ACTION_CHECKBOX_NAME: [str(own_case.pk), str(foreign_case.pk)],
            "index": "0",
        },
    )
    assert response.status_code == 404

    # The other office's attachment under the clerk's own case URL.
    foreign_attachment = foreign_case.attachments.get()
    response = clerk.client.get(f"{BASE}/{own_case.pk}/attachment/{foreign_attachment.pk}/")
    assert response.status_code == 404

    # Lists and searches never show the other office's case.
    for query in ("", f"?q={foreign_case.reference}", "?q=Erika", "?q=TH-2026"):
        response = clerk.client.get(f"{BASE}/{query}")
        assert response.status_code == 200
        assert foreign_case not in response.context["cl"].result_list
        assert f"{BASE}/{foreign_case.pk}/change/".encode() not in response.content
    assert own_case in clerk.client.get(f"{BASE}/").context["cl"].result_list
    response = clerk.client.get(f"{BASE}/?office__id__exact={foreign_case.office_id}")
    assert f"{BASE}/{foreign_case.pk}/change/".encode() not in response.content

    after = Submission.objects.values().get(pk=foreign_case.pk)
    assert after == before
    assert not CaseNote.objects.filter(submission=foreign_case).exists()
    # No entry says the clerk saw or changed it; every attempt is recorded as refused.
    entries = AuditEntry.objects.filter(submission=foreign_case, actor=clerk.user)
    assert set(entries.values_list("action", flat=True)) == {"refused"}


def test_hostile_ids_are_404(world):
    _office, case, clerk = world["a"]
    for object_id in ("abc", "-1", "0", "99999999999999999999", "1%00", "<script>", "1 OR 1=1"):
        for suffix in ("", "change/", "history/", "pdf/office/", "delete/"):
            response = clerk.client.get(f"{BASE}/{object_id}/{suffix}")
            assert response.status_code == 404, (object_id, suffix, response.status_code)
    for attachment_id in (
        "nope",
        "0" * 8 + "-" * 28,
        "00000000-0000-0000-0000-000000000000",
        "../../etc/passwd",
    ):
        response = clerk.client.get(f"{BASE}/{case.pk}/attachment/{attachment_id}/")
        assert response.status_code == 404
    assert clerk.client.get(f"{BASE}/{case.pk}/pdf/other/").status_code == 404


def test_own_downloads_are_private_attachments_with_nosniff_and_audited(world):
    _office, case, clerk = world["a"]
    response = clerk.client.get(f"{BASE}/{case.pk}/pdf/office/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.7 office")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    attachment = case.attachments.get()
    response = clerk.client.get(f"{BASE}/{case.pk}/attachment/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 attachment " + case.reference.encode()
    assert attachment.original_name in response["Content-Disposition"]
    actions = set(
        AuditEntry.objects.filter(submission=case, actor=clerk.user).values_list(
            "action", flat=True
        )
    )
    assert {"download_pdf", "download_attachment"} <= actions
    # Links go through the checked view; the storage path is never exposed or served.
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert case.office_pdf.name not in page
    assert attachment.file.name not in page
    assert clerk.client.get("/" + case.office_pdf.name).status_code == 404
    assert clerk.client.get("/media/" + attachment.file.name).status_code == 404


def test_export_csv_of_own_cases_has_no_personal_data_and_is_audited(world):
    _office, case, clerk = world["a"]
    response = clerk.client.post(
        f"{BASE}/",
        {"action": "export_csv", ACTION_CHECKBOX_NAME: [str(case.pk)], "index": "0"},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert case.reference in body
    assert "Erika" not in body
    assert "erika@example.org" not in body
    entry = AuditEntry.objects.get(action="export", actor=clerk.user)
    assert case.reference in entry.detail


def test_every_view_of_a_case_and_the_list_is_audited(world):
    _office, case, clerk = world["a"]
    clerk.client.get(f"{BASE}/")
    clerk.client.get(f"{BASE}/{case.pk}/change/")
    clerk.client.get(f"{BASE}/{case.pk}/history/")
    entries = AuditEntry.objects.filter(actor=clerk.user)
    assert entries.filter(action="view_list").count() == 1
    assert entries.filter(action="view_case", submission=case).count() == 1
    assert entries.filter(action="view_history", submission=case).count() == 1
    entry = entries.get(action="view_case")
    assert entry.ip_address == "127.0.0.1"
    assert entry.actor_username == "clerk_a"


def test_audit_trail_is_read_only_even_for_platform_admins(world):
    _office_a, case, clerk = world["a"]
    clerk.client.get(f"{BASE}/{case.pk}/change/")
    entry = AuditEntry.objects.filter(submission=case).first()
    admin = make_staff("platform", "platform")
    lead_b = make_staff("lead_b", "lead", [world["b"][0]])
    url = f"/admin/backoffice/auditentry/{entry.pk}/change/"
    assert admin.client.get(url).status_code == 200
    response = admin.client.post(url, {"detail": "manipuliert"})
    assert response.status_code == 403
    assert admin.client.post(f"/admin/backoffice/auditentry/{entry.pk}/delete/").status_code == 403
    assert admin.client.get("/admin/backoffice/auditentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.detail != "manipuliert"
    # A lead of the other office cannot even see it; a clerk has no access to the trail.
    assert lead_b.client.get(url).status_code == 404
    assert clerk.client.get(url).status_code == 404
    assert not clerk.user.has_perm("backoffice.change_auditentry")
    assert not admin.user.groups.filter(permissions__codename="delete_auditentry").exists()


def test_kompetenzzentrum_reads_no_citizen_data(world):
    _office, case, _clerk = world["a"]
    editor = make_staff("kompetenz", "kompetenzzentrum")
    for url in [f"{BASE}/", *read_urls(case), "/admin/backoffice/auditentry/"]:
        response = editor.client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert b"Erika" not in response.content
    for url in read_urls(case):
        assert editor.client.get(url).status_code == 404, url
    assert editor.client.get("/admin/backoffice/uebersicht/").status_code == 404
    response = editor.client.get("/admin/backoffice/statistik/")
    assert response.status_code == 200
    assert b"Erika" not in response.content
    assert case.reference.encode() not in response.content
    assert editor.user.has_perm("forms_catalog.publish_formversion")
    assert not editor.user.has_perm("submissions.view_submission")
    index = editor.client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/submissions/submission/" not in index.content


def test_platform_admin_sees_all_offices(world):
    admin = make_staff("platform", "platform")
    response = admin.client.get(f"{BASE}/")
    assert world["a"][1].reference.encode() in response.content
    assert world["b"][1].reference.encode() in response.content


def test_clerk_of_two_offices_sees_both(world):
    office_a, case_a, _ = world["a"]
    office_b, case_b, _ = world["b"]
    both = make_staff("both", "clerk", [office_a, office_b])
    response = both.client.get(f"{BASE}/")
    assert case_a.reference.encode() in response.content
    assert case_b.reference.encode() in response.content


def test_list_counts_are_capped_instead_of_counting_the_whole_table(world, settings):
    from backoffice.admin import common as backoffice_admin
    from tests.factories import SubmissionFactory

    office_a, _case, clerk = world["a"]
    SubmissionFactory.create_batch(12, office=office_a)
    original = backoffice_admin.LIST_COUNT_CAP
    backoffice_admin.LIST_COUNT_CAP = 10
    try:
        response = clerk.client.get(f"{BASE}/")
    finally:
        backoffice_admin.LIST_COUNT_CAP = original
    assert response.status_code == 200
    assert str(response.context["cl"].result_count) == "über 10"
    assert "über 10" in response.content.decode()
    response = clerk.client.get(f"{BASE}/")
    assert response.context["cl"].result_count == 13


def test_hostile_list_parameters_never_break_the_list(world):
    _office, case, clerk = world["a"]
    for query in (
        "?q=" + "A" * 10_000,
        "?q=%00%01%02TH-",
        "?q=<script>alert(1)</script>",
        "?q=th-2026-aaaa",
        "?gemeinde=abc",
        "?gemeinde=-1",
        "?alter=99",
        "?alter=x",
        "?bearbeitung=<script>",
        "?status__exact=bogus",
        "?o=99",
    ):
        response = clerk.client.get(f"{BASE}/{query}")
        assert response.status_code in (200, 302), (query, response.status_code)
        assert b"<script>alert(1)</script>" not in response.content
    # A lower-case reference prefix still finds the case.
    response = clerk.client.get(f"{BASE}/?q=th-2026-aaaa")
    assert case in response.context["cl"].result_list


def test_statistics_export_of_selected_cases_is_aggregate_only(world):
    _office, case, clerk = world["a"]
    Submission.objects.filter(pk=case.pk).update(status="approved")
    response = clerk.client.post(
        f"{BASE}/",
        {"action": "export_statistics_csv", ACTION_CHECKBOX_NAME: [str(case.pk)], "index": "0"},
    )
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("Leistung;Status;Anzahl")
    assert lines[1].endswith(";bewilligt;< 5;")  # one case: a small count
    assert case.reference not in body and "Erika" not in body
    assert AuditEntry.objects.filter(action="export", actor=clerk.user).exists()
    # Another office's case cannot be slipped into the selection.
    foreign = world["b"][1]
    response = clerk.client.post(
        f"{BASE}/",
        {"action": "export_statistics_csv", ACTION_CHECKBOX_NAME: [str(foreign.pk)], "index": "0"},
    )
    assert response.status_code == 404
