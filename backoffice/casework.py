"""Services of the back office: status transitions, assignment, internal notes.

Views and admin actions only call these. Each service checks again that the
acting staff member may work the case (scoping is not left to the views alone).
Each writes its audit entry (`audit`); the status e-mail itself is
`notifications`, sent by the task in `notification_tasks`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.enqueue import task_enqueue, task_enqueue_on_commit
from submissions.models import Submission, SubmissionEvent
from submissions.tallies import tally_status_changed

from .audit import audit_record
from .case_selectors import (
    FINAL_STATUSES,
    assignable_staff,
    can_assign_others,
    cases_for_user,
    office_ids_for_user,
)
from .models import AuditEntry, CaseNote, StatusNotification
from .notification_tasks import notify_case_status
from .texts import CaseWorkError, text_clean

Status = Submission.Status

# Which status may follow which. Withdrawal is the citizen's (or recorded by
# the clerk on the citizen's behalf); decided cases are closed for good.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.RECEIVED: {Status.IN_PROGRESS, Status.WITHDRAWN},
    Status.FORWARDED: {Status.IN_PROGRESS, Status.WITHDRAWN},
    # "info_requested" is reached only through `info_requests.case_request_info`
    # (question, deadline, the citizen's answer), never as a plain status change.
    Status.IN_PROGRESS: {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
    Status.INFO_REQUESTED: {
        Status.IN_PROGRESS,
        Status.APPROVED,
        Status.REJECTED,
        Status.WITHDRAWN,
    },
}
# The citizen must learn what is missing, or why the application was refused.
COMMENT_REQUIRED = {Status.INFO_REQUESTED, Status.REJECTED}


def _require_case_access(*, submission: Submission, actor) -> None:
    if not cases_for_user(user=actor).filter(pk=submission.pk).exists():
        # Same answer as for a case that does not exist: nothing to learn.
        raise Submission.DoesNotExist


def case_transition(
    *,
    submission: Submission,
    to_status: str,
    actor,
    comment: str = "",
    ip_address: str | None = None,
) -> SubmissionEvent:
    """Move a case to `to_status`, record it, and notify the citizen (e-mail after commit).

    `actor` None means the citizen (withdrawal from the status page). Raises
    CaseWorkError for a transition that is not allowed or lacks a comment, and
    Submission.DoesNotExist if the actor may not see the case.
    """
    comment = text_clean(comment)
    if to_status not in Status.values:
        raise CaseWorkError(_("Unbekannter Status."))
    if actor is None and to_status != Status.WITHDRAWN:
        raise CaseWorkError(_("Nur die Rücknahme kann ohne Sachbearbeitung erfolgen."))
    with transaction.atomic():
        if actor is not None:
            _require_case_access(submission=submission, actor=actor)
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        from_status = locked.status
        if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
            raise CaseWorkError(
                _("Der Status „%(from)s“ kann nicht in „%(to)s“ geändert werden.")
                % {"from": Status(from_status).label, "to": Status(to_status).label}
            )
        if not comment and (
            to_status in COMMENT_REQUIRED or (to_status == Status.WITHDRAWN and actor is not None)
        ):
            raise CaseWorkError(
                _("Bitte geben Sie eine Begründung für die antragstellende Person an.")
            )
        now = timezone.now()
        locked.status = to_status
        update_fields = ["status"]
        if to_status in FINAL_STATUSES:
            locked.decided_at = now
            update_fields.append("decided_at")
        locked.save(update_fields=update_fields)
        tally_status_changed(submission=locked, from_status=from_status, to_status=to_status)
        event = status_change_record(
            locked=locked,
            kind="status_changed",
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            actor=actor,
            action=AuditEntry.Action.TRANSITION,
            detail=f"{from_status} -> {to_status}",
            ip_address=ip_address,
        )
    submission.refresh_from_db()
    return event


def status_change_record(
    *,
    locked: Submission,
    kind: str,
    from_status: str,
    to_status: str,
    comment: str,
    actor,
    action: str,
    detail: str,
    ip_address: str | None,
) -> SubmissionEvent:
    """Record a status change the citizen sees: history event, audit entry, and the
    citizen's e-mail after commit. Call inside the transaction, with the row locked."""
    event = SubmissionEvent.objects.create(
        submission=locked,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        visible_to_citizen=True,
        actor=actor,
    )
    audit_record(
        actor=actor, action=action, submission=locked, ip_address=ip_address, detail=detail
    )
    if locked.applicant_email:
        notification = StatusNotification.objects.create(
            event=event, recipient=locked.applicant_email
        )
        _enqueue_notification(notification.pk, reference=locked.reference, on_commit=True)
    return event


