"""Rückfrage from the back office: the clerk asks, the deadline job reminds and flags.

The citizen's side (answering on the status page, the office's e-mail about
the answer) is `submissions.info_requests`, because the citizen app may not
import the back office. Asking is no longer a plain status change: the
generic transition refuses "info_requested" (`casework.ALLOWED_TRANSITIONS`),
so every question has its text, deadline, e-mail and history entry.
History kinds: info_requested, info_reminder_sent, info_deadline_passed here;
info_answered in `submissions.info_requests`.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from submissions.enqueue import task_enqueue, task_enqueue_on_commit, task_named
from submissions.info_requests import (
    ANSWER_NOTIFY_TASK,
    INFO_REQUEST_FIELD_PATH,
    KIND_ASKED,
    KIND_DEADLINE_PASSED,
    KIND_REMINDER,
)
from submissions.models import Attachment, InfoRequest, Submission, SubmissionEvent
from submissions.tallies import tally_status_changed

from .audit import audit_record
from .case_selectors import cases_for_user
from .message_templates import message_text_fill, placeholder_values
from .models import AuditEntry, StatusNotification
from .notification_tasks import notify_case_status
from .texts import MAX_TEXT_LENGTH, CaseWorkError, text_clean

logger = logging.getLogger(__name__)

Status = Submission.Status
# A question can be asked of a case that is open and not waiting for an answer already.
ASKABLE_STATUSES = (Status.RECEIVED, Status.FORWARDED, Status.IN_PROGRESS)
MAX_DEADLINE_DAYS = 365


def default_deadline(*, today: datetime.date | None = None) -> datetime.date:
    """The deadline the ask form proposes: PORTAL_INFO_REQUEST_DEADLINE_DAYS from today."""
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=settings.PORTAL_INFO_REQUEST_DEADLINE_DAYS)


def _require_case_access(*, submission: Submission, actor) -> None:
    if not cases_for_user(user=actor).filter(pk=submission.pk).exists():
        # Same answer as for a case that does not exist: nothing to learn.
        raise Submission.DoesNotExist


def case_request_info(
    *,
    submission: Submission,
    actor,
    question: str,
    deadline: datetime.date,
    ip_address: str | None = None,
) -> InfoRequest:
    """Ask the citizen a question with a deadline; the case waits for their answer.

    Re-checks that `actor` may work the case (Submission.DoesNotExist
    otherwise, like for a case that does not exist). Raises CaseWorkError for
    an empty or too long question, a deadline not after today or more than a
    year ahead, a case that is decided, purged or already waiting for an
    answer. Placeholders left in the question ({frist}, …) are filled with the
    chosen deadline and the case's data. Records the request, the status
    change to "info_requested", a history entry `info_requested` the citizen
    sees, the audit entry, and the citizen's e-mail (sent after commit).
    An unanswered older request of a case that was moved on by hand is
    replaced (cancelled).
    """
    question = text_clean(question)
    if not question:
        raise CaseWorkError(_("Bitte formulieren Sie die Rückfrage."))
    today = timezone.localdate()
    if not isinstance(deadline, datetime.date) or isinstance(deadline, datetime.datetime):
        raise CaseWorkError(_("Bitte geben Sie die Frist als Datum an."))
    if deadline <= today:
        raise CaseWorkError(_("Die Frist muss in der Zukunft liegen."))
    if deadline > today + datetime.timedelta(days=MAX_DEADLINE_DAYS):
        raise CaseWorkError(_("Die Frist darf höchstens ein Jahr in der Zukunft liegen."))
    with transaction.atomic():
        _require_case_access(submission=submission, actor=actor)
        locked = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("service", "office")
            .get(pk=submission.pk)
        )
        if locked.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        if locked.status == Status.INFO_REQUESTED:
            raise CaseWorkError(
                _("Es ist bereits eine Rückfrage offen. Warten Sie die Antwort ab.")
            )
        if locked.status not in ASKABLE_STATUSES:
            raise CaseWorkError(
                _("Der Antrag ist abgeschlossen; eine Rückfrage ist nicht möglich.")
            )
        now = timezone.now()
        InfoRequest.objects.filter(
            submission=locked, answered_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        question = message_text_fill(
            text=question, values=placeholder_values(submission=locked, deadline=deadline)
        )
        if len(question) > 2 * MAX_TEXT_LENGTH:
            raise CaseWorkError(
                _("Der Text ist zu lang (höchstens %(max)d Zeichen).") % {"max": MAX_TEXT_LENGTH}
            )
        from_status = locked.status
        locked.status = Status.INFO_REQUESTED
        locked.save(update_fields=["status"])
        tally_status_changed(
            submission=locked, from_status=from_status, to_status=Status.INFO_REQUESTED
        )
        event = SubmissionEvent.objects.create(
            submission=locked,
            kind=KIND_ASKED,
            from_status=from_status,
            to_status=Status.INFO_REQUESTED,
            comment=question,
            visible_to_citizen=True,
            actor=actor,
        )
        info_request = InfoRequest.objects.create(
            submission=locked,
            question=question,
            deadline=deadline,
            asked_by=actor,
            asked_at=now,
            asked_event=event,
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.TRANSITION,
            submission=locked,
            ip_address=ip_address,
            detail=(
                f"{from_status} -> {Status.INFO_REQUESTED} "
                f"(Rückfrage {info_request.pk}, Frist {deadline.isoformat()})"
            ),
        )
        _notify_citizen(event=event, submission=locked)
    submission.refresh_from_db()
    return info_request


def _notify_citizen(*, event: SubmissionEvent, submission: Submission) -> None:
    """Record the citizen's e-mail about `event` and send it after commit (inside a transaction).

    If the broker is down it stays recorded as unsent and the beat job
    `case_resend_pending_notifications` sends it.
    """
    if not submission.applicant_email:
        return
    notification = StatusNotification.objects.create(
        event=event, recipient=submission.applicant_email
    )
    task_enqueue_on_commit(
        task=notify_case_status,
        args=(notification.pk,),
        about=f"status notification {notification.pk} of {submission.reference}",
    )


def case_info_requests(*, submission: Submission) -> list[InfoRequest]:
    """The case's requests, oldest first, each with its answer files (for the case page)."""
    return list(
        InfoRequest.objects.filter(submission=submission)
        .select_related("asked_by")
        .prefetch_related(
            Prefetch(
                "files",
                queryset=Attachment.objects.filter(field_path=INFO_REQUEST_FIELD_PATH).order_by(
                    "created_at"
                ),
            )
        )
        .order_by("asked_at", "id")
    )


