"""Recovery driven by what is recorded: time limits, claims, and the selectors of lost work.

Every pipeline task claims its step on the row before it works on it
(``steps.locked_step``): who (task id, retry, worker) and until when. The
claim holds for the task's hard time limit plus a margin, because a task
still running after its hard limit has been killed by Celery; so a claim past
its expiry means a worker died (SIGKILL, power loss) or its task was dropped,
and the step is redone at once. Work whose task was put on the queue but
never claimed is lost only if the queues are (nearly) empty: a long backlog
means waiting, not lost, and re-enqueueing it would only queue duplicates.

This module is the one place for the time limits of the pipeline's tasks;
``tasks`` takes its Celery limits from here.
"""

from __future__ import annotations

import datetime

from celery import Task
from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Delivery, Submission
from .steps import Claim

# The tasks of the steps (defined in ``tasks``, which calls ``pipeline``).
TASK_RESOLVE_OFFICE = "submissions.tasks.resolve_office"
TASK_RENDER_PDFS = "submissions.tasks.render_pdfs"
TASK_DELIVER_SUBMISSION = "submissions.tasks.deliver_submission"
TASK_DELIVER_DELIVERY = "submissions.tasks.deliver_delivery"
TASK_NOTIFY_CITIZEN = "submissions.tasks.notify_citizen"


def step_time_limits(*, task_name: str) -> dict[str, int]:
    """The Celery ``soft_time_limit`` and ``time_limit`` of a pipeline task, in seconds."""
    if task_name == TASK_RENDER_PDFS:
        soft, hard = settings.PORTAL_PDF_SOFT_TIME_LIMIT, settings.PORTAL_PDF_TIME_LIMIT
    else:
        soft, hard = settings.PORTAL_STEP_SOFT_TIME_LIMIT, settings.PORTAL_STEP_TIME_LIMIT
    return {"soft_time_limit": int(soft), "time_limit": int(hard)}


def step_claim_duration(*, task_name: str) -> datetime.timedelta:
    """How long a claim by ``task_name`` holds: its hard time limit plus the margin."""
    hard = step_time_limits(task_name=task_name)["time_limit"]
    return datetime.timedelta(seconds=hard + int(settings.PORTAL_STEP_CLAIM_MARGIN_SECONDS))


def step_claim(*, task: Task) -> Claim:
    """The claim the running ``task`` makes on its step: this attempt, until its limit ends."""
    now = timezone.now()
    request = task.request
    by = f"{task.name.rsplit('.', 1)[-1]} {request.id or '-'}#{request.retries or 0}"
    if request.hostname:
        by = f"{by} @{request.hostname}"
    return Claim(by=by[:255], at=now, expires_at=now + step_claim_duration(task_name=task.name))


def unclaimed_before(*, now: datetime.datetime) -> datetime.datetime:
    """Work enqueued before this and never claimed is lost (if no queue holds tasks)."""
    return now - datetime.timedelta(seconds=int(settings.PORTAL_STEP_UNCLAIMED_SECONDS))


def queue_waiting(*, backlog: int | None) -> bool:
    """Whether tasks are waiting in the queues, so unclaimed work may just be waiting its turn.

    An unknown backlog (the broker cannot tell) counts as waiting: only
    expired claims are redone then, never work that may still be queued.
    """
    return backlog is None or backlog > int(settings.PORTAL_SWEEP_MAX_BACKLOG)


def _claim_lost(*, now: datetime.datetime, waiting: bool) -> Q:
    """Rows whose claimed step is past its limit, or whose task was never claimed in time."""
    lost = Q(claim_expires_at__lt=now)
    if not waiting:
        lost |= Q(claimed_at__isnull=True, enqueued_since__lt=unclaimed_before(now=now))
    return lost


def submissions_stuck(*, now: datetime.datetime, waiting: bool, limit: int = 1000) -> list[int]:
    """Ids of unfinished submissions whose step was lost, oldest first.

    Lost = claimed, and the claim expired; or (only while no tasks wait in the
    queues, ``waiting=False``) enqueued longer ago than
    PORTAL_STEP_UNCLAIMED_SECONDS and never claimed. Visibly failed and purged
    submissions are left to people.
    """
    unfinished = (
        Q(office_resolved_at__isnull=True)
        | Q(pdfs_rendered_at__isnull=True)
        | Q(citizen_notified_at__isnull=True)
    )
    return list(
        submissions_lost_queryset(now=now, waiting=waiting)
        .filter(unfinished, pipeline_failed_at__isnull=True, purged_at__isnull=True)
        .order_by("enqueued_since", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def submissions_lost_queryset(*, now: datetime.datetime, waiting: bool):
    """Submissions whose recorded claim or enqueue says their task is lost (see above)."""
    # Rows from before claims were recorded have only pipeline_progress_at.
    return Submission.objects.annotate(
        enqueued_since=Coalesce("enqueued_at", "pipeline_progress_at")
    ).filter(_claim_lost(now=now, waiting=waiting))


def deliveries_lost_q(*, now: datetime.datetime, waiting: bool) -> Q:
    """Due, pending delivery attempts that have no live task (for ``Delivery.objects``).

    No task: never enqueued, enqueued only for an earlier attempt, a claim past
    its expiry, or (while no tasks wait) enqueued and never claimed in time.
    """
    due = Q(status=Delivery.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    no_task = Q(claim_expires_at__lt=now) | Q(
        Q(claimed_at__isnull=True)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=F("next_attempt_at")))
    )
    if not waiting:
        no_task |= Q(claimed_at__isnull=True, enqueued_at__lt=unclaimed_before(now=now))
    return due & no_task


def deliveries_stuck(*, now: datetime.datetime, waiting: bool, limit: int = 1000) -> list[int]:
    """Ids of due delivery attempts without a live task, the longest due first."""
    return list(
        Delivery.objects.filter(deliveries_lost_q(now=now, waiting=waiting))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
