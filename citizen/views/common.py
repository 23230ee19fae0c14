"""Helpers shared by the citizen views."""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


def localized(obj: object, name: str, lang: str) -> str:
    """The `<name>_en` text in English when there is one, else `<name>_de`."""
    return getattr(obj, f"{name}_en" if lang == "en" else f"{name}_de", "") or getattr(
        obj, f"{name}_de", ""
    )


def too_many_requests(request: HttpRequest) -> HttpResponse:
    response = render(request, "submissions/429.html", status=429)
    response["Retry-After"] = "600"
    return response


def error_page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    """A clear page for a bad request the citizen can act on (never a stack trace)."""
    return render(
        request,
        "submissions/error.html",
        {"title": title, "message": message},
        status=status,
    )


def session_warning_seconds() -> int:
    return settings.SESSION_COOKIE_AGE


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    response = error_page(
        request,
        status=405,
        title=_("Ungültige Anfrage"),
        message=_(
            "Ihre Anfrage konnte nicht verarbeitet werden. Bitte prüfen Sie Ihre Eingaben "
            "und versuchen Sie es erneut."
        ),
    )
    response["Allow"] = ", ".join(allowed)
    return response


def allow_methods(*methods: str):
    """Like require_http_methods, but a wrong method gets the portal's error page."""
    allowed = [m.upper() for m in methods]

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in allowed:
                return method_not_allowed(request, allowed)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
