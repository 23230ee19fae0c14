"""Resume links of saved drafts: tokens derived from a nonce, and the mail that carries them.

A resume token is HMAC(server key, draft id + nonce). The database keeps only
the token's SHA-256; the e-mail task gets only the draft id and the nonce, so
neither the broker (not a secret store) nor a database reader holds a usable
link, and the worker can still rebuild the token that the citizen saw.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from submissions.models import Draft

logger = logging.getLogger(__name__)

_SALT = "submissions.resume_links.token"


def resume_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def resume_nonce_new() -> str:
    return secrets.token_urlsafe(16)


def resume_token_derive(*, draft_id: uuid.UUID | str, nonce: str) -> str:
    """The resume token of this draft and nonce (256 bits, URL-safe)."""
    digest = salted_hmac(_SALT, f"{draft_id}:{nonce}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def resume_link_mail(*, draft_id: str, nonce: str, base_url: str, language: str) -> str:
    """Mail the resume link rebuilt from `nonce` to the address recorded on the draft.

    Returns "sent", or "skipped" when the draft is gone, submitted or expired,
    has no address, or a newer link replaced this one (its token would open
    nothing, and the newer request mails the newer link). Raises OSError when
    the mail server fails, for the task to retry. At-least-once: a worker lost
    after the server accepted the mail may send the same link again.
    """
    draft = (
        Draft.objects.select_related("service", "gemeinde")
        .filter(id=draft_id, submitted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if draft is None or not draft.email:
        return "skipped"
    token = resume_token_derive(draft_id=draft.id, nonce=nonce)
    if not hmac.compare_digest(draft.token_hash, resume_token_hash(token)):
        return "skipped"
    url = base_url.rstrip("/") + reverse("citizen:resume", kwargs={"token": token})
    with translation.override(language):
        context = {
            "draft": draft,
            "url": url,
            "service_name": draft.service.name(language),
            "gemeinde": draft.gemeinde,
            "expires_at": draft.expires_at,
        }
        subject = render_to_string("submissions/email/resume_subject.txt", context).strip()
        body = render_to_string("submissions/email/resume_body.txt", context)
    send_mail(subject, body, None, [draft.email])
    logger.info("mailed the resume link of draft %s", draft.id)
    return "sent"
