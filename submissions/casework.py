"""Services of the back office: status transitions, assignment, internal notes, the audit trail.

Views and admin actions only call these. Each service checks again that the
acting staff member may work the case (scoping is not left to the views alone).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .case_selectors import (
    FINAL_STATUSES,
    assignable_staff,
    can_assign_others,
    cases_for_user,
    office_ids_for_user,
)
from .enqueue import task_enqueue, task_enqueue_on_commit
from .mail import mail_connection, mail_message_id, mail_send
from .models import AuditEntry, CaseNote, StatusNotification, Submission, SubmissionEvent

logger = logging.getLogger(__name__)

Status = Submission.Status

# Which status may follow which. Withdrawal is the citizen's (or recorded by
# the clerk on the citizen's behalf); decided cases are closed for good.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.RECEIVED: {Status.IN_PROGRESS, Status.WITHDRAWN},
    Status.FORWARDED: {Status.IN_PROGRESS, Status.WITHDRAWN},
    Status.IN_PROGRESS: {Status.INFO_REQUESTED, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
    Status.INFO_REQUESTED: {
        Status.IN_PROGRESS,
        Status.APPROVED,
        Status.REJECTED,
        Status.WITHDRAWN,
    },
}
# The citizen must learn what is missing, or why the application was refused.
COMMENT_REQUIRED = {Status.INFO_REQUESTED, Status.REJECTED}
MAX_TEXT_LENGTH = 10_000


class CaseWorkError(Exception):
    """A request the back office refuses; the message is shown to the clerk."""


def _clean_text(text: str | None) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise CaseWorkError(_("Ungültige Eingabe."))
    # PostgreSQL text cannot hold NUL; other control characters (except line
    # breaks and tabs) have no place in a comment either.
    cleaned = "".join(ch for ch in text if ch in "\n\r\t" or ch >= " ").strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise CaseWorkError(
            _("Der Text ist zu lang (höchstens %(max)d Zeichen).") % {"max": MAX_TEXT_LENGTH}
        )
    return cleaned


def _require_case_access(*, submission: Submission, actor) -> None:
    if not cases_for_user(user=actor).filter(pk=submission.pk).exists():
        # Same answer as for a case that does not exist: nothing to learn.
        raise Submission.DoesNotExist


def audit_record(
    *,
    actor,
    action: str,
    submission: Submission | None = None,
    office_id: int | None = None,
    ip_address: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail. The trail is append-only."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        submission=submission,
        reference=submission.reference if submission is not None else "",
        office_id=office_id if office_id is not None else getattr(submission, "office_id", None),
        ip_address=ip_address or None,
        detail=_clean_text(detail)[:2000],
    )


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
    comment = _clean_text(comment)
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
        event = SubmissionEvent.objects.create(
            submission=locked,
            kind="status_changed",
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            visible_to_citizen=True,
            actor=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.TRANSITION,
            submission=locked,
            ip_address=ip_address,
            detail=f"{from_status} -> {to_status}",
        )
        if locked.applicant_email:
            notification = StatusNotification.objects.create(
                event=event, recipient=locked.applicant_email
            )
            _enqueue_notification(notification.pk, reference=locked.reference, on_commit=True)
    submission.refresh_from_db()
    return event


def _enqueue_notification(notification_id: int, *, reference: str, on_commit: bool) -> None:
    from .tasks_backoffice import notify_case_status

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


def case_add_note(
    *, submission: Submission, actor, text: str, ip_address: str | None = None
) -> CaseNote:
    """Add an internal note (never shown to the citizen)."""
    text = _clean_text(text)
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


# --- Citizen notification -------------------------------------------------------


def _notification_text(*, submission: Submission, event: SubmissionEvent) -> tuple[str, str]:
    """Subject and body of a status e-mail, in the language the citizen filed in."""
    office = submission.office.name if submission.office else ""
    with translation.override(submission.language):
        status = str(Status(event.to_status).label)
        values = {"reference": submission.reference, "status": status}
        subject = gettext("Ihr Antrag %(reference)s: %(status)s") % values
        lines = [
            gettext("Guten Tag,"),
            "",
            gettext("der Status Ihres Antrags %(reference)s hat sich geändert: %(status)s.")
            % values,
        ]
        if event.comment:
            lines += ["", gettext("Nachricht der Behörde:"), event.comment]
        lines += [
            "",
            gettext(
                "Den aktuellen Stand sehen Sie über den Statuslink aus Ihrer Eingangsbestätigung."
            ),
            "",
            office,
            "Thüringen-Portal",
        ]
    return subject, "\n".join(lines) + "\n"


def case_notify_citizen(*, notification_id: int) -> bool:
    """Send the status e-mail of one notification. Idempotent: returns False if already sent.

    ``sent_at`` is committed right after the server accepted the message
    (before the SMTP QUIT), and the Message-ID names the notification, so a
    repeat after a crash in between is recognisably the same e-mail.
    """
    with mail_connection() as connection, transaction.atomic():
        notification = (
            StatusNotification.objects.select_for_update(of=("self",))
            .select_related("event__submission__office")
            .get(pk=notification_id)
        )
        if notification.sent_at is not None or not notification.recipient:
            return False
        event = notification.event
        subject, body = _notification_text(submission=event.submission, event=event)
        notification.attempts += 1
        error: OSError | None = None
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
            headers={
                "Message-ID": mail_message_id(
                    kind="status", parts=(event.submission.reference, notification.pk)
                )
            },
        )
        try:
            mail_send(message=message, connection=connection)
        except OSError as exc:  # smtplib errors are OSErrors too
            error = exc
            notification.last_error = str(exc)[:2000]
        else:
            notification.sent_at = timezone.now()
            notification.last_error = ""
        notification.save(update_fields=["attempts", "last_error", "sent_at"])
    if error is not None:
        # Recorded above; the task retries with backoff.
        raise error
    logger.info("status notification %s sent for %s", notification_id, event.submission.reference)
    return True
