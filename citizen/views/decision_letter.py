"""The citizen downloads their Bescheid from the status page, after its access check."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from submissions.decision_letters import decision_letter_filename, decision_letter_for_download
from submissions.models import DecisionLetter

from .common import allow_methods
from .status import granted_submission


@allow_methods("GET", "HEAD")
def decision_letter(request: HttpRequest, reference: str, letter_id: int) -> HttpResponse:
    """One letter of an application this browser session may see; 404 for any other id."""
    submission = granted_submission(request, reference)
    try:
        letter = decision_letter_for_download(submission=submission, letter_id=letter_id)
        handle = letter.file.open("rb")
    except (DecisionLetter.DoesNotExist, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=decision_letter_filename(letter=letter),
        content_type="application/pdf",
    )
    # Personal data: neither a shared cache nor the browser's may keep it.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
