"""The task that sends one status e-mail.

Apart from `tasks.py` because case work enqueues it: `casework` imports this
module, and `tasks.py` (the periodic jobs) imports `casework`.
"""

from __future__ import annotations

from celery import shared_task

from .notifications import case_notify_citizen


# The name is the one it had in `submissions`, so queued tasks and the routes
# (CELERY_TASK_ROUTES "submissions.tasks.notify_*") still apply.
@shared_task(
    name="submissions.tasks.notify_case_status",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=30,
)
def notify_case_status(notification_id: int) -> bool:
    return case_notify_citizen(notification_id=notification_id)
