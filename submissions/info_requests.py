"""The citizen's answer to a Rückfrage, and the office's e-mail about it.

Here rather than in the citizen app or the back office because both use it:
the citizen's status page answers through `info_request_answer` (after its own
access check), the back office asks (`backoffice.info_requests`) and shows the
answer. The e-mail about an answer goes to the assigned clerk, or to the
office's notification address when nobody is assigned; it carries no answer
text (that stays in the back office), only what and where.
"""

from __future__ import annotations

import logging
import unicodedata

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from .enqueue import task_enqueue_on_commit, task_named
from .links import case_admin_url
from .mail import mail_connection, mail_message_id, mail_send
from .models import Attachment, InfoRequest, Submission, SubmissionEvent
from .tallies import tally_status_changed

logger = logging.getLogger(__name__)

Status = Submission.Status
# History kinds of a Rückfrage (the back office labels them).
KIND_ASKED = "info_requested"
KIND_ANSWERED = "info_answered"
KIND_REMINDER = "info_reminder_sent"
KIND_DEADLINE_PASSED = "info_deadline_passed"
# `Attachment.field_path` of a file that came with an answer.
INFO_REQUEST_FIELD_PATH = "rueckfrage"
ANSWER_NOTIFY_TASK = "submissions.tasks.notify_info_answer"
ANSWER_MAX_CHARS = 10_000
# An answer is refused once the case is closed.
CLOSED_STATUSES = (Status.APPROVED, Status.REJECTED, Status.WITHDRAWN)


