"""Retention: delete citizens' personal data when its time is up, keep an anonymous record.

A decided case (approved, rejected, withdrawn) is due `Service.retention_days`
after its decision, but never before PORTAL_MIN_RETENTION_DAYS, whatever a
service row says. What stays of a case: reference, service, Gemeinde, office,
dates, status and `purged_at`. Expired drafts are purged by the citizen side's
own hourly job (`purge_expired_drafts`), not here.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from forms_catalog.models import Service
from submissions.models import Attachment, InfoRequest, Submission

from .audit import audit_record
from .case_selectors import FINAL_STATUSES
from .models import AuditEntry, CaseNote

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    submissions: list[str] = field(default_factory=list)
    files: int = 0
    attachments: int = 0
    notes: int = 0

    def summary(self) -> str:
        return (
            f"purged {len(self.submissions)} submissions, "
            f"{self.attachments} attachments, {self.notes} notes, {self.files} files"
        )


def _delete_file(file_field) -> int:
    if not file_field or not file_field.name:
        return 0
    storage, name = file_field.storage, file_field.name
    if storage.exists(name):
        storage.delete(name)
        return 1
    return 0


def due_submissions(*, now: datetime.datetime) -> list[int]:
    """Ids of decided, not yet purged submissions whose retention period has ended at `now`."""
    ids: list[int] = []
    minimum = settings.PORTAL_MIN_RETENTION_DAYS
    for service_id, days in Service.objects.values_list("id", "retention_days"):
        # A row below the floor (written before it existed, or by hand in the
        # database) must not erase cases early.
        cutoff = now - datetime.timedelta(days=max(days, minimum))
        ids += Submission.objects.filter(
            service_id=service_id,
            status__in=FINAL_STATUSES,
            purged_at__isnull=True,
            decided_at__isnull=False,
            decided_at__lte=cutoff,
        ).values_list("id", flat=True)
    return ids


def service_retention_set(
    *, service: Service, days: int, actor, ip_address: str | None = None
) -> bool:
    """Set a service's retention period; platform administrators (superusers) only, audited.

    Raises PermissionDenied for anyone else and ValidationError below
    PORTAL_MIN_RETENTION_DAYS. Returns whether the value changed; an
    unchanged value writes nothing. The audit entry names old and new value.
    """
    if not (actor is not None and actor.is_active and actor.is_superuser):
        raise PermissionDenied("only platform administrators change retention periods")
    # The model field's validators: whole days, at least the platform minimum.
    Service._meta.get_field("retention_days").run_validators(days)
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        previous = locked.retention_days
        if previous == days:
            return False
        locked.retention_days = days
        locked.save(update_fields=["retention_days"])
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CHANGE_RETENTION,
            ip_address=ip_address,
            detail=f"service {locked.slug}: retention_days {previous} -> {days}",
        )
    service.retention_days = days
    return True


def _purge_submission(*, submission_id: int, now: datetime.datetime, report: PurgeReport) -> None:
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.purged_at is not None:
            return
        files = _delete_file(submission.office_pdf) + _delete_file(submission.receipt_pdf)
        attachments = list(Attachment.objects.filter(submission=submission))
        for attachment in attachments:
            files += _delete_file(attachment.file)
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
        notes = CaseNote.objects.filter(submission=submission, purged_at__isnull=True).update(
            text="", purged_at=now
        )
        # Messages to the citizen may quote personal data as well.
        submission.events.exclude(comment="").update(comment="")
        # So may the Rückfrage and the citizen's answer (its files went with the attachments).
        InfoRequest.objects.filter(submission=submission).update(question="", answer="")
        submission.answers = {}
        submission.applicant_name = ""
        submission.applicant_email = ""
        submission.office_pdf = ""
        submission.receipt_pdf = ""
        submission.pipeline_error = ""
        # A Wiedervorlage's note may name people too; a purged case is not worked again.
        submission.resubmission_on = None
        submission.resubmission_note = ""
        submission.purged_at = now
        submission.save(
            update_fields=[
                "answers",
                "applicant_name",
                "applicant_email",
                "office_pdf",
                "receipt_pdf",
                "pipeline_error",
                "resubmission_on",
                "resubmission_note",
                "purged_at",
            ]
        )
        audit_record(
            actor=None,
            action=AuditEntry.Action.PURGE,
            submission=submission,
            detail=f"{len(attachments)} attachments, {notes} notes, {files} files",
        )
    report.submissions.append(submission.reference)
    report.files += files
    report.attachments += len(attachments)
    report.notes += notes


def retention_purge_expired(*, now: datetime.datetime | None = None) -> PurgeReport:
    """Purge every decided submission that is due at `now`. Idempotent; logs what it deleted."""
    now = now or timezone.now()
    report = PurgeReport()
    for submission_id in due_submissions(now=now):
        _purge_submission(submission_id=submission_id, now=now, report=report)
    logger.info(
        "retention: %s; references: %s",
        report.summary(),
        ", ".join(report.submissions) or "-",
    )
    return report
