"""The clerk's workbench: start page, case list filter, case page, documents by field,
ZIP downloads, hand-over and Wiedervorlage, each scoped to the clerk's offices."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from backoffice.case_zip import CHUNK_BYTES, ZipMember, unique_names, zip_member_name, zip_stream
from backoffice.event_labels import (
    EVENT_LABELS,
    event_label,
    local_time_display,
    size_display,
)
from backoffice.models import AuditEntry
from backoffice.retention import retention_purge_expired
from backoffice.texts import CaseWorkError
from backoffice.workbench import (
    case_hand_over_mark,
    case_resubmission_set,
    resubmission_date_parse,
)
from backoffice.workbench_selectors import (
    SECTION_LIMIT,
    case_documents,
    due_q,
    workbench_sections,
)
from submissions.models import Attachment, InfoRequest, Submission, SubmissionEvent
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices
from tests.factories import FormVersionFactory, SubmissionFactory, days_ago

pytestmark = pytest.mark.django_db

BASE = "/admin/submissions/submission"
ROOT = Path(__file__).resolve().parents[2]

DOCUMENT_DEFINITION = {
    "schema_version": 1,
    "steps": [
        {
            "id": "halter",
            "title": {"de": "Halterin oder Halter", "en": "Keeper"},
            "fields": [
                {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"}},
                {
                    "id": "nachweis",
                    "type": "file",
                    "label": {"de": "Nachweis der Ermäßigung", "en": "Proof"},
                    "multiple": True,
                    "max_files": 5,
                },
                {
                    "id": "hunde",
                    "type": "group",
                    "label": {"de": "Hunde", "en": "Dogs"},
                    "repeatable": True,
                    "min": 1,
                    "max": 5,
                    "item_label": {"de": "Hund", "en": "Dog"},
                    "fields": [
                        {"id": "rufname", "type": "text", "label": {"de": "Rufname", "en": "Name"}},
                        {
                            "id": "impfpass",
                            "type": "file",
                            "label": {"de": "Impfpass", "en": "Vaccination record"},
                        },
                    ],
                },
            ],
        }
    ],
}


def _attach(case: Submission, field_path: str, name: str, content: bytes) -> Attachment:
    attachment = Attachment(
        submission=case,
        field_path=field_path,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256="a" * 64,
    )
    attachment.file.save("ignored", ContentFile(content))
    return attachment


def _answer(attachment: Attachment) -> dict:
    return {
        "attachment_id": str(attachment.pk),
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


@pytest.fixture
def documents_case():
    office, other_office = two_offices()
    version = FormVersionFactory(definition=DOCUMENT_DEFINITION)
    case = SubmissionFactory(office=office, reference="TH-2026-DOCS-0001", form_version=version)
    case.office_pdf.save("antrag.pdf", ContentFile(b"%PDF-1.7 office copy"))
    first = _attach(case, "nachweis", "nachweis.pdf", b"%PDF-1.7 one")
    second = _attach(case, "nachweis", "nachweis.pdf", b"%PDF-1.7 two")
    dog_one = _attach(case, "hunde-0-impfpass", "impfpass.pdf", b"%PDF-1.7 dog one")
    dog_two = _attach(case, "hunde-1-impfpass", "../../etc/passwd", b"%PDF-1.7 dog two")
    stray = _attach(case, "altes_feld", "alt\u202egpj.exe", b"%PDF-1.7 stray")
    case.answers = {
        "name": "Erika Mustermann",
        "nachweis": [_answer(first), _answer(second)],
        "hunde": [
            {"rufname": "Bello", "impfpass": _answer(dog_one)},
            {"rufname": "Rex", "impfpass": _answer(dog_two)},
        ],
    }
    case.save(update_fields=["answers"])
    return {
        "office": office,
        "other_office": other_office,
        "case": case,
        "attachments": [first, second, dog_one, dog_two, stray],
    }


# --- German words in one place -------------------------------------------------


def _written_event_kinds() -> set[str]:
    """Every literal history kind the code writes (SubmissionEvent rows, pipeline steps)."""
    kinds: set[str] = set()
    patterns = [
        re.compile(
            r"SubmissionEvent\.objects\.create\((?:[^()]|\([^()]*\))*?kind=\"([a-z_]+)\"", re.S
        ),
        re.compile(r"complete\(\s*event=\"([a-z_]+)\""),
        re.compile(r"_event\(\s*\w+,\s*\"([a-z_]+)\""),
        re.compile(r"_KIND = \"([a-z_]+)\""),
    ]
    for folder in ("submissions", "backoffice", "citizen"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in patterns:
                kinds.update(pattern.findall(text))
    return kinds


def test_every_history_kind_the_code_writes_has_a_german_label():
    kinds = _written_event_kinds()
    # Negative control: the scan finds the kinds of submit, pipeline, case work and workbench.
    assert {"submitted", "office_resolved", "status_changed", "assigned", "handed_over"} <= kinds
    assert {kind for kind in kinds if event_label(kind) == kind} == set()
    for kind in (
        "info_requested",
        "info_answered",
        "info_reminder_sent",
        "info_deadline_passed",
        "decision_letter_issued",
        "case_reopened",
        "decision_corrected",
        "resubmission_set",
    ):
        assert kind in EVENT_LABELS
    assert event_label("delivered_email") == "zugestellt: E-Mail-Benachrichtigung"
    assert event_label("delivery_failed_webhook") == "Zustellung fehlgeschlagen: Webhook"
    assert event_label("handed_over") == "an Fachverfahren übergeben"
    assert event_label("something_new") == "something_new"  # shown, never hidden


def test_times_are_local_and_sizes_german():
    winter = datetime.datetime(2026, 11, 26, 9, 15, tzinfo=datetime.UTC)
    summer = datetime.datetime(2026, 7, 1, 22, 30, tzinfo=datetime.UTC)
    assert local_time_display(winter) == "26.11.2026, 10:15 Uhr"
    assert local_time_display(summer) == "02.07.2026, 00:30 Uhr"
    assert size_display(812) == "812 Bytes"
    assert size_display(12_700) == "12,4 KB"
    assert size_display(1_258_291) == "1,2 MB"


# --- The start page -------------------------------------------------------------


@pytest.fixture
def desk():
    office, other_office = two_offices()
    clerk = make_staff("clerk_desk", "clerk", [office])
    clerk.user.first_name, clerk.user.last_name = "Erika", "Sachbearbeiterin"
    clerk.user.save()
    today = timezone.localdate()
    cases = {
        "mine": SubmissionFactory(
            office=office,
            assigned_to=clerk.user,
            status="in_progress",
            reference="TH-2026-MINE-0001",
        ),
        "mine_done": SubmissionFactory(
            office=office, assigned_to=clerk.user, status="approved", reference="TH-2026-DONE-0001"
        ),
        "new": SubmissionFactory(office=office, status="forwarded", reference="TH-2026-NEUE-0001"),
        "waiting": SubmissionFactory(
            office=office,
            status="info_requested",
            assigned_to=clerk.user,
            reference="TH-2026-WART-0001",
        ),
        "due": SubmissionFactory(
            office=office,
            status="approved",
            resubmission_on=today,
            reference="TH-2026-FAEL-0001",
        ),
        "later": SubmissionFactory(
            office=office,
            status="approved",
            resubmission_on=today + datetime.timedelta(days=3),
            reference="TH-2026-SPAE-0001",
        ),
        "foreign": SubmissionFactory(
            office=other_office,
            status="forwarded",
            resubmission_on=today - datetime.timedelta(days=1),
            reference="TH-2026-FREM-0001",
        ),
    }
    return office, clerk, cases


def _section_refs(sections) -> dict[str, set[str]]:
    return {s.key: {case.reference for case in s.cases} for s in sections}


def test_start_page_sections_are_scoped_and_counted(desk):
    _office, clerk, cases = desk
    sections = workbench_sections(user=clerk.user)
    refs = _section_refs(sections)
    assert refs["mine"] == {cases["mine"].reference, cases["waiting"].reference}
    assert refs["unassigned"] == {cases["new"].reference}
    assert refs["waiting"] == {cases["waiting"].reference}
    assert refs["due"] == {cases["due"].reference}
    assert {s.key: s.count for s in sections} == {
        "mine": 2,
        "unassigned": 1,
        "waiting": 1,
        "due": 1,
    }
    # The other office's overdue case is nowhere.
    assert all(cases["foreign"].reference not in r for r in refs.values())


def test_start_page_lists_at_most_ten_newest_but_counts_all(desk):
    office, clerk, _cases = desk
    for n in range(SECTION_LIMIT + 3):
        SubmissionFactory(office=office, status="received", submitted_at=days_ago(n + 1))
    unassigned = {s.key: s for s in workbench_sections(user=clerk.user)}["unassigned"]
    assert len(unassigned.cases) == SECTION_LIMIT
    assert unassigned.count == SECTION_LIMIT + 3 + 1
    dates = [case.submitted_at for case in unassigned.cases]
    assert dates == sorted(dates, reverse=True)


def test_start_page_is_the_landing_page_of_clerks_and_leads(desk):
    office, clerk, cases = desk
    response = clerk.client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Meine Fälle</h1>" in page
    for title in (
        "Mir zugewiesen",
        "Neu / nicht zugewiesen in meinen Behörden",
        "Wartet auf Antwort der antragstellenden Person",
        "Überfällig / Wiedervorlage fällig",
    ):
        assert title in page
    assert cases["mine"].reference in page and cases["due"].reference in page
    assert cases["foreign"].reference not in page
    assert f"{BASE}/?faellig=ja" in page
    assert f"{BASE}/?bearbeitung=mir&amp;status__in=received,forwarded" in page
    assert AuditEntry.objects.filter(
        actor=clerk.user, action="view_list", detail="Startseite (Meine Fälle)"
    ).exists()
    lead = make_staff("lead_desk", "lead", [office])
    assert "<h1>Meine Fälle</h1>" in lead.client.get("/admin/").content.decode()
    # The Kompetenzzentrum and platform administrators keep the admin's own start page.
    for role in ("kompetenzzentrum", "platform"):
        other = make_staff(f"{role}_desk", role)
        page = other.client.get("/admin/").content.decode()
        assert "Meine Fälle</h1>" not in page
        assert cases["mine"].reference not in page


def test_due_filter_of_the_case_list_matches_the_start_page(desk):
    _office, clerk, cases = desk
    response = clerk.client.get(f"{BASE}/?faellig=ja")
    assert response.status_code == 200
    assert [c.reference for c in response.context["cl"].result_list] == [cases["due"].reference]
    response = clerk.client.get(f"{BASE}/?faellig=<script>")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    today = timezone.localdate()
    assert set(
        Submission.objects.filter(due_q(today=today)).values_list("reference", flat=True)
    ) == {
        cases["due"].reference,
        cases["foreign"].reference,
    }


def test_case_list_names_staff_and_drops_the_single_office_column(desk):
    office, clerk, cases = desk
    response = clerk.client.get(f"{BASE}/")
    page = response.content.decode()
    assert "Erika Sachbearbeiterin" in page
    assert "Antrag zum Ansehen auswählen" not in page
    assert "column-office_display" not in page  # one office: the column says nothing
    both = make_staff("clerk_two_offices", "clerk", [office, cases["foreign"].office])
    assert "column-office_display" in both.client.get(f"{BASE}/").content.decode()


# --- Documents by field -----------------------------------------------------------


def test_documents_are_listed_under_their_fields_label(documents_case):
    groups = case_documents(submission=documents_case["case"])
    first, second, dog_one, dog_two, stray = documents_case["attachments"]
    assert [(g.label, [a.pk for a in g.attachments]) for g in groups] == [
        ("Nachweis der Ermäßigung", [first.pk, second.pk]),
        ("Hund 1: Impfpass", [dog_one.pk]),
        ("Hund 2: Impfpass", [dog_two.pk]),
        ("Weitere Unterlagen (altes_feld)", [stray.pk]),
    ]


def test_case_page_shows_documents_by_field_with_german_sizes(documents_case):
    case = documents_case["case"]
    clerk = make_staff("clerk_docs", "clerk", [documents_case["office"]])
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "<h3>Hund 2: Impfpass</h3>" in page
    assert "<h3>Nachweis der Ermäßigung</h3>" in page
    assert "(16 Bytes)" in page
    assert f"{BASE}/{case.pk}/unterlagen-zip/" in page
    assert "Alle Unterlagen als ZIP herunterladen" in page


def test_zip_names_cannot_escape_or_collide():
    assert zip_member_name(label="Hund 2: Impfpass", filename="../../etc/passwd") == (
        "Hund 2_ Impfpass - passwd"
    )
    assert zip_member_name(label="A/B\\C", filename="x\u202egpj.exe") == "A_B_C - xgpj.exe"
    assert zip_member_name(label="", filename="....") == "datei"
    assert unique_names(["a.pdf", "A.pdf", "a.pdf", "b"]) == [
        "a.pdf",
        "A (2).pdf",
        "a (3).pdf",
        "b",
    ]


def _zip_of(response) -> zipfile.ZipFile:
    assert response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_documents_zip_is_streamed_complete_and_audited(documents_case):
    case = documents_case["case"]
    clerk = make_staff("clerk_zip", "clerk", [documents_case["office"]])
    response = clerk.client.get(f"{BASE}/{case.pk}/unterlagen-zip/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="TH-2026-DOCS-0001-unterlagen.zip"' in response["Content-Disposition"]
    archive = _zip_of(response)
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == [
        "Antrag TH-2026-DOCS-0001.pdf",
        "Nachweis der Ermäßigung - nachweis.pdf",
        "Nachweis der Ermäßigung - nachweis (2).pdf",
        "Hund 1_ Impfpass - impfpass.pdf",
        "Hund 2_ Impfpass - passwd",
        "Weitere Unterlagen (altes_feld) - altgpj.exe",
    ]
    assert all("/" not in name and "\\" not in name and ".." not in name for name in names)
    assert archive.read("Nachweis der Ermäßigung - nachweis (2).pdf") == b"%PDF-1.7 two"
    assert archive.read("Antrag TH-2026-DOCS-0001.pdf") == b"%PDF-1.7 office copy"
    entry = AuditEntry.objects.get(actor=clerk.user, action="download_zip")
    assert entry.submission_id == case.pk and entry.detail == "6 Dateien"


def test_hand_over_zip_has_pdf_json_export_manifest_and_uploads(documents_case):
    case = documents_case["case"]
    clerk = make_staff("clerk_export", "clerk", [documents_case["office"]])
    response = clerk.client.get(f"{BASE}/{case.pk}/fachverfahren-zip/")
    assert response.status_code == 200
    archive = _zip_of(response)
    names = archive.namelist()
    assert names[:3] == [
        "Antrag TH-2026-DOCS-0001.pdf",
        "Antrag TH-2026-DOCS-0001.json",
        "uebergabe.json",
    ]
    assert len(names) == 8
    export = json.loads(archive.read("Antrag TH-2026-DOCS-0001.json"))
    assert export["reference"] == case.reference
    manifest = json.loads(archive.read("uebergabe.json"))
    assert [f["field_label"] for f in manifest["files"]][2:4] == [
        "Hund 1: Impfpass",
        "Hund 2: Impfpass",
    ]
    assert {f["name"] for f in manifest["files"]} <= set(names)
    assert AuditEntry.objects.filter(actor=clerk.user, action="hand_over_export").count() == 1


def test_zip_stream_hands_over_each_chunk_instead_of_the_whole_archive(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    big = b"x" * (CHUNK_BYTES * 8 + 5)
    storage.save("big.bin", ContentFile(big))
    chunks = list(
        zip_stream(
            [
                ZipMember(name="gross.bin", storage_name="big.bin", storage=storage),
                ZipMember(name="fehlt.pdf", storage_name="missing.bin", storage=storage),
            ]
        )
    )
    # Many chunks, none much larger than one read: never the whole ZIP at once.
    assert len([c for c in chunks if c]) >= 8
    assert max(len(c) for c in chunks) <= CHUNK_BYTES + 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.read("gross.bin") == big
    assert "fehlt.pdf" in archive.read("FEHLENDE_DATEIEN.txt").decode()


# --- Hand-over and Wiedervorlage --------------------------------------------------


def test_marking_handed_over_records_reference_event_and_audit(documents_case):
    case = documents_case["case"]
    clerk = make_staff("clerk_hand", "clerk", [documents_case["office"]])
    url = f"{BASE}/{case.pk}/uebergeben/"
    response = clerk.client.post(url, {"handed_over_reference": "  AZ 4711/2026 \x00 "})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.handed_over_reference == "AZ 4711/2026"
    assert case.handed_over_at is not None
    event = case.events.get(kind="handed_over")
    assert (event.comment, event.actor_id, event.visible_to_citizen) == (
        "AZ 4711/2026",
        clerk.user.pk,
        False,
    )
    assert AuditEntry.objects.filter(action="hand_over", submission=case).count() == 1
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "an Fachverfahren übergeben" in page and "AZ 4711/2026" in page
    # Empty, too long or not text: a German message, nothing changes.
    for data, message in [
        ({"handed_over_reference": "   "}, "Bitte geben Sie das Aktenzeichen im Fachverfahren an."),
        ({"handed_over_reference": "x" * 5000}, "Das Aktenzeichen ist zu lang"),
        ({}, "Bitte geben Sie das Aktenzeichen im Fachverfahren an."),
    ]:
        response = clerk.client.post(url, data, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), data
    case.refresh_from_db()
    assert case.handed_over_reference == "AZ 4711/2026"
    assert case.events.filter(kind="handed_over").count() == 1


def test_wiedervorlage_set_shown_due_and_cleared(documents_case):
    case = documents_case["case"]
    clerk = make_staff("clerk_wv", "clerk", [documents_case["office"]])
    url = f"{BASE}/{case.pk}/wiedervorlage/"
    today = timezone.localdate()
    response = clerk.client.post(
        url, {"resubmission_on": today.isoformat(), "resubmission_note": "Nachweis prüfen"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.resubmission_on, case.resubmission_note) == (today, "Nachweis prüfen")
    event = case.events.get(kind="resubmission_set")
    assert event.comment == f"{today:%d.%m.%Y}: Nachweis prüfen"
    assert case.reference in clerk.client.get("/admin/").content.decode()
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "Wiedervorlage gesetzt" in page and "(fällig)" in page
    # Refusals keep the date: the past, garbage, a note too long.
    for data, message in [
        ({"resubmission_on": "2001-01-01"}, "Vergangenheit"),
        ({"resubmission_on": "morgen"}, "ungültig"),
        ({"resubmission_on": "2026-02-30"}, "ungültig"),
        ({"resubmission_on": today.isoformat(), "resubmission_note": "x" * 201}, "zu lang"),
        ({}, "Datum"),
    ]:
        text = clerk.client.post(url, data, follow=True).content.decode()
        assert message in text, (data, message)
    case.refresh_from_db()
    assert case.resubmission_on == today
    clerk.client.post(url, {"clear": "1"})
    case.refresh_from_db()
    assert (case.resubmission_on, case.resubmission_note) == (None, "")
    assert case.events.filter(kind="resubmission_cleared").count() == 1
    assert AuditEntry.objects.filter(action="resubmission", submission=case).count() == 2


def test_resubmission_date_accepts_the_date_fields_and_german_format():
    today = datetime.date(2026, 11, 26)
    assert resubmission_date_parse("2026-12-01", today=today) == datetime.date(2026, 12, 1)
    assert resubmission_date_parse("01.12.2026", today=today) == datetime.date(2026, 12, 1)
    for raw in (None, 5, ["2026-12-01"], "2040-01-01", "2026-11-25"):
        with pytest.raises(CaseWorkError):
            resubmission_date_parse(raw, today=today)


def test_retention_clears_the_wiedervorlage(documents_case):
    case = documents_case["case"]
    case.resubmission_on = timezone.localdate()
    case.resubmission_note = "Frau Mustermann anrufen"
    case.status = "approved"
    case.decided_at = timezone.now() - datetime.timedelta(days=5000)
    case.save()
    retention_purge_expired()
    case.refresh_from_db()
    assert case.purged_at is not None
    assert (case.resubmission_on, case.resubmission_note) == (None, "")


# --- Scoping: another office's case is a 404 at every new URL -----------------------


def test_other_offices_case_is_404_at_every_workbench_url_and_audited(documents_case):
    case = documents_case["case"]
    intruder = make_staff("clerk_intruder_wb", "clerk", [documents_case["other_office"]])
    before = Submission.objects.values().get(pk=case.pk)
    for url in (f"{BASE}/{case.pk}/unterlagen-zip/", f"{BASE}/{case.pk}/fachverfahren-zip/"):
        response = intruder.client.get(url)
        assert response.status_code == 404, url
        assert not getattr(response, "streaming", False)
    for url, data in [
        (f"{BASE}/{case.pk}/uebergeben/", {"handed_over_reference": "AZ 1"}),
        (f"{BASE}/{case.pk}/wiedervorlage/", {"resubmission_on": "2099-01-01"}),
        (f"{BASE}/{case.pk}/wiedervorlage/", {"clear": "1"}),
    ]:
        assert intruder.client.post(url, data).status_code == 404, url
    assert Submission.objects.values().get(pk=case.pk) == before
    assert not SubmissionEvent.objects.filter(
        submission=case, kind__in=["handed_over", "resubmission_set", "resubmission_cleared"]
    ).exists()
    refused = AuditEntry.objects.filter(actor=intruder.user, submission=case)
    assert set(refused.values_list("action", flat=True)) == {"refused"}
    assert refused.count() == 5
    # GET on the write URLs is refused too, and hostile ids are plain 404s.
    owner = make_staff("clerk_owner_wb", "clerk", [documents_case["office"]])
    assert owner.client.get(f"{BASE}/{case.pk}/uebergeben/").status_code == 403
    for object_id in ("abc", "0", "99999999999999999999", "<script>"):
        assert owner.client.get(f"{BASE}/{object_id}/unterlagen-zip/").status_code == 404


def test_services_refuse_another_offices_case(documents_case):
    case = documents_case["case"]
    intruder = make_staff("clerk_service_wb", "clerk", [documents_case["other_office"]])
    with pytest.raises(Submission.DoesNotExist):
        case_hand_over_mark(submission=case, actor=intruder.user, reference="AZ")
    with pytest.raises(Submission.DoesNotExist):
        case_resubmission_set(submission=case, actor=intruder.user, on=timezone.localdate())


# --- The case page in German words ------------------------------------------------


def test_case_page_speaks_german_with_real_names_and_local_time():
    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-NAME-0001")
    lead = make_staff("lead_names", "lead", [office])
    clerk = make_staff("clerk_names", "clerk", [office])
    clerk.user.first_name, clerk.user.last_name = "Jonas", "Becker"
    clerk.user.save()
    lead.user.first_name, lead.user.last_name = "Greta", "Hoffmann"
    lead.user.save()
    SubmissionEvent.objects.create(submission=case, kind="submitted", to_status="received")
    SubmissionEvent.objects.create(submission=case, kind="delivered_inbox")
    lead.client.post(f"{BASE}/{case.pk}/assign/", {"assignee": str(clerk.user.pk)})
    clerk.client.post(f"{BASE}/{case.pk}/transition/", {"to_status": "in_progress"})
    clerk.client.post(f"{BASE}/{case.pk}/note/", {"text": "Rückruf vereinbart"})
    page = lead.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    for text in (
        "Antrag eingereicht",
        "zugestellt: Posteingang im Fachverfahren (Back Office)",
        "Zuweisung geändert",
        "Status geändert</strong>: eingegangen → in Bearbeitung",
        "Jonas Becker",
        "Greta Hoffmann",
        "Rückruf vereinbart",
        "Nachrichten mit der antragstellenden Person",
        "Antrag angesehen",  # the audit list: German actions
        "– → Jonas Becker",
    ):
        assert text in page, text
    for raw in ("status_changed", "delivered_inbox", "received →", "clerk_names</"):
        assert raw not in page, raw
    assert re.search(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr", page)
    # The right column's order: status, (panels), messages, notes, history.
    positions = [
        page.index(marker)
        for marker in (
            'id="case-work"',
            'id="case-messages"',
            'id="case-notes"',
            'id="case-history"',
        )
    ]
    assert positions == sorted(positions)
    template = (ROOT / "backoffice/templates/admin/portal/case_page.html").read_text()
    assert template.index("{# panels: _rueckfrage.html, _decision.html are included here #}") < (
        template.index('id="case-messages"')
    )


def test_an_overdue_rueckfrage_is_due_and_an_answered_or_open_one_is_not(desk):
    office, clerk, cases = desk
    today = timezone.localdate()
    overdue = SubmissionFactory(office=office, status="info_requested")
    answered = SubmissionFactory(office=office, status="info_requested")
    still_open = SubmissionFactory(office=office, status="info_requested")
    InfoRequest.objects.create(
        submission=overdue, question="?", deadline=today - datetime.timedelta(days=1)
    )
    InfoRequest.objects.create(
        submission=answered,
        question="?",
        deadline=today - datetime.timedelta(days=1),
        answered_at=timezone.now(),
    )
    InfoRequest.objects.create(
        submission=still_open, question="?", deadline=today + datetime.timedelta(days=1)
    )
    due = {s.key: s for s in workbench_sections(user=clerk.user)}["due"]
    assert {case.reference for case in due.cases} == {
        cases["due"].reference,
        overdue.reference,
    }
    assert due.count == 2
    response = clerk.client.get(f"{BASE}/?faellig=ja")
    assert {c.reference for c in response.context["cl"].result_list} == {
        cases["due"].reference,
        overdue.reference,
    }
