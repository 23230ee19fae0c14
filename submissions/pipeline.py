"""The processing pipeline of a submission: PDFs → deliver (channels in parallel) + notify.

The office is normally resolved inside the submit transaction
(``services.submission_submit``); the ``resolve_office`` step remains as the
fallback for a submission whose office could not be found then. The PDF step
renders both documents, creates one ``Delivery`` per channel, records the
in-portal channels (the back-office inbox) in the same transaction, and hands
the outside channels (one task each, in parallel) and the citizen's e-mail
to the queues: two to four task hand-offs per submission instead of seven.

Every step is a service that (1) locks the submission or delivery row with
``SELECT ... FOR UPDATE SKIP LOCKED`` so two workers never do the same step at
the same time, (2) checks the state recorded on the row and skips what is
done, (3) records its completion in the same transaction as its effect (all
three through ``steps.locked_step``), and (4) hands over to
``pipeline_advance``, which reads the recorded state and enqueues the one task
that is next. Tasks are enqueued by name (``enqueue.task_named``): the task
module calls this one, not the other way round. Re-running any step, or the
whole chain, is therefore harmless: that is what makes at-least-once delivery
by Celery and the beat sweeper safe. PostgreSQL is the source of truth; Redis only carries
the next piece of work.
"""

from __future__ import annotations

import datetime
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from municipalities.selectors import NoResponsibleOffice, responsible_office

from .delivery import (
    DeliveryError,
    DeliveryProgress,
    channel_get,
    channels_for_office,
)
from .enqueue import task_enqueue_on_commit, task_named
from .links import status_link_url, status_page_url
from .mail import alert_admins, mail_connection, mail_message_id, mail_send
from .models import Delivery, Submission, SubmissionEvent
from .office_contact import office_contact_lines
from .pdf import render_office_copy, render_receipt
from .recovery import (
    TASK_DELIVER_DELIVERY,
    TASK_DELIVER_SUBMISSION,
    TASK_NOTIFY_CITIZEN,
    TASK_RENDER_PDFS,
    TASK_RESOLVE_OFFICE,
    deliveries_lost_q,
    deliveries_stuck,
    queue_waiting,
    submissions_lost_queryset,
    submissions_stuck,
    unclaimed_before,
)
from .steps import CLAIM_CLEARED, Claim, Step, locked_step
from .tallies import tally_status_changed

logger = logging.getLogger(__name__)

# Re-exported: callers import them from here.
__all__ = [
    "TASK_DELIVER_DELIVERY",
    "TASK_DELIVER_SUBMISSION",
    "TASK_NOTIFY_CITIZEN",
    "TASK_RENDER_PDFS",
    "TASK_RESOLVE_OFFICE",
    "Step",
    "status_page_url",
]


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Orchestration -----------------------------------------------------------


def pipeline_start(*, submission_id: int) -> None:
    """Enqueue the first open step. Call after commit (on_commit)."""
    pipeline_advance(submission_id=submission_id)


def pipeline_next_task(submission: Submission) -> str | None:
    """The name of the task that does the first step not yet recorded on ``submission``, or None.

    The deliveries are not a step of the submission: once their rows exist
    (created with the PDFs), each is claimed, retried and swept on its own
    row. ``deliver_submission`` is only the fallback for a submission whose
    PDFs were recorded without delivery rows (rows from before they were
    created together).
    """
    if submission.pipeline_failed_at is not None or submission.purged_at is not None:
        return None
    if submission.office_resolved_at is None:
        return TASK_RESOLVE_OFFICE
    if submission.pdfs_rendered_at is None:
        return TASK_RENDER_PDFS
    if not submission.deliveries.exists():
        return TASK_DELIVER_SUBMISSION
    if submission.citizen_notified_at is None:
        return TASK_NOTIFY_CITIZEN
    return None


