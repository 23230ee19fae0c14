"""Delivery channels: how a submission reaches its office.

``send(delivery=...)`` makes one attempt over the delivery's channel and
returns a status code (HTTP status, or 0 where there is none) or raises
``DeliveryError``; retries and bookkeeping are the pipeline's job.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend

from ..models import Delivery


class DeliveryError(Exception):
    """One attempt failed; it will be retried until the retry window is over."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def send(*, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
    """One attempt over the delivery's channel; ``connection`` is the SMTP one for e-mail.

    The caller keeps the SMTP connection open until it has committed the
    outcome (see ``pipeline_deliver``).
    """
    from . import email, inbox, webhook

    if delivery.channel == Delivery.Channel.EMAIL:
        return email.send(delivery=delivery, connection=connection)
    channels = {
        Delivery.Channel.INBOX: inbox.send,
        Delivery.Channel.WEBHOOK: webhook.send,
    }
    return channels[delivery.channel](delivery=delivery)
