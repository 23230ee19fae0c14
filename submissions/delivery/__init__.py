"""Delivery channels: how a submission reaches its office.

``send(delivery=...)`` makes one attempt over the delivery's channel and
returns a status code (HTTP status, or 0 where there is none) or raises
``DeliveryError``; retries and bookkeeping are the pipeline's job.
"""

from __future__ import annotations

from ..models import Delivery


class DeliveryError(Exception):
    """One attempt failed; it will be retried until the retry window is over."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def send(*, delivery: Delivery) -> int:
    from . import email, inbox, webhook

    channels = {
        Delivery.Channel.INBOX: inbox.send,
        Delivery.Channel.EMAIL: email.send,
        Delivery.Channel.WEBHOOK: webhook.send,
    }
    return channels[delivery.channel](delivery=delivery)