def pipeline_advance(*, submission_id: int) -> None:
    """Enqueue the next step of the pipeline (after commit if inside a transaction).

    Records when it was enqueued (and that no task has claimed it yet), which
    is what the sweeper goes by. A step claimed and within its limit is left
    to the task that claimed it: that task advances when it is done.
    """
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return
    task = pipeline_next_task(submission)
    if task is None:
        return
    now = timezone.now()
    if submission.claim_expires_at is not None and submission.claim_expires_at > now:
        return
    Submission.objects.filter(pk=submission_id).update(
        pipeline_progress_at=now, enqueued_at=now, **CLAIM_CLEARED
    )
    # The step is recorded as due; if the broker is down the sweeper enqueues it later.
    task_enqueue_on_commit(
        task=task_named(task), args=(submission_id,), about=f"submission {submission.reference}"
    )


def _unless_failed(done: str):
    """The ``skip`` of a step that records its completion in the column ``done``.

    A visibly failed pipeline stops the step; a recorded completion makes it done.
    """

    def skip(submission: Submission) -> Step | None:
        if submission.pipeline_failed_at is not None:
            return Step.STOPPED
        if getattr(submission, done) is not None:
            return Step.DONE
        return None

    return skip


def _event(submission: Submission, kind: str, **fields) -> None:
    SubmissionEvent.objects.create(submission=submission, kind=kind, **fields)


def pipeline_fail(*, submission_id: int, reason: str) -> None:
    """Stop the pipeline visibly: recorded on the submission, alerted to platform admins.

    Staff restart it with ``submission_pipeline_retry`` once the cause is fixed.
    """
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        if submission.pipeline_failed_at is not None:
            return
        submission.pipeline_failed_at = timezone.now()
        submission.pipeline_error = reason[:2000]
        submission.save(update_fields=["pipeline_failed_at", "pipeline_error"])
        event = SubmissionEvent.objects.create(
            submission=submission, kind="pipeline_failed", comment=reason[:2000]
        )
        reference = submission.reference
        message_id = mail_message_id(kind="alert-pipeline-failed", parts=(reference, event.pk))
        transaction.on_commit(
            lambda: alert_admins(
                subject=f"Antrag {reference}: Verarbeitung angehalten",
                body=f"Die Verarbeitung des Antrags {reference} wurde angehalten:\n\n{reason}\n\n"
                "Nach Behebung der Ursache im Back Office erneut anstoßen.",
                message_id=message_id,
            )
        )
    logger.error("pipeline of submission %s failed: %s", submission_id, reason)


# --- Step 1: responsible office ----------------------------------------------


def pipeline_resolve_office(*, submission_id: int, claim: Claim | None = None) -> Step:
    """Find and record the responsible office. Idempotent."""
    with locked_step(
        Submission.objects,
        pk=submission_id,
        skip=_unless_failed("office_resolved_at"),
        claim=claim,
    ) as step:
        if step.skip:
            return step.outcome
        submission = step.row
        try:
            office = responsible_office(
                service=submission.service,
                gemeinde=submission.gemeinde,
                on_date=timezone.localdate(submission.submitted_at),
            )
        except NoResponsibleOffice as exc:
            reason = f"Keine zuständige Behörde gefunden: {exc}"
        else:
            now = timezone.now()
            step.complete(
                event="office_resolved",
                comment=office.name,
                at=now,
                office=office,
                office_resolved_at=now,
            )
            return Step.DONE
    pipeline_fail(submission_id=submission_id, reason=reason)
    return Step.STOPPED


# --- Step 2: PDFs ------------------------------------------------------------

# What the two documents (and the inbox) read of a submission, fetched with it.
_SUBMISSION_WITH_DOCUMENT_DATA = Submission.objects.select_related(
    "form_version__service", "service", "gemeinde", "office"
).prefetch_related("attachments")