class InfoRequestNotAnswerable(Exception):
    """The request cannot be answered (any more); `message` tells the citizen why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InfoAnswerEmpty(InfoRequestNotAnswerable):
    """The answer has neither text nor file."""


def info_answer_clean(value: object) -> str:
    """The answer as stored: text without control characters (line breaks kept), trimmed.

    The length is checked by the caller's form (ANSWER_MAX_CHARS) with a message;
    here it is only bounded.
    """
    if not isinstance(value, str):
        return ""
    kept = "".join(
        char
        for char in value[: ANSWER_MAX_CHARS * 2]
        if char in "\n\t" or unicodedata.category(char)[0] != "C"
    )
    return kept.strip()[:ANSWER_MAX_CHARS]


def info_request_for_citizen(*, submission: Submission) -> InfoRequest | None:
    """The request the status page shows: the open one, else the most recent answered one."""
    requests = InfoRequest.objects.filter(submission=submission, cancelled_at__isnull=True)
    return (
        requests.filter(answered_at__isnull=True).order_by("-asked_at", "-id").first()
        or requests.filter(answered_at__isnull=False).order_by("-answered_at", "-id").first()
    )


def info_request_answerable(*, info_request: InfoRequest, submission: Submission) -> bool:
    return (
        info_request.is_open
        and submission.purged_at is None
        and submission.status not in CLOSED_STATUSES
    )


def info_request_files(*, info_request: InfoRequest) -> list[Attachment]:
    """The files uploaded for this request (before sending: the ones waiting to be sent)."""
    return list(
        Attachment.objects.filter(
            info_request=info_request, field_path=INFO_REQUEST_FIELD_PATH
        ).order_by("created_at")
    )


def _not_answerable_message(*, info_request: InfoRequest | None, submission: Submission | None):
    if info_request is None or submission is None:
        return gettext("Diese Rückfrage gibt es nicht.")
    if info_request.answered_at is not None:
        return gettext("Diese Rückfrage haben Sie bereits beantwortet.")
    if info_request.cancelled_at is not None:
        return gettext("Diese Rückfrage wurde durch eine neuere ersetzt.")
    return gettext(
        "Über Ihren Antrag ist bereits entschieden oder er wurde zurückgezogen. Eine Antwort "
        "ist nicht mehr möglich. Bei Fragen wenden Sie sich bitte an die zuständige Behörde."
    )


def info_request_lock_open(*, submission_id: int, request_id: object) -> InfoRequest:
    """Lock the submission and return its answerable request `request_id` (inside a transaction).

    Raises InfoRequestNotAnswerable for a request of another submission, a
    forged id, one answered or replaced already, or a closed or purged case.
    """
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    info_request = None
    if submission is not None and isinstance(request_id, int) and 0 < request_id < 2**63:
        info_request = (
            InfoRequest.objects.select_for_update().filter(pk=request_id, submission=submission)
        ).first()
    if (
        info_request is None
        or submission is None
        or not info_request_answerable(info_request=info_request, submission=submission)
    ):
        raise InfoRequestNotAnswerable(
            _not_answerable_message(info_request=info_request, submission=submission)
        )
    info_request.submission = submission
    return info_request


def info_request_answer(*, submission_id: int, request_id: object, answer: object) -> InfoRequest:
    """Record the citizen's answer to request `request_id` of submission `submission_id`.

    The caller has checked that this browser may see the submission; the
    request must belong to it (a forged id of another citizen's request is
    refused like a missing one). The files uploaded for the request before
    (`Attachment.info_request`) are part of the answer. Raises
    InfoRequestNotAnswerable (message in the active language) for a second
    answer, a replaced request, a decided/withdrawn/purged case, and
    InfoAnswerEmpty for an answer with neither text nor file. An answer after the deadline is taken
    and marked late (`InfoRequest.answered_late`). Moves a waiting case back
    to "in_progress", records `info_answered`, and queues the e-mail to the
    assignee or office after commit.
    """
    text = info_answer_clean(answer)
    with transaction.atomic():
        info_request = info_request_lock_open(submission_id=submission_id, request_id=request_id)
        submission = info_request.submission
        if not text and not info_request.files.exists():
            raise InfoAnswerEmpty(
                gettext("Bitte schreiben Sie eine Antwort oder laden Sie eine Datei hoch.")
            )
        now = timezone.now()
        info_request.answer = text
        info_request.answered_at = now
        info_request.save(update_fields=["answer", "answered_at"])
        from_status = submission.status
        to_status = ""
        if from_status == Status.INFO_REQUESTED:
            to_status = Status.IN_PROGRESS
            submission.status = to_status
            submission.save(update_fields=["status"])
            tally_status_changed(
                submission=submission, from_status=from_status, to_status=to_status
            )
        SubmissionEvent.objects.create(
            submission=submission,
            kind=KIND_ANSWERED,
            from_status=from_status if to_status else "",
            to_status=to_status,
            comment=text,
            visible_to_citizen=True,
            actor=None,
        )
        task_enqueue_on_commit(
            task=task_named(ANSWER_NOTIFY_TASK),
            args=(info_request.pk,),
            about=f"answer to info request {info_request.pk} of {submission.reference}",
        )
    return info_request


def info_answer_office_mail(*, info_request_id: int) -> str:
    """E-mail the assignee (else the office) about an answer: "sent", "done" or "skipped".

    Idempotent: `answer_notified_at` is set in the transaction that holds the
    row, right after the server accepted the message, and the Message-ID
    names the request, so a repeat after a crash in between is recognisably
    the same message. "skipped" (and recorded, so the sweeper stops) when
    there is nobody to tell. Raises OSError on SMTP errors.
    """
    with mail_connection() as connection, transaction.atomic():
        info_request = (
            InfoRequest.objects.select_for_update(of=("self",))
            .select_related("submission__office", "submission__service", "submission__assigned_to")
            .filter(pk=info_request_id, answered_at__isnull=False)
            .first()
        )
        if info_request is None:
            return "skipped"
        if info_request.answer_notified_at is not None:
            return "done"
        submission = info_request.submission
        assignee = submission.assigned_to
        recipient = ""
        if assignee is not None and assignee.is_active and assignee.email:
            recipient = assignee.email
        elif submission.office is not None:
            recipient = submission.office.notification_email
        if not recipient or submission.purged_at is not None:
            info_request.answer_notified_at = timezone.now()
            info_request.save(update_fields=["answer_notified_at"])
            return "skipped"
        files = info_request.files.count()
        with translation.override("de"):
            values = {
                "reference": submission.reference,
                "service": submission.service.name("de"),
                "when": date_format(timezone.localtime(info_request.answered_at), "d.m.Y, H:i"),
                "deadline": date_format(info_request.deadline, "d.m.Y"),
                "files": files,
            }
            subject = gettext("Antwort auf Rückfrage zum Antrag %(reference)s") % values
            lines = [
                gettext(
                    "Die antragstellende Person hat am %(when)s die Rückfrage zum Antrag "
                    "„%(service)s“ mit dem Aktenzeichen %(reference)s beantwortet."
                )
                % values,
                gettext("Frist war der %(deadline)s.") % values,
            ]
            if info_request.answered_late:
                lines.append(gettext("Die Antwort ist nach Ablauf der Frist eingegangen."))
            lines.append(gettext("Mitgesandte Dateien: %(files)d") % values)
            lines += [
                "",
                gettext("Die Antwort lesen Sie im Back Office:"),
                case_admin_url(submission.pk),
            ]
            if submission.status == Status.IN_PROGRESS:
                lines += ["", gettext("Der Antrag steht wieder auf „in Bearbeitung“.")]
            lines += ["", "Thüringen-Portal"]
        message = EmailMessage(
            subject=subject,
            body="\n".join(lines) + "\n",
            to=[recipient],
            headers={
                "Message-ID": mail_message_id(
                    kind="info-answer", parts=(submission.reference, info_request.pk)
                )
            },
        )
        info_request.answer_notified_at = timezone.now()
        info_request.save(update_fields=["answer_notified_at"])
        mail_send(message=message, connection=connection)
    logger.info("answer to info request %s mailed for %s", info_request_id, submission.reference)
    return "sent"
