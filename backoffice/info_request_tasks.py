"""The Rückfrage deadline job (Celery beat; registered through CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task

from .info_requests import info_requests_deadline_sweep


@shared_task(
    name="backoffice.tasks.info_request_deadlines",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def info_request_deadlines() -> dict[str, int]:
    report = info_requests_deadline_sweep()
    return {
        "reminded": len(report.reminded),
        "flagged": len(report.flagged),
        "answers_renotified": report.answers_renotified,
    }