def _store(name: str, content: bytes) -> str:
    # A fixed name per submission and document: a re-run replaces the file
    # instead of leaving a second copy behind.
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def pipeline_render_pdfs(*, submission_id: int, claim: Claim | None = None) -> Step:
    """Render the office copy and the receipt, store both, and start every delivery. Idempotent.

    One transaction holds the submission row from the first render to the
    record: both PDFs, ``pdfs_rendered_at``, one ``Delivery`` per channel,
    the in-portal channels delivered (the office sees the case, status
    ``forwarded``), and the outside channels and the citizen's e-mail
    enqueued on commit. A crash anywhere before the commit leaves nothing
    recorded, and the re-run renders both again and replaces the stored
    files (fixed names), so there is never a second copy or a half-done step.
    """
    with locked_step(
        _SUBMISSION_WITH_DOCUMENT_DATA,
        pk=submission_id,
        skip=_unless_failed("pdfs_rendered_at"),
        claim=claim,
    ) as step:
        if step.skip:
            return step.outcome
        submission = step.row
        office_pdf = render_office_copy(submission=submission)
        receipt_pdf = render_receipt(submission=submission)
        folder = f"pdfs/{submission.reference}"
        now = timezone.now()
        # On the row before the deliveries start: the inbox delivers a case with its office copy.
        submission.office_pdf = _store(f"{folder}/antrag-{submission.reference}.pdf", office_pdf)
        submission.receipt_pdf = _store(
            f"{folder}/eingangsbestaetigung-{submission.reference}.pdf", receipt_pdf
        )
        submission.pdfs_rendered_at = now
        recorded = _Record(fields=["office_pdf", "receipt_pdf", "pdfs_rendered_at"])
        if submission.office_id is not None:
            recorded.add(_deliveries_start(submission=submission, now=now))
        if submission.citizen_notified_at is None:
            # The receipt goes out in parallel with the deliveries; this row
            # records it as enqueued (the sweeper's clue if the task is lost).
            submission.enqueued_at = now
            recorded.fields.append("enqueued_at")
            task_enqueue_on_commit(
                task=task_named(TASK_NOTIFY_CITIZEN),
                args=(submission_id,),
                about=f"submission {submission.reference}",
            )
        # One UPDATE of the row and one INSERT of the events record it all.
        step.complete(
            event="pdfs_rendered",
            at=now,
            events=recorded.events,
            **{name: getattr(submission, name) for name in recorded.fields},
        )
    return Step.DONE


# --- Step 3: delivery --------------------------------------------------------


def _cannot_deliver(submission: Submission) -> Step | None:
    if submission.pipeline_failed_at is not None or submission.office is None:
        return Step.STOPPED
    return None


@dataclass
class _Record:
    """What a step records on the submission row it holds, besides its own columns.

    The step writes it with its own save: ``fields`` are the columns already
    set on the row in memory, ``events`` the unsaved history events.
    """

    fields: list[str] = field(default_factory=list)
    events: list[SubmissionEvent] = field(default_factory=list)

    def add(self, other: _Record) -> None:
        self.fields.extend(name for name in other.fields if name not in self.fields)
        self.events.extend(other.events)


def _deliveries_start(*, submission: Submission, now: datetime.datetime) -> _Record:
    """Create the submission's Delivery rows (once: unique per channel) and start the pending ones.

    Must run inside the transaction that holds the submission row; returns
    what the caller records on that row. In-portal channels (the back-office
    inbox) are delivered right here, in that transaction: their "sending" is
    a write to our own database, not worth a task of its own. Each outside
    channel gets a task of its own, so they run in parallel, each on its own
    row with its own claim, idempotency key and retry schedule. New rows are
    inserted in one statement, already recorded as enqueued (in the same
    transaction as their task's publication on commit: the sweeper never sees
    a new delivery before it is recorded as enqueued, or it would enqueue it
    too); a pending row from an earlier run goes through ``delivery_enqueue``.
    """
    existing = list(submission.deliveries.all())
    have = {delivery.channel for delivery in existing}
    new = [
        Delivery(
            submission=submission,
            channel=name,
            next_attempt_at=now,
            window_started_at=now,
            enqueued_at=None if channel_get(name).in_portal else now,
        )
        for name in channels_for_office(office=submission.office)
        if name not in have
    ]
    Delivery.objects.bulk_create(new)
    new_pks = {delivery.pk for delivery in new}
    recorded = _Record()
    deliveries = sorted([*existing, *new], key=lambda delivery: delivery.pk)
    for delivery in deliveries:
        if delivery.status != Delivery.Status.PENDING:
            continue
        delivery.submission = submission
        if channel_get(delivery.channel).in_portal:
            if _deliver_in_portal_now(delivery):
                recorded.add(_in_portal_delivered(submission=submission, delivery=delivery))
                continue
            # Left to its task: recorded as enqueued like an outside channel.
            delivery_enqueue(delivery_id=delivery.pk)
        elif delivery.pk in new_pks:
            task_enqueue_on_commit(
                task=task_named(TASK_DELIVER_DELIVERY),
                args=(delivery.pk,),
                about=f"delivery {delivery.pk} ({delivery.channel}) of {submission.reference}",
            )
        else:
            delivery_enqueue(delivery_id=delivery.pk)
    if (
        submission.delivered_at is None
        and deliveries
        and all(d.status == Delivery.Status.DELIVERED for d in deliveries)
    ):
        submission.delivered_at = now
        recorded.fields.append("delivered_at")
    return recorded


