"""Save and continue later: the resume link's e-mail, queued for the `email` queue.

Apart from `drafts.py` because it enqueues a task of `tasks.py`, which in turn
calls the draft services: keeping it here keeps the import graph acyclic.
"""

from __future__ import annotations

import logging

from submissions.models import Draft

from .tasks import mail_resume_link

logger = logging.getLogger(__name__)


def draft_queue_resume_mail(
    *, draft: Draft, email: str, nonce: str, base_url: str, language: str
) -> bool:
    """Record the address and queue the resume link's e-mail on the `email` queue.

    Returns False (and logs) when the queue cannot be reached; the citizen
    still has the link on the page. The caller rate-limits. Call outside a
    transaction (views run in autocommit): the task must find the new token.
    """
    draft.email = email
    draft.save(update_fields=["email", "updated_at"])
    try:
        mail_resume_link.delay(str(draft.id), nonce, base_url, language)
    except Exception:  # a broker outage must not cost the citizen the page with the link
        logger.exception("could not queue the resume link mail of draft %s", draft.id)
        return False
    return True
