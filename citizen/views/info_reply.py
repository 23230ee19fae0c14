"""The citizen answers a Rückfrage: text and files, posted from the status page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ..info_reply import InfoReplyForm, info_panel, info_reply_submit
from .common import allow_methods
from .status import granted_submission


@never_cache
@allow_methods("GET", "HEAD", "POST")
def info_reply(request: HttpRequest, reference: str) -> HttpResponse:
    """The answer form on a page of its own: where a post with a problem comes back to.

    Only for a browser session that may see the application (like its status
    page). A sent answer leads back to the status page, which confirms it.
    """
    submission = granted_submission(request, reference)
    form = InfoReplyForm(request.POST if request.method == "POST" else None)
    not_answerable = ""
    if request.method == "POST":
        outcome = info_reply_submit(
            submission=submission,
            form=form,
            request_id=request.POST.get("info_request"),
            uploads=request.FILES.getlist("files"),
            remove=request.POST.getlist("delete"),
        )
        if outcome.sent is not None:
            url = reverse("citizen:status_detail", kwargs={"reference": submission.reference})
            return redirect(f"{url}#rueckfrage")
        not_answerable = outcome.not_answerable
    submission.refresh_from_db()
    return render(
        request,
        "submissions/info_reply.html",
        {
            "submission": submission,
            "service_name": submission.service.name(request.LANGUAGE_CODE),
            "info": info_panel(submission=submission, form=form, not_answerable=not_answerable),
            "forms_with_errors": [form] if form.errors else [],
            "page_has_errors": bool(form.errors or not_answerable),
        },
        status=409 if not_answerable else 200,
    )