def _deliver_in_portal_now(delivery: Delivery) -> bool:
    """Deliver an in-portal channel inside the caller's transaction; False leaves it to a task.

    A savepoint keeps a failing channel from undoing the caller's work; the
    attempt is then made by the channel's own task, with its usual retries.
    """
    try:
        with transaction.atomic():
            delivery.attempts += 1
            status_code = channel_get(delivery.channel).deliver(delivery=delivery, connection=None)
            delivery.last_status_code = status_code
            delivery.last_error = ""
            _delivery_mark_delivered(delivery)
    except Exception:
        logger.warning(
            "in-portal delivery %s (%s) left to its task",
            delivery.pk,
            delivery.channel,
            exc_info=True,
        )
        delivery.refresh_from_db()
        return False
    return True


def pipeline_prepare_deliveries(*, submission_id: int, claim: Claim | None = None) -> Step:
    """Create one Delivery per channel (once: unique per channel) and start the pending ones.

    The PDF step does this in its own transaction; this step is the fallback
    for a submission whose PDFs were recorded without deliveries. The
    channels are those registered in ``submissions.delivery`` that serve the
    office (the back-office inbox always, e-mail and webhook if set up).
    """
    with locked_step(
        Submission.objects, pk=submission_id, skip=_cannot_deliver, claim=claim
    ) as step:
        if step.skip:
            return step.outcome
        submission = step.row
        now = timezone.now()
        recorded = _deliveries_start(submission=submission, now=now)
        # The submission's next step is the citizen's e-mail.
        submission.pipeline_progress_at = now
        submission.save(
            update_fields=[*recorded.fields, "pipeline_progress_at", *step.claim_cleared()]
        )
        SubmissionEvent.objects.bulk_create(recorded.events)
    return Step.DONE


def delivery_enqueue(*, delivery_id: int, force: bool = False, waiting: bool = True) -> bool:
    """Put a due delivery attempt on the queue unless a task for it is already waiting.

    The locked, conditional UPDATE is the claim: of two callers (task,
    sweeper, admin) only one enqueues. ``waiting=False`` (the sweeper, when
    the queues are empty) also re-enqueues an attempt whose task was never
    claimed in time. ``force`` enqueues a due attempt regardless ("retry now").
    """
    now = timezone.now()
    if force:
        due = Q(status=Delivery.Status.PENDING) & (
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
    else:
        due = deliveries_lost_q(now=now, waiting=waiting)
    with transaction.atomic():
        # A row locked by a running attempt is skipped, not waited for: the
        # sweeper must not stall behind a slow webhook.
        claimable = Delivery.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            due, pk=delivery_id
        )
        claimed = claimable.select_related("submission").first()
        if claimed is None:
            return False
        Delivery.objects.filter(pk=delivery_id).update(enqueued_at=now, **CLAIM_CLEARED)
        task_enqueue_on_commit(
            task=task_named(TASK_DELIVER_DELIVERY),
            args=(delivery_id,),
            about=f"delivery {delivery_id} ({claimed.channel}) of {claimed.submission.reference}",
        )
    return True


