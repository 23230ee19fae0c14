"""The back-office inbox: every office has it.

A case is in the inbox once it is routed to the office and its office copy
is stored: that is exactly what the back office lists for the office's clerks.
"""

from __future__ import annotations

from ..models import Delivery
from . import DeliveryError


def send(*, delivery: Delivery) -> int:
    submission = delivery.submission
    if submission.office_id is None or not submission.office_pdf:
        raise DeliveryError("case is not yet visible in the back office (no office or no PDF)")
    return 0
