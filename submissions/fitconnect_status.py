"""The FIT-Connect back-channel: what the office's system answered to our submissions.

A beat job reads the event log of every case still waiting for an answer
and applies ``accept-submission`` and ``reject-submission``, each at most
once (the delivery row's ``remote_status`` is the record). Only events whose
signature verifies against the delivery service's published keys are
applied; the rest are logged at ERROR and ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from .delivery.base import DeliveryError
from .delivery.fitconnect import (
    EVENT_ACCEPT,
    EVENT_REJECT,
    fitconnect_access,
    fitconnect_case_events,
)
from .mail import alert_admins, mail_message_id
from .models import Delivery, Submission, SubmissionEvent
from .tallies import tally_status_changed

logger = logging.getLogger(__name__)


def _problems_text(payload: Any) -> str:
    """The rejection's problems (RFC 7807 documents) as one line for staff."""
    problems = payload.get("problems") if isinstance(payload, dict) else None
    lines = []
    for problem in problems if isinstance(problems, list) else []:
        if not isinstance(problem, dict):
            continue
        text = ": ".join(str(problem[key])[:500] for key in ("title", "detail") if problem.get(key))
        lines.append(text or str(problem.get("type", ""))[:300])
    return "; ".join(line for line in lines if line)[:2000] or "ohne Angabe von Gründen"


def delivery_remote_accept(*, delivery_id: int) -> bool:
    """The office's system accepted the submission: the case is in progress there. Idempotent."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.remote_status != Delivery.RemoteStatus.SUBMITTED:
            return False
        now = timezone.now()
        delivery.remote_status = Delivery.RemoteStatus.ACCEPTED
        delivery.remote_status_at = now
        delivery.save(update_fields=["remote_status", "remote_status_at"])
        submission = Submission.objects.select_for_update().get(pk=delivery.submission_id)
        SubmissionEvent.objects.create(
            submission=submission,
            kind="fitconnect_accepted",
            comment=f"FIT-Connect-Einreichung {delivery.remote_id} angenommen",
        )
        if submission.status in {Submission.Status.RECEIVED, Submission.Status.FORWARDED}:
            SubmissionEvent.objects.create(
                submission=submission,
                kind="status_changed",
                from_status=submission.status,
                to_status=Submission.Status.IN_PROGRESS,
                visible_to_citizen=True,
            )
            tally_status_changed(
                submission=submission,
                from_status=submission.status,
                to_status=Submission.Status.IN_PROGRESS,
            )
            submission.status = Submission.Status.IN_PROGRESS
            submission.save(update_fields=["status"])
    logger.info("delivery %s: FIT-Connect submission accepted", delivery_id)
    return True


def delivery_remote_reject(*, delivery_id: int, reason: str) -> bool:
    """The office's system rejected the submission: the delivery fails visibly. Idempotent.

    The case stays in the back-office inbox with the reason on its page;
    admins are alerted and can send it anew ("Jetzt erneut zustellen"
    creates a new FIT-Connect submission).
    """
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.remote_status != Delivery.RemoteStatus.SUBMITTED:
            return False
        now = timezone.now()
        delivery.remote_status = Delivery.RemoteStatus.REJECTED
        delivery.remote_status_at = now
        delivery.remote_problems = reason
        delivery.status = Delivery.Status.FAILED
        delivery.failed_at = now
        delivery.last_error = f"Vom Empfänger zurückgewiesen: {reason}"[:2000]
        delivery.save(
            update_fields=[
                "remote_status",
                "remote_status_at",
                "remote_problems",
                "status",
                "failed_at",
                "last_error",
            ]
        )
        submission = Submission.objects.get(pk=delivery.submission_id)
        SubmissionEvent.objects.create(
            submission=submission,
            kind="fitconnect_rejected",
            comment=f"FIT-Connect-Einreichung {delivery.remote_id} zurückgewiesen: {reason}",
        )
        reference = submission.reference
        message_id = mail_message_id(
            kind="alert-fitconnect-rejected", parts=(reference, delivery.pk)
        )
        transaction.on_commit(
            lambda: alert_admins(
                subject=f"Antrag {reference}: FIT-Connect-Einreichung zurückgewiesen",
                body=f"Das Fachverfahren der Behörde hat den Antrag {reference} zurückgewiesen."
                f"\n\nGründe: {reason}\n\nDer Antrag liegt weiter im Posteingang des Back "
                "Office; „Jetzt erneut zustellen“ reicht ihn neu ein.",
                message_id=message_id,
            )
        )
    logger.warning("delivery %s: FIT-Connect submission rejected: %s", delivery_id, reason)
    return True


def delivery_remote_status_sync(*, delivery: Delivery) -> str:
    """Read one case's event log and apply its verdict; returns what happened."""
    access = fitconnect_access(office=delivery.submission.office)
    if access is None or not delivery.remote_case_id:
        return "unconfigured"
    for event in fitconnect_case_events(access=access, case_id=delivery.remote_case_id):
        if event.submission_id != delivery.remote_id:
            continue
        if EVENT_REJECT in event.events:
            reason = _problems_text(event.events[EVENT_REJECT])
            return (
                "rejected"
                if delivery_remote_reject(delivery_id=delivery.pk, reason=reason)
                else "seen"
            )
        if EVENT_ACCEPT in event.events:
            return "accepted" if delivery_remote_accept(delivery_id=delivery.pk) else "seen"
    return "waiting"


def fitconnect_status_sync() -> dict[str, int]:
    """The beat job: every FIT-Connect delivery still waiting for an answer. Idempotent.

    One case that cannot be read (the service down, a bad answer) is logged
    and tried again next time; it does not stop the others.
    """
    counts: dict[str, int] = {}
    waiting = Delivery.objects.select_related("submission", "submission__office").filter(
        channel=Delivery.Channel.FITCONNECT, remote_status=Delivery.RemoteStatus.SUBMITTED
    )
    for delivery in waiting.order_by("remote_status_at", "pk"):
        try:
            outcome = delivery_remote_status_sync(delivery=delivery)
        except DeliveryError as exc:
            logger.warning("delivery %s: FIT-Connect event log not read: %s", delivery.pk, exc)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
