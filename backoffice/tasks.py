"""Periodic jobs of the back office (Celery beat; registered through CELERY_IMPORTS).

Task names are the ones they had in `submissions`, so the beat schedule and
queued tasks keep working.
"""

from __future__ import annotations

from celery import shared_task

from .casework import case_resend_pending_notifications
from .funnel_rollup import funnel_rollup_refresh as _funnel_rollup_refresh
from .notification_tasks import notify_case_status
from .retention import retention_purge_expired

__all__ = [
    "funnel_rollup_refresh",
    "notify_case_status",
    "notify_pending_case_status",
    "purge_expired",
]


@shared_task(name="submissions.tasks.purge_expired")
def purge_expired() -> int:
    return len(retention_purge_expired().submissions)


@shared_task(name="submissions.tasks.notify_pending_case_status")
def notify_pending_case_status() -> int:
    return case_resend_pending_notifications()


@shared_task(name="backoffice.tasks.funnel_rollup_refresh", acks_late=True, ignore_result=True)
def funnel_rollup_refresh() -> str:
    """Add the days closed since the last run to the funnel roll-up (idempotent)."""
    horizon = _funnel_rollup_refresh()
    return str(horizon)
