"""The audit trail: who did or saw what, when, on which case. Append-only."""

from __future__ import annotations

from submissions.models import Submission

from .models import AuditEntry
from .texts import text_clean


def audit_record(
    *,
    actor,
    action: str,
    submission: Submission | None = None,
    office_id: int | None = None,
    ip_address: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail. The trail is append-only."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        submission=submission,
        reference=submission.reference if submission is not None else "",
        office_id=office_id if office_id is not None else getattr(submission, "office_id", None),
        ip_address=ip_address or None,
        detail=text_clean(detail)[:2000],
    )