def retry_delay(*, attempts: int) -> float:
    """Exponential backoff with jitter, capped: base·2^(n-1), scaled by a random 0.5–1."""
    base = _setting("PORTAL_DELIVERY_BACKOFF_BASE_SECONDS", 30)
    cap = _setting("PORTAL_DELIVERY_BACKOFF_MAX_SECONDS", 3600)
    raw = min(cap, base * 2 ** min(max(attempts - 1, 0), 30))
    return raw * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def _delivery_failed(delivery: Delivery, error: str) -> None:
    now = timezone.now()
    delivery.status = Delivery.Status.FAILED
    delivery.failed_at = now
    delivery.save(
        update_fields=["status", "failed_at", "last_error", "attempts", "last_status_code"]
    )
    _event(delivery.submission, f"delivery_failed_{delivery.channel}", comment=error[:2000])
    reference = delivery.submission.reference
    channel = delivery.get_channel_display()
    attempts = delivery.attempts
    message_id = mail_message_id(
        kind="alert-delivery-failed", parts=(reference, delivery.pk, attempts)
    )
    transaction.on_commit(
        lambda: alert_admins(
            subject=f"Antrag {reference}: Zustellung fehlgeschlagen ({channel})",
            body=f"Die Zustellung des Antrags {reference} über den Kanal „{channel}“ ist nach "
            f"{attempts} Versuchen endgültig fehlgeschlagen.\n\nLetzter Fehler: "
            f"{error}\n\nIm Back Office kann die Zustellung mit „Jetzt erneut zustellen“ "
            "wiederholt werden.",
            message_id=message_id,
        )
    )


def _delivery_mark_delivered(delivery: Delivery, *, also: Sequence[str] = ()) -> None:
    """Save ``delivery`` as delivered, with its attempt's columns and ``also`` (already set)."""
    delivery.status = Delivery.Status.DELIVERED
    delivery.delivered_at = timezone.now()
    delivery.next_attempt_at = None
    delivery.save(
        update_fields=[
            "status",
            "delivered_at",
            "next_attempt_at",
            "attempts",
            "last_status_code",
            "last_error",
            *also,
        ]
    )


def _in_portal_delivered(*, submission: Submission, delivery: Delivery) -> _Record:
    """What an in-portal delivery (the inbox) changes on its submission, set on the row in memory.

    The office can now see the case, so for the citizen it is forwarded: the
    status, its tallies (written here) and the history events. The caller
    holds the submission row and saves the returned record.
    """
    delivered = SubmissionEvent(submission=submission, kind=f"delivered_{delivery.channel}")
    recorded = _Record(events=[delivered])
    if submission.status == Submission.Status.RECEIVED:
        submission.status = Submission.Status.FORWARDED
        recorded.fields.append("status")
        tally_status_changed(
            submission=submission,
            from_status=Submission.Status.RECEIVED,
            to_status=Submission.Status.FORWARDED,
        )
        recorded.events.append(
            SubmissionEvent(
                submission=submission,
                kind="status_changed",
                from_status=Submission.Status.RECEIVED,
                to_status=Submission.Status.FORWARDED,
                visible_to_citizen=True,
            )
        )
    return recorded


def _delivered_in_portal_on_submission(delivery: Delivery) -> None:
    """Record an in-portal delivery made by its own task on its submission (locking its row).

    The status change and its events, then what every delivery records
    (``pipeline_record_deliveries``: progress, ``delivered_at``).
    """
    submission = Submission.objects.select_for_update().get(pk=delivery.submission_id)
    recorded = _in_portal_delivered(submission=submission, delivery=delivery)
    submission.save(update_fields=recorded.fields)
    SubmissionEvent.objects.bulk_create(recorded.events)
    pipeline_record_deliveries(submission_id=submission.pk)
    # The citizen's e-mail was enqueued with the PDFs: it does not wait for this.


