"""Decision letters (Bescheide): rendering the PDF, storing it, reading it for the citizen.

The back office decides what a letter says (its templates and services live
in `backoffice.decisions`); this module only turns given texts into the PDF/A
with the machinery of `pdf` (same stylesheet, same static-only fetcher) and
keeps the citizen's reads here, below both the citizen and the back office.
"""

from __future__ import annotations

import datetime

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .models import DecisionLetter, Submission
from .office_contact import office_contact_lines
from .pdf import STATIC_BASE, render_html_to_pdf

# History entries without a status change that the citizen sees, in their words.
CITIZEN_EVENT_LABELS = {
    "decision_letter_issued": _("Bescheid erstellt"),
    "decision_corrected": _("Berichtigter Bescheid erstellt"),
}


def decision_letter_render(
    *,
    submission: Submission,
    outcome: str,
    body: str,
    message: str,
    legal_remedy: str,
    issued_at: datetime.datetime,
    supersedes: DecisionLetter | None = None,
) -> bytes:
    """The Bescheid as a tagged PDF/A-3b, always in German (the language of the decision).

    The texts are printed as text (escaped, line breaks kept); nothing in them
    is interpreted as markup.
    """
    with translation.override("de"):
        html = render_to_string(
            "submissions/pdf/decision_letter.html",
            {
                "submission": submission,
                "language": "de",
                "gemeinde": submission.gemeinde,
                "office": submission.office,
                "office_lines": office_contact_lines(office=submission.office),
                "service_name": submission.service.name("de"),
                "submitted_at": timezone.localtime(submission.submitted_at),
                "issued_at": timezone.localtime(issued_at),
                "approved": outcome == DecisionLetter.Outcome.APPROVED,
                "body": body,
                "message": message,
                "legal_remedy": legal_remedy,
                "supersedes": supersedes,
                "supersedes_issued_at": timezone.localtime(supersedes.issued_at)
                if supersedes
                else None,
                "static_base": STATIC_BASE,
            },
        )
    return render_html_to_pdf(html)


def decision_letter_store(
    *,
    submission: Submission,
    outcome: str,
    body: str,
    message: str,
    legal_remedy: str,
    issued_by,
    correction_reason: str = "",
    supersedes: DecisionLetter | None = None,
) -> DecisionLetter:
    """Render and store a new letter; mark `supersedes` as replaced by it.

    Must run inside the caller's transaction, which holds the submission's row
    lock (the back-office services do): the letter and the superseding mark
    are then committed together with the decision they belong to.
    """
    issued_at = timezone.now()
    pdf = decision_letter_render(
        submission=submission,
        outcome=outcome,
        body=body,
        message=message,
        legal_remedy=legal_remedy,
        issued_at=issued_at,
        supersedes=supersedes,
    )
    letter = DecisionLetter(
        submission=submission,
        outcome=outcome,
        body=body,
        message=message,
        legal_remedy=legal_remedy,
        issued_at=issued_at,
        issued_by=issued_by,
        correction_reason=correction_reason,
    )
    letter.file.save("bescheid.pdf", ContentFile(pdf), save=False)
    letter.save()
    if supersedes is not None:
        supersedes.superseded_by = letter
        # A letter set aside by a reopening keeps the date it stopped being valid.
        supersedes.superseded_at = supersedes.superseded_at or issued_at
        supersedes.save(update_fields=["superseded_by", "superseded_at"])
    return letter


def decision_letters_of(*, submission: Submission) -> list[DecisionLetter]:
    """All letters of a submission, oldest first, superseded ones included (the history)."""
    return list(
        DecisionLetter.objects.filter(submission=submission)
        .select_related("superseded_by")
        .order_by("issued_at", "id")
    )


def decision_letter_for_download(*, submission: Submission, letter_id: int) -> DecisionLetter:
    """The letter `letter_id` of this submission; DecisionLetter.DoesNotExist for any other id.

    The caller has checked already that the requester may see `submission`;
    a letter of another submission is never found through it.
    """
    if submission.purged_at is not None:
        raise DecisionLetter.DoesNotExist
    letter = DecisionLetter.objects.filter(submission=submission, pk=letter_id).first()
    if letter is None or not letter.file:
        raise DecisionLetter.DoesNotExist
    return letter


def decision_letter_filename(*, letter: DecisionLetter) -> str:
    """The download's file name: reference and date, ASCII only."""
    issued = timezone.localtime(letter.issued_at)
    return f"Bescheid-{letter.submission.reference}-{issued:%Y-%m-%d}-{letter.pk}.pdf"
