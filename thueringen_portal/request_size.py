"""Request-level guards that must act before anything reads the request body."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Bodies up to this size stay in memory while a chunked body is counted; larger
# ones go to a temporary file (the same threshold Django uses for uploads).
_SPOOL_BYTES = 2_621_440
_CHUNK = 64 * 1024


def request_too_large(request: HttpRequest) -> HttpResponse:
    """The 413 page: what was too big and what the citizen can do."""
    limit_mb = max(1, settings.PORTAL_MAX_REQUEST_BYTES // (1024 * 1024))
    return render(request, "errors/413.html", {"limit_mb": limit_mb}, status=413)


def _declared_length(meta: dict) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class RequestSizeLimitMiddleware:
    """Refuse request bodies larger than PORTAL_MAX_REQUEST_BYTES with 413, unread.

    `DATA_UPLOAD_MAX_MEMORY_SIZE` does not cover files, so a multipart body
    would otherwise be read whole. A declared Content-Length over the limit is
    refused before a byte is read. A chunked body (no Content-Length) is read
    here through a counter and refused as soon as it passes the limit; what is
    within it is handed on with its counted length, so Django can parse it.
    That needs a server that ends the input at the body's end (gunicorn sets
    `wsgi.input_terminated`); without that Django reads no body at all.

    Must come before any middleware that reads `request.POST` (CsrfViewMiddleware
    does) and after LocaleMiddleware, so the page is in the citizen's language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.PORTAL_MAX_REQUEST_BYTES
        length = _declared_length(request.META)
        if length is not None and length > limit:
            return request_too_large(request)
        if length is None and self._chunked(request):
            body = self._read_counted(request.META["wsgi.input"], limit)
            if body is None:
                return request_too_large(request)
            size = body.seek(0, 2)
            body.seek(0)
            request.META["CONTENT_LENGTH"] = str(size)
            request._stream = LimitedStream(body, size)
            try:
                return self.get_response(request)
            finally:
                body.close()
        return self.get_response(request)

    @staticmethod
    def _chunked(request: HttpRequest) -> bool:
        encoding = request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        return (
            "chunked" in encoding
            and bool(request.META.get("wsgi.input_terminated"))
            and "wsgi.input" in request.META
        )

    @staticmethod
    def _read_counted(stream, limit: int):
        """The body in a temporary file, or None once it is longer than `limit`."""
        # Closed by the caller once the request is answered.
        body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        total = 0
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return body
            total += len(chunk)
            if total > limit:
                body.close()
                return None
            body.write(chunk)
