"""Downloads from the back office: private files streamed, never a public storage URL."""

from __future__ import annotations

from django.http import FileResponse, Http404

_INLINE_SAFE_TYPES = {"application/pdf", "image/png", "image/jpeg"}


def private_file_response(*, storage, name: str, filename: str, content_type: str) -> FileResponse:
    """Stream a private file from the storage as a download (never a public storage URL)."""
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=content_type
        if content_type in _INLINE_SAFE_TYPES
        else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
