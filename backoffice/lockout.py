"""The page a locked-out staff member sees (django-axes' AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

import datetime

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def cool_off_text(delta: datetime.timedelta) -> str:
    """The lockout duration in words ("1 Stunde", "90 Minuten"), in the active language."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d Stunde", "%(count)d Stunden", hours) % {"count": hours}
    return ngettext("%(count)d Minute", "%(count)d Minuten", minutes) % {"count": minutes}


def staff_lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The styled lockout page with axes' status (429), the duration and whom to ask.

    Does not name the account, so it confirms nothing beyond the lockout itself.
    """
    cool_off = get_cool_off(request)
    response = render(
        request,
        "admin/portal/lockout.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "cool_off": cool_off_text(cool_off) if cool_off else "",
            "support_email": settings.PORTAL_STAFF_SUPPORT_EMAIL,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