def pipeline_record_deliveries(*, submission_id: int, skip_locked: bool = False) -> bool:
    """Record on the submission what its deliveries achieved. Idempotent.

    Adds the missing ``delivered_*`` history events (of every delivered
    channel, not only the last: one whose own record was lost is repaired
    here) and sets ``delivered_at`` once every channel is through. Runs in
    the delivery's own transaction right after it succeeded, with
    ``skip_locked`` (its commit must not wait for a lock: False, nothing
    recorded, if another transaction holds the submission row), or in a
    transaction of its own after that commit, waiting for the row; the
    sweeper calls it for a submission whose worker died in between.

    The row is locked by a statement of its own, before the deliveries are
    read: each statement sees what was committed when it started, so the
    read comes after any parallel delivery that held the row had committed,
    and the last delivery to be recorded always sees every channel through.
    """
    with transaction.atomic(savepoint=False):
        held = (
            Submission.objects.select_for_update(skip_locked=skip_locked)
            .filter(pk=submission_id)
            .order_by()
            .values_list("delivered_at", flat=True)
        )
        locked = list(held)
        if not locked:
            return False
        statuses = dict(
            Delivery.objects.filter(submission_id=submission_id).values_list("channel", "status")
        )
        recorded = set(
            SubmissionEvent.objects.filter(
                submission_id=submission_id, kind__startswith="delivered_"
            ).values_list("kind", flat=True)
        )
        SubmissionEvent.objects.bulk_create(
            SubmissionEvent(submission_id=submission_id, kind=f"delivered_{channel}")
            for channel, status in statuses.items()
            if status == Delivery.Status.DELIVERED and f"delivered_{channel}" not in recorded
        )
        now = timezone.now()
        fields = {"pipeline_progress_at": now}
        if (
            locked[0] is None
            and statuses
            and all(status == Delivery.Status.DELIVERED for status in statuses.values())
        ):
            fields["delivered_at"] = now
        Submission.objects.filter(pk=submission_id).update(**fields)
    return True


def _not_due(delivery: Delivery) -> Step | None:
    if delivery.status != Delivery.Status.PENDING:
        return Step.STOPPED
    if delivery.next_attempt_at and delivery.next_attempt_at > timezone.now() + datetime.timedelta(
        seconds=2
    ):
        return Step.STOPPED  # a stale duplicate task: the next attempt is not due yet
    return None


