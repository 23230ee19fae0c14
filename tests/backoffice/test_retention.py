"""Retention: purge_expired removes personal data and files exactly when due, never earlier."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from backoffice.casework import case_add_note, case_transition
from backoffice.models import AuditEntry, CaseNote
from backoffice.retention import retention_purge_expired
from submissions.models import Attachment, Submission
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices

pytestmark = pytest.mark.django_db

DECIDED = timezone.make_aware(datetime.datetime(2026, 3, 10, 14, 30))
# Above the platform minimum (PORTAL_MIN_RETENTION_DAYS, 365 by default).
RETENTION_DAYS = 400


@pytest.fixture
def decided_case():
    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-KEEP-0001")
    case.service.retention_days = RETENTION_DAYS
    case.service.save()
    clerk = make_staff("ret_clerk", "clerk", [office], login=False).user
    case_add_note(submission=case, actor=clerk, text="Rückruf bei Frau Mustermann")
    case_transition(submission=case, to_status="in_progress", actor=clerk)
    case_transition(submission=case, to_status="rejected", actor=clerk, comment="Unvollständig")
    Submission.objects.filter(pk=case.pk).update(decided_at=DECIDED)
    case.refresh_from_db()
    return case


def _files(case):
    return [case.office_pdf.name, case.receipt_pdf.name] + [
        a.file.name for a in case.attachments.all()
    ]


def test_nothing_is_purged_one_day_before_the_end_of_the_retention_period(decided_case):
    case = decided_case
    files = _files(case)
    report = retention_purge_expired(
        now=DECIDED + datetime.timedelta(days=RETENTION_DAYS - 1, hours=23, minutes=59)
    )
    assert report.submissions == []
    case.refresh_from_db()
    assert case.purged_at is None
    assert case.applicant_name == "Erika Mustermann"
    assert case.answers
    assert all(default_storage.exists(name) for name in files)
    assert CaseNote.objects.get(submission=case).text.startswith("Rückruf")


def test_everything_personal_is_purged_on_the_day_and_an_anonymous_record_stays(decided_case):
    case = decided_case
    files = _files(case)
    assert len(files) == 3 and all(default_storage.exists(name) for name in files)
    due = DECIDED + datetime.timedelta(days=RETENTION_DAYS)
    report = retention_purge_expired(now=due)
    assert report.submissions == [case.reference]
    assert report.files == 3 and report.attachments == 1 and report.notes == 1
    case.refresh_from_db()
    assert case.purged_at == due
    assert case.answers == {}
    assert case.applicant_name == "" and case.applicant_email == ""
    assert not case.office_pdf and not case.receipt_pdf
    assert not any(default_storage.exists(name) for name in files)
    assert not Attachment.objects.filter(submission=case).exists()
    note = CaseNote.objects.get(submission=case)
    assert note.text == "" and note.purged_at == due
    assert not case.events.exclude(comment="").exists()
    # The anonymous record: that the case existed, where, when and how it ended.
    assert case.reference == "TH-2026-KEEP-0001"
    assert case.status == "rejected"
    assert case.service_id and case.gemeinde_id and case.office_id
    assert case.submitted_at and case.decided_at == DECIDED
    assert AuditEntry.objects.filter(action="purge", submission=case).count() == 1
    # Idempotent.
    assert retention_purge_expired(now=due + datetime.timedelta(days=1)).submissions == []
    assert AuditEntry.objects.filter(action="purge", submission=case).count() == 1


def test_open_cases_and_other_services_are_not_purged(decided_case):
    office = decided_case.office
    open_case = make_case(office=office, reference="TH-2026-OPEN-0001")
    open_case.service.retention_days = 0
    open_case.service.save()
    Submission.objects.filter(pk=open_case.pk).update(
        submitted_at=DECIDED - datetime.timedelta(days=900)
    )
    long_case = make_case(office=office, reference="TH-2026-LONG-0001", status="approved")
    long_case.service.retention_days = 3650
    long_case.service.save()
    Submission.objects.filter(pk=long_case.pk).update(decided_at=DECIDED)
    report = retention_purge_expired(now=DECIDED + datetime.timedelta(days=RETENTION_DAYS + 1))
    assert report.submissions == [decided_case.reference]
    assert Submission.objects.get(pk=open_case.pk).purged_at is None
    assert Submission.objects.get(pk=long_case.pk).purged_at is None


def test_purge_expired_command_and_beat_job(decided_case, capsys, settings):
    Submission.objects.filter(pk=decided_case.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=RETENTION_DAYS + 1)
    )
    call_command("purge_expired")
    out = capsys.readouterr().out
    assert "purged 1 submissions" in out
    assert decided_case.reference in out
    call_command("purge_expired")
    assert "purged 0 submissions" in capsys.readouterr().out
    job = settings.CELERY_BEAT_SCHEDULE["submissions.purge_expired"]
    assert job["task"] == "submissions.tasks.purge_expired"
    from thueringen_portal.celery import app

    app.loader.import_default_modules()
    assert "submissions.tasks.purge_expired" in app.tasks


def test_purged_case_page_shows_the_anonymous_record(decided_case):
    retention_purge_expired(now=DECIDED + datetime.timedelta(days=RETENTION_DAYS))
    clerk = make_staff("ret_viewer", "clerk", [decided_case.office])
    base = "/admin/submissions/submission"
    page = clerk.client.get(f"{base}/{decided_case.pk}/change/").content.decode()
    assert decided_case.reference in page
    assert "Erika" not in page and "Bello" not in page
    assert clerk.client.get(f"{base}/{decided_case.pk}/pdf/office/").status_code == 404


def test_purge_keeps_a_case_for_the_platform_minimum_even_if_its_service_says_zero(
    decided_case, settings
):
    # Written before the floor existed, or straight into the database.
    assert settings.PORTAL_MIN_RETENTION_DAYS == 365
    Service = type(decided_case.service)
    Service.objects.filter(pk=decided_case.service_id).update(retention_days=0)
    day_before = DECIDED + datetime.timedelta(days=364, hours=23)
    assert retention_purge_expired(now=day_before).submissions == []
    assert Submission.objects.get(pk=decided_case.pk).purged_at is None
    due = DECIDED + datetime.timedelta(days=365)
    assert retention_purge_expired(now=due).submissions == [decided_case.reference]
