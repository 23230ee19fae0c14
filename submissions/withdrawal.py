"""Withdrawal of an application by the citizen, from the status page.

Here rather than in the back office's case work because the citizen's pages
may not import the back office. The event it records is an ordinary status
change (``status_changed`` to ``withdrawn``, no actor), so the back office
shows it in the case history like any other; the office is told by e-mail
when it has a notification address.
"""

from __future__ import annotations

import logging
import unicodedata

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .enqueue import task_enqueue_on_commit, task_named
from .mail import mail_connection, mail_message_id, mail_send
from .models import Submission, SubmissionEvent
from .tallies import tally_status_changed

logger = logging.getLogger(__name__)

OFFICE_MAIL_TASK = "submissions.tasks.notify_office_withdrawal"
OFFICE_NOTIFIED_KIND = "withdrawal_office_notified"
REASON_MAX_CHARS = 1000
Status = Submission.Status
# Until a decision: the same statuses the back office may move to "withdrawn".
WITHDRAWABLE = (Status.RECEIVED, Status.FORWARDED, Status.IN_PROGRESS, Status.INFO_REQUESTED)


class WithdrawalNotPossible(Exception):
    """The application is decided, already withdrawn or its data purged."""


def withdrawal_reason_clean(value: object) -> str:
    """The reason as stored: text only, no control characters, at most REASON_MAX_CHARS."""
    if not isinstance(value, str):
        return ""
    kept = "".join(
        char
        for char in value[: REASON_MAX_CHARS * 2]
        if char in "\n\t" or unicodedata.category(char)[0] != "C"
    )
    return kept.strip()[:REASON_MAX_CHARS]


def submission_withdrawable(*, submission: Submission) -> bool:
    """Whether the citizen may still withdraw (no decision yet, data not purged)."""
    return submission.purged_at is None and submission.status in WITHDRAWABLE


def submission_withdraw(*, submission_id: int, reason: object) -> SubmissionEvent:
    """Withdraw the application on the citizen's request and record it in the history.

    The caller has already checked that this browser may see the submission.
    Raises WithdrawalNotPossible after a decision, a second time, or for a
    purged submission. Sets ``decided_at`` like every final status (retention
    and the status link's expiry count from it) and queues the office's e-mail
    after the commit.
    """
    reason = withdrawal_reason_clean(reason)
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or not submission_withdrawable(submission=submission):
            raise WithdrawalNotPossible
        from_status = submission.status
        submission.status = Status.WITHDRAWN
        submission.decided_at = timezone.now()
        submission.save(update_fields=["status", "decided_at"])
        tally_status_changed(
            submission=submission, from_status=from_status, to_status=Status.WITHDRAWN
        )
        event = SubmissionEvent.objects.create(
            submission=submission,
            kind="status_changed",
            from_status=from_status,
            to_status=Status.WITHDRAWN,
            comment=reason,
            visible_to_citizen=True,
            actor=None,
        )
        task_enqueue_on_commit(
            task=task_named(OFFICE_MAIL_TASK), args=(event.pk,), about=submission.reference
        )
    return event


def withdrawal_office_mail(*, event_id: int) -> str:
    """E-mail the office that the citizen withdrew; "sent", "done" (earlier) or "skipped".

    Skipped when the office has no notification address (the back office
    shows the event anyway). The send is recorded as an event in the
    transaction that holds the row, so a repeated task does not send again,
    and the Message-ID names the withdrawal, so a repeat after a crash between
    send and commit is recognisably the same message. Raises OSError on SMTP
    errors.
    """
    with mail_connection() as connection, transaction.atomic():
        event = (
            SubmissionEvent.objects.select_related("submission")
            .filter(pk=event_id, to_status=Status.WITHDRAWN)
            .first()
        )
        if event is None:
            return "skipped"
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("office", "service")
            .get(pk=event.submission_id)
        )
        office = submission.office
        if office is None or not office.notification_email or submission.purged_at is not None:
            return "skipped"
        if submission.events.filter(kind=OFFICE_NOTIFIED_KIND).exists():
            return "done"
        with translation.override("de"):
            context = {
                "submission": submission,
                "service_name": submission.service.name("de"),
                "reason": event.comment,
                "withdrawn_at": timezone.localtime(event.created_at),
            }
            subject = render_to_string(
                "submissions/email/withdrawal_office_subject.txt", context
            ).strip()
            body = render_to_string("submissions/email/withdrawal_office_body.txt", context)
        message = EmailMessage(
            subject=subject,
            body=body,
            to=[office.notification_email],
            headers={
                "Message-ID": mail_message_id(
                    kind="withdrawal", parts=(submission.reference, event.pk)
                )
            },
        )
        SubmissionEvent.objects.create(submission=submission, kind=OFFICE_NOTIFIED_KIND)
        mail_send(message=message, connection=connection)
    return "sent"