def _enqueue_notification(notification_id: int, *, reference: str, on_commit: bool) -> None:
    # If the broker is down the notification stays recorded as unsent and the
    # beat job `case_resend_pending_notifications` picks it up.
    enqueue = task_enqueue_on_commit if on_commit else task_enqueue
    enqueue(
        task=notify_case_status,
        args=(notification_id,),
        about=f"status notification {notification_id} of {reference}",
    )


def case_resend_pending_notifications(
    *, older_than: datetime.timedelta = datetime.timedelta(minutes=5), max_attempts: int = 30
) -> int:
    """Re-enqueue status e-mails that were recorded but not sent (lost task, broker down).

    Idempotent: sending checks `sent_at` first. Returns how many were enqueued.
    """
    pending = list(
        StatusNotification.objects.filter(
            sent_at__isnull=True,
            created_at__lte=timezone.now() - older_than,
            attempts__lt=max_attempts,
        )
        .exclude(recipient="")
        .values_list("pk", "event__submission__reference")[:1000]
    )
    for notification_id, reference in pending:
        _enqueue_notification(notification_id, reference=reference, on_commit=False)
    return len(pending)


def case_assign(
    *, submission: Submission, assignee, actor, ip_address: str | None = None
) -> Submission:
    """Assign a case (None: unassign). Leads assign anyone of the office; a clerk only takes it."""
    with transaction.atomic():
        _require_case_access(submission=submission, actor=actor)
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if can_assign_others(user=actor, submission=locked):
            if (
                assignee is not None
                and not assignable_staff(submission=locked).filter(pk=assignee.pk).exists()
            ):
                raise CaseWorkError(_("Diese Person arbeitet nicht für die zuständige Behörde."))
        else:
            taking = assignee is not None and assignee.pk == actor.pk
            releasing = assignee is None and locked.assigned_to_id == actor.pk
            if not (taking or releasing) or locked.office_id not in office_ids_for_user(user=actor):
                raise CaseWorkError(
                    _("Sie können einen Antrag nur sich selbst zuweisen oder abgeben.")
                )
        previous = locked.assigned_to.username if locked.assigned_to else ""
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to"])
        new = assignee.username if assignee else ""
        SubmissionEvent.objects.create(
            submission=locked,
            kind="assigned",
            comment=new,
            visible_to_citizen=False,
            actor=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ASSIGN,
            submission=locked,
            ip_address=ip_address,
            detail=f"{previous or '-'} -> {new or '-'}",
        )
    submission.refresh_from_db()
    return submission


@dataclass(frozen=True)
class BulkAssignResult:
    assigned: int
    # (reference, why not) for every case that was left as it was
    refused: list[tuple[str, str]]


def case_bulk_assign(
    *, submissions: Iterable[Submission], assignee, actor, ip_address: str | None = None
) -> BulkAssignResult:
    """Assign several cases to one person (None: unassign), each through case_assign.

    Each case is checked on its own (its office, the assignee's membership);
    a refused one is reported and leaves the others unaffected.
    """
    assigned = 0
    refused = []
    for submission in submissions:
        try:
            case_assign(
                submission=submission, assignee=assignee, actor=actor, ip_address=ip_address
            )
            assigned += 1
        except CaseWorkError as exc:
            refused.append((submission.reference, str(exc)))
    return BulkAssignResult(assigned=assigned, refused=refused)


def case_add_note(
    *, submission: Submission, actor, text: str, ip_address: str | None = None
) -> CaseNote:
    """Add an internal note (never shown to the citizen)."""
    text = text_clean(text)
    if not text:
        raise CaseWorkError(_("Die Notiz ist leer."))
    with transaction.atomic():
        _require_case_access(submission=submission, actor=actor)
        if Submission.objects.filter(pk=submission.pk, purged_at__isnull=False).exists():
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        note = CaseNote.objects.create(submission=submission, author=actor, text=text)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ADD_NOTE,
            submission=submission,
            ip_address=ip_address,
            detail=f"note {note.pk}",
        )
    return note
