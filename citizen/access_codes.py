"""Access codes of submissions after submitting: replacing a code the citizen never saw."""

from __future__ import annotations

from submissions.models import Submission
from submissions.references import access_secret_generate, access_secret_hash


def submission_access_code_replace(*, submission_id: int) -> str | None:
    """Give the submission a new access code and return it; the old one stops working.

    Only for a code that was never shown: the response that carried it to the
    confirmation page was lost (a double click cancels it in the browser).
    Of concurrent calls one wins; the others return None. None also for a
    purged or unknown submission.
    """
    current = (
        Submission.objects.filter(pk=submission_id, purged_at__isnull=True)
        .values_list("access_secret_hash", flat=True)
        .first()
    )
    if current is None:
        return None
    secret = access_secret_generate()
    replaced = Submission.objects.filter(pk=submission_id, access_secret_hash=current).update(
        access_secret_hash=access_secret_hash(secret)
    )
    return secret if replaced else None
