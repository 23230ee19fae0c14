"""Celery tasks of the submission pipeline: thin wrappers around `pipeline` services.

Each task takes an id, calls one idempotent step, and hands over to the next
step (through `pipeline_advance`, or the step enqueues its successors itself:
the PDF step starts the deliveries and the citizen's e-mail in parallel).
Settings make them at-least-once (late ack, reject on worker loss, prefetch
1); routing by name puts render_* on the pdf queue, deliver_* on delivery
and notify_* on email. The pipeline's tasks take their time limits from
``recovery`` and claim their step with them, so a lost task shows as a claim
past its limit.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import access, fitconnect_status, info_requests, pipeline, withdrawal
from .recovery import (
    TASK_DELIVER_DELIVERY,
    TASK_DELIVER_SUBMISSION,
    TASK_NOTIFY_CITIZEN,
    TASK_RENDER_PDFS,
    TASK_RESOLVE_OFFICE,
    step_claim,
    step_time_limits,
)
from .steps import Step

logger = logging.getLogger(__name__)

COMMON = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
BUSY_RETRIES = 30


def _again_if_busy(task, step: Step) -> None:
    """Try a step again shortly if another step held the submission row.

    The lock may belong to a different step (e.g. a delivery recording its
    success), so "busy" does not mean this step is done; a re-run is harmless
    because every step checks the recorded state first. Past the limit the
    beat sweeper takes over.
    """
    if step is Step.BUSY and task.request.retries < BUSY_RETRIES:
        raise task.retry(countdown=random.uniform(0.5, 2.0))  # noqa: S311 - spreading only


@shared_task(
    name=TASK_RESOLVE_OFFICE,
    bind=True,
    **step_time_limits(task_name=TASK_RESOLVE_OFFICE),
    **COMMON,
)
def resolve_office(self, submission_id: int) -> str:
    step = pipeline.pipeline_resolve_office(
        submission_id=submission_id, claim=step_claim(task=self)
    )
    _again_if_busy(self, step)
    if step is Step.DONE:
        pipeline.pipeline_advance(submission_id=submission_id)
    return step.value


@shared_task(
    name=TASK_RENDER_PDFS,
    bind=True,
    **step_time_limits(task_name=TASK_RENDER_PDFS),
    **COMMON,
)
def render_pdfs(self, submission_id: int) -> str:
    try:
        step = pipeline.pipeline_render_pdfs(
            submission_id=submission_id, claim=step_claim(task=self)
        )
    except SoftTimeLimitExceeded:
        # A render that runs away would do so again on every retry: stop visibly.
        pipeline.pipeline_fail(
            submission_id=submission_id, reason="PDF-Erzeugung hat das Zeitlimit überschritten."
        )
        return Step.STOPPED.value
    except Exception as exc:
        if self.request.retries < 3:
            raise self.retry(exc=exc, countdown=15 * (self.request.retries + 1)) from exc
        logger.exception("rendering the PDFs of submission %s failed", submission_id)
        pipeline.pipeline_fail(
            submission_id=submission_id, reason=f"PDF-Erzeugung fehlgeschlagen: {exc!r}"[:500]
        )
        return Step.STOPPED.value
    # The step itself enqueued what follows (the deliveries and the citizen's
    # e-mail) on its commit: no ``pipeline_advance`` here, it would add a duplicate.
    _again_if_busy(self, step)
    return step.value


@shared_task(
    name=TASK_DELIVER_SUBMISSION,
    bind=True,
    **step_time_limits(task_name=TASK_DELIVER_SUBMISSION),
    **COMMON,
)
def deliver_submission(self, submission_id: int) -> str:
    step = pipeline.pipeline_prepare_deliveries(
        submission_id=submission_id, claim=step_claim(task=self)
    )
    _again_if_busy(self, step)
    return step.value


@shared_task(
    name=TASK_DELIVER_DELIVERY,
    bind=True,
    **step_time_limits(task_name=TASK_DELIVER_DELIVERY),
    **COMMON,
)
def deliver_delivery(self, delivery_id: int) -> str:
    return pipeline.pipeline_deliver(delivery_id=delivery_id, claim=step_claim(task=self)).value


@shared_task(
    name=TASK_NOTIFY_CITIZEN,
    bind=True,
    **step_time_limits(task_name=TASK_NOTIFY_CITIZEN),
    **COMMON,
)
def notify_citizen(self, submission_id: int) -> str:
    try:
        step = pipeline.pipeline_notify_citizen(
            submission_id=submission_id, claim=step_claim(task=self)
        )
    except OSError as exc:  # SMTP errors are OSErrors too
        if self.request.retries < 10:
            countdown = min(300, 10 * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        # Beyond that the beat sweeper picks the submission up again later.
        logger.warning("citizen e-mail for submission %s keeps failing: %s", submission_id, exc)
        return Step.STOPPED.value
    _again_if_busy(self, step)
    return step.value


@shared_task(name=access.ACCESS_CODE_TASK, bind=True, **COMMON)
def notify_access_code(self, submission_id: int, nonce: str) -> str:
    try:
        return access.access_code_mail(submission_id=submission_id, nonce=nonce)
    except OSError as exc:  # SMTP errors are OSErrors too
        if self.request.retries < 10:
            countdown = min(300, 10 * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        # The old code still works (nothing was committed); the citizen may ask again.
        logger.warning("access code mail of submission %s keeps failing: %s", submission_id, exc)
        return "failed"


@shared_task(name=withdrawal.OFFICE_MAIL_TASK, bind=True, **COMMON)
def notify_office_withdrawal(self, event_id: int) -> str:
    try:
        return withdrawal.withdrawal_office_mail(event_id=event_id)
    except OSError as exc:  # SMTP errors are OSErrors too
        if self.request.retries < 10:
            countdown = min(300, 10 * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        # The back office shows the withdrawal in the case history regardless.
        logger.warning("withdrawal mail of event %s keeps failing: %s", event_id, exc)
        return "failed"


@shared_task(name=info_requests.ANSWER_NOTIFY_TASK, bind=True, **COMMON)
def notify_info_answer(self, info_request_id: int) -> str:
    try:
        return info_requests.info_answer_office_mail(info_request_id=info_request_id)
    except OSError as exc:  # SMTP errors are OSErrors too
        if self.request.retries < 10:
            countdown = min(300, 10 * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        # Still unsent: the back office's deadline job enqueues it again later.
        logger.warning("answer mail of info request %s keeps failing: %s", info_request_id, exc)
        return "failed"


@shared_task(name="submissions.tasks.sweep_stuck_submissions", **COMMON)
def sweep_stuck_submissions() -> dict[str, int]:
    return pipeline.pipeline_sweep()


@shared_task(name="submissions.tasks.sync_fitconnect_status", **COMMON)
def sync_fitconnect_status() -> dict[str, int]:
    return fitconnect_status.fitconnect_status_sync()