# --- The deadline job ------------------------------------------------------------


@dataclass
class DeadlineSweepReport:
    reminded: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    answers_renotified: int = 0


def _open_waiting():
    """Open requests of cases still waiting for the citizen (not decided, not purged)."""
    return InfoRequest.objects.filter(
        answered_at__isnull=True,
        cancelled_at__isnull=True,
        submission__status=Status.INFO_REQUESTED,
        submission__purged_at__isnull=True,
    )


def info_requests_deadline_sweep(
    *, now: datetime.datetime | None = None, batch: int = 500
) -> DeadlineSweepReport:
    """The beat job: one reminder before the deadline, a flag once it has passed.

    Reminder: PORTAL_INFO_REMINDER_DAYS days before the deadline (or later, up
    to the deadline day), by e-mail to the citizen through the status e-mail
    path, recorded as `info_reminder_sent`; none for a request asked so late
    that the reminder day was not after the day it was asked. Flag: after the
    deadline day ended unanswered, `deadline_passed_at` and an
    `info_deadline_passed` event (the case page shows "Frist abgelaufen").
    Idempotent: each request is locked and its recorded state re-checked, so
    a second run (or two at once) does nothing twice. Also re-enqueues the
    office's e-mail about an answer whose task was lost.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = datetime.timedelta(days=settings.PORTAL_INFO_REMINDER_DAYS)
    report = DeadlineSweepReport()
    due_reminders = (
        _open_waiting()
        .filter(reminder_sent_at__isnull=True, deadline__gte=today, deadline__lte=today + days)
        .exclude(submission__applicant_email="")
        .values_list("pk", flat=True)
        .order_by("deadline", "pk")[:batch]
    )
    for request_id in list(due_reminders):
        if _remind(request_id=request_id, today=today, days=days, now=now):
            report.reminded.append(request_id)
    passed = (
        _open_waiting()
        .filter(deadline_passed_at__isnull=True, deadline__lt=today)
        .values_list("pk", flat=True)
        .order_by("deadline", "pk")[:batch]
    )
    for request_id in list(passed):
        if _flag_passed(request_id=request_id, today=today, now=now):
            report.flagged.append(request_id)
    report.answers_renotified = _renotify_answers(now=now, batch=batch)
    if report.reminded or report.flagged or report.answers_renotified:
        logger.info(
            "info requests: %d reminded, %d deadlines passed, %d answer e-mails re-enqueued",
            len(report.reminded),
            len(report.flagged),
            report.answers_renotified,
        )
    return report


def _locked_open(request_id: int) -> InfoRequest | None:
    # SKIP LOCKED: a request another run holds is that run's to finish.
    return (
        _open_waiting()
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("submission")
        .filter(pk=request_id)
        .first()
    )


def _remind(
    *, request_id: int, today: datetime.date, days: datetime.timedelta, now: datetime.datetime
) -> bool:
    with transaction.atomic():
        info_request = _locked_open(request_id)
        if info_request is None or info_request.reminder_sent_at is not None:
            return False
        if not (today <= info_request.deadline <= today + days):
            return False
        submission = info_request.submission
        if timezone.localdate(info_request.asked_at) >= info_request.deadline - days:
            # Asked with a short deadline: the question itself was the reminder.
            return False
        event = SubmissionEvent.objects.create(
            submission=submission,
            kind=KIND_REMINDER,
            comment=f"Frist {date_format(info_request.deadline, 'd.m.Y')}",
            visible_to_citizen=False,
        )
        info_request.reminder_sent_at = now
        info_request.reminder_event = event
        info_request.save(update_fields=["reminder_sent_at", "reminder_event"])
        _notify_citizen(event=event, submission=submission)
    return True


def _flag_passed(*, request_id: int, today: datetime.date, now: datetime.datetime) -> bool:
    with transaction.atomic():
        info_request = _locked_open(request_id)
        if info_request is None or info_request.deadline_passed_at is not None:
            return False
        if not today > info_request.deadline:
            return False
        SubmissionEvent.objects.create(
            submission=info_request.submission,
            kind=KIND_DEADLINE_PASSED,
            comment=f"Frist {date_format(info_request.deadline, 'd.m.Y')} abgelaufen",
            visible_to_citizen=False,
        )
        info_request.deadline_passed_at = now
        info_request.save(update_fields=["deadline_passed_at"])
    return True


def _renotify_answers(*, now: datetime.datetime, batch: int) -> int:
    pending = list(
        InfoRequest.objects.filter(
            answered_at__isnull=False,
            answered_at__lte=now - datetime.timedelta(minutes=5),
            answer_notified_at__isnull=True,
        )
        .values_list("pk", "submission__reference")
        .order_by("answered_at")[:batch]
    )
    for request_id, reference in pending:
        task_enqueue(
            task=task_named(ANSWER_NOTIFY_TASK),
            args=(request_id,),
            about=f"answer to info request {request_id} of {reference}",
        )
    return len(pending)
