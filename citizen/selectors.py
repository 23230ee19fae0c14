"""Reads of the citizen pages: the submission a reference and access code open."""

from __future__ import annotations

from submissions.models import Submission
from submissions.references import access_secret_hash, access_secret_matches, normalize_reference


def submission_for_citizen(*, reference: object, secret: object) -> Submission | None:
    """The submission a citizen may see with this reference and access secret, else None.

    Both inputs are untrusted (any type, any length). The answer takes the
    same work whether the reference exists or not, so its timing does not tell
    which references exist.
    """
    canonical = normalize_reference(reference)
    submission = (
        Submission.objects.filter(reference=canonical, purged_at__isnull=True).first()
        if canonical
        else None
    )
    stored = submission.access_secret_hash if submission else access_secret_hash("-")
    if not access_secret_matches(secret, stored) or submission is None:
        return None
    return submission
