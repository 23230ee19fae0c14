"""The status e-mail to the citizen: its text, in the language they filed in, and sending it once.

Recorded as a `StatusNotification` by `casework.case_transition`; sent by the
task `notification_tasks.notify_case_status`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from submissions.decision_letters import CITIZEN_EVENT_LABELS
from submissions.mail import mail_connection, mail_message_id, mail_send
from submissions.models import Submission, SubmissionEvent

from .info_request_mails import info_request_mail_text
from .models import StatusNotification

logger = logging.getLogger(__name__)

Status = Submission.Status


def _notification_text(*, submission: Submission, event: SubmissionEvent) -> tuple[str, str]:
    """Subject and body of a status e-mail, in the language the citizen filed in."""
    info_request_text = info_request_mail_text(submission=submission, event=event)
    if info_request_text is not None:
        return info_request_text
    office = submission.office.name if submission.office else ""
    with translation.override(submission.language):
        if event.to_status:
            status = str(Status(event.to_status).label)
            news = gettext("der Status Ihres Antrags %(reference)s hat sich geändert: %(status)s.")
        else:
            # A Bescheid issued or corrected after the decision: no status change.
            status = str(CITIZEN_EVENT_LABELS.get(event.kind, ""))
            news = gettext("zu Ihrem Antrag %(reference)s gibt es Neues: %(status)s.")
        values = {"reference": submission.reference, "status": status}
        subject = gettext("Ihr Antrag %(reference)s: %(status)s") % values
        lines = [
            gettext("Guten Tag,"),
            "",
            news % values,
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
