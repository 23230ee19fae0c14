"""The back-office inbox: every office has it.

A case is in the inbox once it is routed to the office and its office copy
is stored: that is exactly what the back office lists for the office's clerks.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend

from ..models import Delivery
from .base import DeliveryChannel, DeliveryError, channel_register


@channel_register
class InboxChannel(DeliveryChannel):
    name = Delivery.Channel.INBOX.value
    position = 10
    in_portal = True

    def serves(self, *, office) -> bool:
        return True

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        submission = delivery.submission
        if submission.office_id is None or not submission.office_pdf:
            raise DeliveryError("case is not yet visible in the back office (no office or no PDF)")
        return 0
