"""A lost access code: a new one, sent only to the e-mail address given in the application.

The access secret is stored only as an HMAC, so a lost code cannot be sent
again: a new one is made and mailed, and the old one stops working. The new
secret is made inside the e-mail task and never travels through the broker.
Safe enough for unencrypted e-mail because the code opens only the status
page of that one application (status and history, never the answers), only
together with the reference, and each new request replaces it.

The receipt e-mail and PDF carry a personal status link instead of the code
(`links.status_link_url`): same reach as the code, revoked by every new code,
and useless some weeks after the decision (`status_link_days_after_decision`).
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .enqueue import task_enqueue_on_commit, task_named
from .links import status_link_url, status_page_url
from .mail import mail_connection, mail_message_id, mail_send
from .models import Submission
from .references import (
    access_secret_generate,
    access_secret_hash,
    normalize_reference,
    status_link_token_matches,
)

logger = logging.getLogger(__name__)

ACCESS_CODE_TASK = "submissions.tasks.notify_access_code"


def status_link_days_after_decision() -> int:
    """How long a status link keeps working after the decision (PORTAL_STATUS_LINK_DAYS)."""
    return settings.PORTAL_STATUS_LINK_DAYS


def submission_for_status_link(*, reference: object, token: object) -> Submission | None:
    """The submission a personal status link opens, or None.

    None for a malformed or unknown reference, a wrong or revoked token (a
    new access code was issued since), a purged submission, and a link used
    more than `status_link_days_after_decision()` days after the decision.
    """
    normalized = normalize_reference(reference)
    if normalized is None or normalized != reference:
        return None
    submission = (
        Submission.objects.select_related("office", "gemeinde", "service")
        .filter(reference=normalized, purged_at__isnull=True)
        .first()
    )
    if submission is None or not status_link_token_matches(
        token=token, reference=normalized, access_secret_hash=submission.access_secret_hash
    ):
        return None
    if submission.decided_at is not None:
        expires = submission.decided_at + datetime.timedelta(days=status_link_days_after_decision())
        if timezone.now() >= expires:
            return None
    return submission


def access_code_resend_request(*, reference: object) -> bool:
    """Queue a new access code for the application ``reference``; True if one was queued.

    Nothing is queued for an invalid, unknown or purged reference or for an
    application without an e-mail address. Callers must answer the same in
    every case (the return value is for tests and logs only), so that the
    form cannot be used to find out which references exist.
    """
    normalized = normalize_reference(reference)
    if normalized is None:
        return False
    submission_id = (
        Submission.objects.filter(reference=normalized, purged_at__isnull=True)
        .exclude(applicant_email="")
        .values_list("pk", flat=True)
        .first()
    )
    if submission_id is None:
        return False
    # The nonce names this one request: a repeat of its task (after a crash
    # between send and commit) carries the same Message-ID.
    nonce = uuid.uuid4().hex
    task_enqueue_on_commit(
        task=task_named(ACCESS_CODE_TASK), args=(submission_id, nonce), about=normalized
    )
    return True


def access_code_mail(*, submission_id: int, nonce: str) -> str:
    """Give the submission a new access code and e-mail it to the application's address.

    Returns "sent", or "skipped" for a purged submission or one without an
    e-mail address. The new code's hash is committed only after the mail
    server accepted the message, so a failed send keeps the old code and the
    task can retry. Raises OSError on SMTP errors.
    """
    with mail_connection() as connection, transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(pk=submission_id, purged_at__isnull=True)
            .first()
        )
        if submission is None or not submission.applicant_email:
            return "skipped"
        secret = access_secret_generate()
        new_hash = access_secret_hash(secret)
        with translation.override(submission.language):
            context = {
                "submission": submission,
                "secret": secret,
                "status_url": status_page_url(),
                "status_link": status_link_url(
                    reference=submission.reference, access_secret_hash=new_hash
                ),
                "service_name": submission.service.name(submission.language),
            }
            subject = render_to_string("submissions/email/access_code_subject.txt", context).strip()
            body = render_to_string("submissions/email/access_code_body.txt", context)
        message = EmailMessage(
            subject=subject,
            body=body,
            # Only ever the address the application gave, never one typed into the form.
            to=[submission.applicant_email],
            headers={
                "Message-ID": mail_message_id(
                    kind="access-code", parts=(submission.reference, nonce)
                )
            },
        )
        Submission.objects.filter(pk=submission.pk).update(access_secret_hash=new_hash)
        mail_send(message=message, connection=connection)
    logger.info("new access code mailed for %s", submission.reference)
    return "sent"
