"""Periodic job for drafts (listed in CELERY_IMPORTS and the beat schedule)."""

from celery import shared_task

from .drafts import draft_purge_expired


@shared_task(name="submissions.drafts_tasks.purge_expired_drafts")
def purge_expired_drafts() -> int:
    return draft_purge_expired()
