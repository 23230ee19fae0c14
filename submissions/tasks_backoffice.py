"""Celery tasks of the back office (registered through CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task

from .casework import case_notify_citizen


@shared_task(
    name="submissions.tasks.notify_case_status",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=30,
)
def notify_case_status(notification_id: int) -> bool:
    return case_notify_citizen(notification_id=notification_id)


@shared_task(name="submissions.tasks.purge_expired")
def purge_expired() -> int:
    from .retention import retention_purge_expired

    return len(retention_purge_expired().submissions)


@shared_task(name="submissions.tasks.notify_pending_case_status")
def notify_pending_case_status() -> int:
    from .casework import case_resend_pending_notifications

    return case_resend_pending_notifications()
