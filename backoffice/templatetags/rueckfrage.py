"""The Rückfrage panel of the case page (`admin/portal/case/_rueckfrage.html`)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..info_requests import ASKABLE_STATUSES, case_info_requests

register = template.Library()


@register.simple_tag
def case_rueckfrage(case):
    """The case's requests (newest first) with their state, and whether one can be asked."""
    rows = []
    today = timezone.localdate()
    for info_request in reversed(case_info_requests(submission=case)):
        rows.append(
            {
                "request": info_request,
                "files": list(info_request.files.all()),
                "deadline_passed": info_request.is_open
                and (info_request.deadline_passed_at is not None or today > info_request.deadline),
            }
        )
    return {
        "rows": rows,
        "can_ask": case.purged_at is None and case.status in ASKABLE_STATUSES,
    }
