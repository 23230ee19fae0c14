"""Reads of the citizen pages: the submission a code opens, the portal contacts."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

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


@dataclass(frozen=True)
class PortalContacts:
    """The operator's contact details as configured; an empty string means "not configured"."""

    operator_name: str
    operator_address_lines: tuple[str, ...]
    operator_email: str
    operator_phone: str
    dpo_email: str


def portal_contacts_get() -> PortalContacts:
    """The imprint/privacy contacts from the PORTAL_OPERATOR_* and PORTAL_DPO_EMAIL settings.

    The address setting separates lines with a literal "\\n" (environment files hold one
    line) or a real newline; blank lines are dropped. Values are shown escaped by the
    templates, so anything configured is displayed as text, never as markup.
    """
    raw_address = str(settings.PORTAL_OPERATOR_ADDRESS or "").replace("\\n", "\n")
    return PortalContacts(
        operator_name=str(settings.PORTAL_OPERATOR_NAME or "").strip(),
        operator_address_lines=tuple(
            line.strip() for line in raw_address.splitlines() if line.strip()
        ),
        operator_email=str(settings.PORTAL_OPERATOR_EMAIL or "").strip(),
        operator_phone=str(settings.PORTAL_OPERATOR_PHONE or "").strip(),
        dpo_email=str(settings.PORTAL_DPO_EMAIL or "").strip(),
    )