def pipeline_deliver(*, delivery_id: int, claim: Claim | None = None) -> Step:
    """Make one attempt to deliver over one channel, then record success, a retry, or failure.

    The row stays locked during the attempt, so a duplicate task skips it;
    a worker killed mid-attempt rolls back and the attempt is made again
    (receivers deduplicate by the idempotency key = delivery id, e-mails carry
    a Message-ID per delivery). A success over an outside channel is committed
    at once, before the SMTP QUIT: with its record on the submission if that
    row is free, otherwise followed by ``pipeline_record_deliveries``.
    """
    # The SMTP connection outlives the transaction: the send is committed as
    # delivered before the QUIT round trip, not after it.
    with (
        mail_connection() as connection,
        locked_step(
            Delivery.objects.select_related(
                "submission", "submission__office", "submission__service", "submission__gemeinde"
            ),
            pk=delivery_id,
            skip=_not_due,
            claim=claim,
        ) as step,
    ):
        if step.skip:
            return step.outcome
        delivery = step.row
        now = timezone.now()
        delivery.attempts += 1
        try:
            channel = channel_get(delivery.channel)
            status_code = channel.deliver(delivery=delivery, connection=connection)
        except DeliveryProgress as progress:
            # Not a failure: commit what the other side created, then go on at once.
            delivery.attempts -= 1
            delivery.next_attempt_at = now
            delivery.enqueued_at = now
            delivery.save(
                update_fields=[*progress.fields, "attempts", "next_attempt_at", "enqueued_at"]
            )
            task_enqueue_on_commit(
                task=task_named(TASK_DELIVER_DELIVERY),
                args=(delivery_id,),
                about=f"delivery {delivery_id} ({delivery.channel}): {progress}",
            )
            return Step.STOPPED
        except Exception as exc:
            if not isinstance(exc, DeliveryError):
                # A bug or odd data must not loop unseen: it counts as a failed
                # attempt, so after the retry window admins are alerted.
                logger.exception("delivery %s (%s) raised", delivery_id, delivery.channel)
            delivery.last_error = f"{exc}"[:2000] or type(exc).__name__
            delivery.last_status_code = getattr(exc, "status_code", None)
            window = datetime.timedelta(
                seconds=_setting("PORTAL_DELIVERY_RETRY_WINDOW_SECONDS", 24 * 60 * 60)
            )
            started = delivery.window_started_at or delivery.created_at
            if now - started >= window:
                _delivery_failed(delivery, delivery.last_error)
                return Step.STOPPED
            delay = retry_delay(attempts=delivery.attempts)
            delivery.next_attempt_at = now + datetime.timedelta(seconds=delay)
            fields = ["attempts", "last_error", "last_status_code", "next_attempt_at"]
            fields.extend(step.claim_cleared())
            if delay <= _setting("PORTAL_DELIVERY_MAX_COUNTDOWN_SECONDS", 300):
                # Short waits ride on a countdown; longer ones on the beat sweeper,
                # because Redis re-delivers a countdown longer than its visibility
                # timeout, and the database is where the schedule lives anyway.
                delivery.enqueued_at = delivery.next_attempt_at
                fields.append("enqueued_at")
                task_enqueue_on_commit(
                    task=task_named(TASK_DELIVER_DELIVERY),
                    args=(delivery_id,),
                    countdown=delay,
                    about=f"delivery {delivery_id} ({delivery.channel})",
                )
            delivery.save(update_fields=fields)
            logger.warning(
                "delivery %s (%s) attempt %s failed: %s",
                delivery_id,
                delivery.channel,
                delivery.attempts,
                delivery.last_error,
            )
            return Step.STOPPED
        delivery.last_status_code = status_code
        delivery.last_error = ""
        _delivery_mark_delivered(delivery, also=step.claim_cleared())
        if channel.in_portal:
            # Its "sending" is a write of this transaction: one commit records all.
            _delivered_in_portal_on_submission(delivery)
            return Step.DONE
        # The office's server accepted it: only this commit comes between its
        # answer and our record, so only a crash in that moment sends it again.
        # The submission's bookkeeping goes with it if its row is free now;
        # otherwise (it would wait for the row's lock) it follows the commit.
        if pipeline_record_deliveries(submission_id=delivery.submission_id, skip_locked=True):
            return Step.DONE
    pipeline_record_deliveries(submission_id=delivery.submission_id)
    return Step.DONE


# --- Step 4: the citizen's e-mail --------------------------------------------


def _not_ready_to_notify(submission: Submission) -> Step | None:
    if submission.citizen_notified_at is not None:
        return Step.DONE
    if submission.pdfs_rendered_at is None or submission.office is None:
        return Step.STOPPED
    return None


def pipeline_notify_citizen(*, submission_id: int, claim: Claim | None = None) -> Step:
    """E-mail the citizen the receipt (once). Raises on SMTP errors, so the task retries.

    The send is recorded in the transaction that holds the row, committed
    right after the server accepted the message (before the SMTP QUIT), and
    the message's Message-ID is derived from the reference: a repeat after a
    crash in that window is recognisably the same receipt.
    """
    with (
        mail_connection() as connection,
        locked_step(
            Submission.objects.select_related("office", "service"),
            pk=submission_id,
            skip=_not_ready_to_notify,
            claim=claim,
            wait=True,
        ) as step,
    ):
        if step.skip:
            return step.outcome
        submission = step.row
        if submission.applicant_email:
            with translation.override(submission.language):
                context = {
                    "submission": submission,
                    "status_url": status_page_url(),
                    "status_link": status_link_url(
                        reference=submission.reference,
                        access_secret_hash=submission.access_secret_hash,
                    ),
                    "service_name": submission.service.name(submission.language),
                    "office_lines": office_contact_lines(office=submission.office),
                }
                subject = render_to_string("submissions/email/receipt_subject.txt", context).strip()
                body = render_to_string("submissions/email/receipt_body.txt", context)
            message = EmailMessage(
                subject=subject,
                body=body,
                to=[submission.applicant_email],
                headers={
                    "Message-ID": mail_message_id(kind="receipt", parts=(submission.reference,))
                },
            )
            with submission.receipt_pdf.open("rb") as handle:
                message.attach(
                    f"Eingangsbestaetigung-{submission.reference}.pdf",
                    handle.read(),
                    "application/pdf",
                )
            mail_send(message=message, connection=connection)
            comment = ""
        else:
            comment = "keine E-Mail-Adresse angegeben"
        now = timezone.now()
        step.complete(event="citizen_notified", comment=comment, at=now, citizen_notified_at=now)
    return Step.DONE


