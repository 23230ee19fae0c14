"""Downloading and removing a draft's own uploads (never through a public URL)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from ..drafts import draft_for_session
from ..uploads import attachment_for_draft
from .common import allow_methods


@never_cache
@allow_methods("GET", "HEAD")
def draft_attachment_download(request: HttpRequest, draft_id, attachment_id) -> HttpResponse:
    draft = draft_for_session(request=request, draft_id=draft_id)
    if draft is None:
        raise Http404
    attachment = attachment_for_draft(draft=draft, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    # The file came from a citizen: never let a browser render it as a page.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
