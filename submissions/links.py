"""Absolute links the pipeline puts into PDFs, e-mails and webhook payloads.

A module of its own so that the PDFs, the delivery channels and the pipeline
can all name the same pages without importing one another.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .references import status_link_token


def status_page_url() -> str:
    """The public status page (the citizen enters reference and secret there)."""
    try:
        path = reverse("citizen:status")
    except NoReverseMatch:
        path = "/status/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def case_admin_url(submission_id: int) -> str:
    """The case in the back office (the clerk logs in first)."""
    try:
        path = reverse("admin:submissions_submission_change", args=[submission_id])
    except NoReverseMatch:
        path = f"/admin/submissions/submission/{submission_id}/change/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def status_link_url(*, reference: str, access_secret_hash: str) -> str:
    """The citizen's personal link to the status page of this one application.

    It opens status and history only (never the answers), stops working when
    a new access code is issued, and expires some time after the decision
    (`submissions.access.submission_for_status_link`).
    """
    token = status_link_token(reference=reference, access_secret_hash=access_secret_hash)
    try:
        path = reverse("citizen:status_link", kwargs={"reference": reference, "token": token})
    except NoReverseMatch:
        path = f"/status/{reference}/{token}/"
    return f"{settings.PORTAL_BASE_URL}{path}"
