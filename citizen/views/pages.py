"""Static pages: accessibility statement with its feedback form, imprint, privacy notice."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from submissions.ratelimit import rate_limit_hit

from ..forms import FeedbackForm
from ..models import AccessibilityFeedback
from ..selectors import portal_contacts_get
from .common import allow_methods, language, too_many_requests

logger = logging.getLogger(__name__)


@allow_methods("GET", "HEAD", "POST")
def accessibility(request: HttpRequest) -> HttpResponse:
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if rate_limit_hit(request=request, scope="feedback"):
            return too_many_requests(request)
        if form.is_valid():
            feedback = AccessibilityFeedback.objects.create(
                message=form.cleaned_data["message"],
                page_url=form.cleaned_data["page_url"],
                email=form.cleaned_data["email"],
                language=language(),
            )
            if settings.PORTAL_FEEDBACK_EMAIL:
                try:
                    send_mail(
                        f"Rückmeldung Barrierefreiheit #{feedback.pk}",
                        f"{feedback.message}\n\nSeite: {feedback.page_url}\n"
                        f"Antwort an: {feedback.email or '-'}\n",
                        None,
                        [settings.PORTAL_FEEDBACK_EMAIL],
                    )
                except Exception:  # stored anyway; staff see it in the admin
                    logger.exception("could not mail accessibility feedback %s", feedback.pk)
            return redirect("citizen:accessibility_thanks")
    return render(
        request,
        "submissions/pages/accessibility.html",
        {"form": form, "forms_with_errors": [form] if form.errors else []},
    )


@allow_methods("GET", "HEAD")
def accessibility_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "submissions/pages/accessibility_thanks.html")


@allow_methods("GET", "HEAD")
def imprint(request: HttpRequest) -> HttpResponse:
    return render(request, "submissions/pages/imprint.html", {"contacts": portal_contacts_get()})


@allow_methods("GET", "HEAD")
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "submissions/pages/privacy.html",
        {"draft_days": settings.PORTAL_DRAFT_LIFETIME_DAYS, "contacts": portal_contacts_get()},
    )


@never_cache
@allow_methods("GET", "HEAD")
def keepalive(request: HttpRequest) -> JsonResponse:
    """Called by session-timeout.js; any request renews the session (SESSION_SAVE_EVERY_REQUEST)."""
    request.session["keepalive"] = True
    return JsonResponse({"seconds": settings.SESSION_COOKIE_AGE})


@allow_methods("GET", "HEAD")
def easy_read(request: HttpRequest) -> HttpResponse:
    """The site explained in Leichte Sprache (BITV 2.0 § 4), with the sign-language video slot."""
    return render(
        request,
        "submissions/pages/easy_read.html",
        {
            "sign_language_video_url": settings.PORTAL_SIGN_LANGUAGE_VIDEO_URL,
            "draft_days": settings.PORTAL_DRAFT_LIFETIME_DAYS,
        },
    )
