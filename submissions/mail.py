"""Sending the portal's e-mails so that a crash repeats as few as possible, recognisably.

Each logical e-mail (the receipt of a submission, the office's notice of one
delivery, a status e-mail, an alert) carries a Message-ID derived from what
it is about, so a repeat after a crash has the same Message-ID as the first
copy and mail clients and office systems can tell it is the same message.

Callers send over a connection from ``mail_connection()`` inside the
transaction that records the send, and nothing else happens between the
server's "250" and that commit: the SMTP ``QUIT`` waits until the connection
closes, after the commit. Guarantees per kind: `docs/pipeline.md`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def mail_domain() -> str:
    """The portal's host name (PORTAL_BASE_URL), the right-hand side of its Message-IDs."""
    return urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"


def mail_message_id(*, kind: str, parts: tuple[object, ...]) -> str:
    """The Message-ID of one logical e-mail, e.g. ``<receipt.TH-2026-7K3M-Q9XD@portal.example>``.

    The same kind and parts always give the same id. Parts are references and
    row ids, never personal data.
    """
    left = ".".join(_UNSAFE.sub("-", str(item)).strip("-.") for item in (kind, *parts))
    return f"<{left}@{mail_domain()}>"


@contextmanager
def mail_connection() -> Iterator[BaseEmailBackend]:
    """An SMTP connection that is closed (``QUIT``) only when the block is left.

    Open the transaction that records a send inside this block, so the commit
    comes before the ``QUIT`` round trip rather than after it.
    """
    connection = get_connection(fail_silently=False)
    try:
        yield connection
    finally:
        try:
            connection.close()
        except OSError:
            # The message was accepted and recorded; a failed goodbye changes nothing.
            logger.warning("closing the SMTP connection failed", exc_info=True)


def mail_send(*, message: EmailMessage, connection: BaseEmailBackend) -> None:
    """Send one message over ``connection``; returns once the server accepted it.

    Raises OSError (smtplib's errors) when the server refused it.
    """
    connection.open()
    message.connection = connection
    if not message.send(fail_silently=False):
        raise OSError("the mail server accepted no recipient")


def alert_admins(*, subject: str, body: str, message_id: str) -> None:
    """E-mail the platform administrators (PORTAL_ADMIN_EMAILS). Call after commit.

    At most once: the fact being alerted is already recorded and visible in the
    back office, so a failure to mail is logged rather than retried.
    """
    recipients = [address for _name, address in settings.ADMINS]
    if not recipients:
        return
    message = EmailMessage(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        from_email=settings.SERVER_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id},
    )
    try:
        with mail_connection() as connection:
            mail_send(message=message, connection=connection)
    except Exception:
        logger.error("could not e-mail the administrators: %s", subject, exc_info=True)
