"""Celery tasks of the citizen's journey (thin: each calls one service).

The task names are the ones these tasks had before they moved here from
`submissions`: tasks already queued in Redis and the beat schedule keep
finding them.
"""

from __future__ import annotations

import logging

from celery import shared_task

from .drafts import draft_purge_expired
from .resume_links import resume_link_mail

logger = logging.getLogger(__name__)

MAIL_RETRIES = 8


@shared_task(name="submissions.drafts_tasks.purge_expired_drafts")
def purge_expired_drafts() -> int:
    return draft_purge_expired()


@shared_task(
    name="submissions.resume_tasks.mail_resume_link",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def mail_resume_link(self, draft_id: str, nonce: str, base_url: str, language: str) -> str:
    try:
        return resume_link_mail(
            draft_id=draft_id, nonce=nonce, base_url=base_url, language=language
        )
    except OSError as exc:  # SMTP errors are OSErrors too
        if self.request.retries < MAIL_RETRIES:
            countdown = min(300, 10 * 2**self.request.retries)
            raise self.retry(exc=exc, countdown=countdown) from exc
        logger.warning("resume link of draft %s could not be mailed: %s", draft_id, exc)
        return "failed"
