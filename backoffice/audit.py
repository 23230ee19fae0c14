"""The audit trail: who did or saw what, when, on which case. Append-only.

Search terms: an Aktenzeichen (prefix) is kept as typed, since the trail keeps
references anyway; any other term (a name) is kept only as a keyed HMAC
(Django's salted_hmac over SECRET_KEY), never in clear. Whoever holds the key
can check whether a given name was searched for, nobody can read the names
from the trail.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.utils.crypto import salted_hmac

from submissions.models import Submission

from .models import AuditEntry
from .texts import text_clean

# What may be kept in clear: an Aktenzeichen or its beginning ("TH-2026-7K").
REFERENCE_TERM = re.compile(r"TH-[A-Z0-9-]{0,17}")
SEARCH_HMAC_SALT = "backoffice.audit.search"


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


def audit_search_term_digest(*, term: str) -> str:
    """The keyed HMAC of a search term (case-insensitive), as 32 hex digits."""
    return salted_hmac(SEARCH_HMAC_SALT, term.casefold(), algorithm="sha256").hexdigest()[:32]


def audit_search_record(
    *, actor, term: str, where: str, ip_address: str | None = None
) -> AuditEntry:
    """Record a search: an Aktenzeichen in clear, anything else only as its HMAC."""
    if REFERENCE_TERM.fullmatch(term.upper()):
        detail = f"{where}: Aktenzeichen {term.upper()}"
    else:
        detail = f"{where}: HMAC {audit_search_term_digest(term=term)} ({len(term)} Zeichen)"
    return audit_record(
        actor=actor, action=AuditEntry.Action.SEARCH, ip_address=ip_address, detail=detail
    )


def audit_refusal_record(
    *, actor, submission: Submission, what: str, ip_address: str | None = None
) -> AuditEntry:
    """Record that `actor` was refused (given a 404) a case outside their offices.

    The entry belongs to the case's office, so its lead sees who tried.
    """
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.REFUSED,
        submission=submission,
        ip_address=ip_address,
        detail=what[:500],
    )


def audit_login_record(
    *, action: str, username: str, user=None, ip_address: str | None = None
) -> AuditEntry:
    """Record a login, logout or failed login.

    A failed login names the account only if it exists: a mistyped password in
    the username field must not end up in the trail.
    """
    if user is None and username:
        user = get_user_model().objects.filter(username=username[:150]).first()
    return AuditEntry.objects.create(
        actor=user,
        actor_username=user.username if user is not None else "",
        action=action,
        ip_address=ip_address or None,
        detail="" if user is not None else "unbekannter Benutzername",
    )