# --- The sweeper -------------------------------------------------------------

PIPELINE_QUEUES = ("default", "pdf", "delivery", "email")


def broker_backlog() -> int | None:
    """Messages waiting in the pipeline's queues, or None if the broker cannot tell."""
    app = current_app
    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_write() as connection:
            # The Redis transport keeps each queue as a list; other brokers: unknown.
            client = getattr(connection.default_channel, "client", None)
            if client is None:
                return None
            return sum(int(client.llen(queue)) for queue in PIPELINE_QUEUES)
    except Exception:  # the sweeper must run even when the broker is unhappy
        logger.warning("sweeper: could not read the queue lengths", exc_info=True)
        return None


def pipeline_sweep(*, limit: int = 1000) -> dict[str, int]:
    """Redo the steps whose task is lost, as recorded on the rows. Idempotent.

    Run by beat every PORTAL_SWEEP_INTERVAL_SECONDS. Lost (``recovery``): a
    claim past its task's time limit plus margin (the worker died), or, while
    no tasks wait in the queues, a task enqueued and never claimed within
    PORTAL_STEP_UNCLAIMED_SECONDS (Redis lost it). A long backlog with recent
    claims is therefore never re-enqueued. Each re-enqueue locks the row
    (skipping one a running step holds) and checks the recorded state again,
    so two sweepers, or a sweeper and a slow step, never both go on.
    """
    now = timezone.now()
    backlog = broker_backlog()
    waiting = queue_waiting(backlog=backlog)
    if waiting:
        # Tasks waiting in a queue may be the ones these rows wait for.
        logger.info("sweeper: %s tasks queued, only expired claims are redone", backlog)
    resumed = 0
    for submission_id in submissions_stuck(now=now, waiting=waiting, limit=limit):
        with transaction.atomic():
            lost = (
                submissions_lost_queryset(now=now, waiting=waiting)
                .select_for_update(skip_locked=True, of=("self",))
                .filter(pk=submission_id)
            )
            if lost.values_list("pk", flat=True).first() is None:
                continue  # claimed or advanced meanwhile, or a step holds it now
            Submission.objects.filter(pk=submission_id).update(**CLAIM_CLEARED)
            pipeline_advance(submission_id=submission_id)
        resumed += 1
    enqueued = sum(
        delivery_enqueue(delivery_id=pk, waiting=waiting)
        for pk in deliveries_stuck(now=now, waiting=waiting, limit=limit)
    )
    # Every channel delivered, but the worker died before recording it on the
    # submission (the delivery is committed first, see pipeline_deliver).
    unrecorded = list(
        Submission.objects.filter(
            delivered_at__isnull=True,
            purged_at__isnull=True,
            pipeline_progress_at__lt=unclaimed_before(now=now),
        )
        .annotate(
            channels=Count("deliveries"),
            open_channels=Count(
                "deliveries", filter=~Q(deliveries__status=Delivery.Status.DELIVERED)
            ),
        )
        .filter(channels__gt=0, open_channels=0)
        .values_list("pk", flat=True)[:limit]
    )
    for submission_id in unrecorded:
        pipeline_record_deliveries(submission_id=submission_id)
    return {"submissions": resumed + len(unrecorded), "deliveries": enqueued}
