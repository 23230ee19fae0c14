"""Helpers shared by the citizen views."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language


def language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


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
