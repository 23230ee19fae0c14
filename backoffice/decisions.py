"""Decisions on cases: approve or reject with a message, the Bescheid, reopening and correcting.

Each service re-checks the actor's office scope like `casework` does (a case
of another office is Submission.DoesNotExist, which the views answer with
404), locks the case row, and writes the history event and the audit entry in
the same transaction as the change. The status change itself goes through
`casework.case_transition`, so a decision follows the same transition rules
and notifies the citizen the same way; reopening is the one transition out of
a decision, allowed only to the office lead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.decision_letters import decision_letter_store
from submissions.models import DecisionLetter, Submission, SubmissionEvent
from submissions.tallies import tally_status_changed

from .audit import audit_record
from .case_selectors import FINAL_STATUSES, is_platform_admin, office_ids_for_user
from .casework import (
    _enqueue_notification,
    _require_case_access,
    case_transition,
    status_change_record,
)
from .models import AuditEntry, DecisionTemplate, StaffMembership, StatusNotification
from .texts import CaseWorkError, text_clean

Status = Submission.Status
Outcome = DecisionLetter.Outcome

# The statuses that are decisions; the generic status form does not offer them.
DECISION_STATUSES = frozenset({Status.APPROVED, Status.REJECTED})
# Placeholders of a template's decision text and of its Rechtsbehelfsbelehrung.
PLACEHOLDERS = ("aktenzeichen", "leistung", "name", "datum", "eingang")
LEGAL_REMEDY_PLACEHOLDERS = ("behoerde", "anschrift")
REJECTION_NEEDS_MESSAGE = _(
    "Bitte begründen Sie die Ablehnung in der Nachricht an die antragstellende Person."
)
PLACEHOLDER_PATTERN = re.compile(r"\{([A-Za-z_]+)\}")

DEFAULT_BODY = {
    Outcome.APPROVED: (
        "Sehr geehrte Damen und Herren,\n\n"
        "Ihrem Antrag „{leistung}“ vom {eingang} (Aktenzeichen {aktenzeichen}) wird stattgegeben."
    ),
    Outcome.REJECTED: (
        "Sehr geehrte Damen und Herren,\n\n"
        "Ihr Antrag „{leistung}“ vom {eingang} (Aktenzeichen {aktenzeichen}) wird abgelehnt."
    ),
}
# The Widerspruch after §§ 68 ff. VwGO: one month, at the office that decided.
DEFAULT_LEGAL_REMEDY = (
    "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben "
    "werden. Der Widerspruch ist schriftlich oder zur Niederschrift bei {behoerde}, "
    "{anschrift}, einzulegen. Die Frist ist auch gewahrt, wenn der Widerspruch innerhalb "
    "der Frist elektronisch in einer Form eingelegt wird, die die Schriftform ersetzt."
)


def placeholders_unknown(*, text: str, allowed: tuple[str, ...]) -> list[str]:
    """The placeholder names in `text` that are not in `allowed` (for validating templates)."""
    return sorted({name for name in PLACEHOLDER_PATTERN.findall(text) if name not in allowed})


def _fill(text: str, values: dict[str, str]) -> str:
    # Only known names are replaced; anything else in braces stays as written.
    # No str.format: a template must not reach attributes of the values.
    return PLACEHOLDER_PATTERN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def decision_template_for(*, submission: Submission, outcome: str) -> DecisionTemplate | None:
    """The office's own template for this service and outcome, else the statewide one, else None."""
    candidates = DecisionTemplate.objects.filter(service_id=submission.service_id, outcome=outcome)
    if submission.office_id is not None:
        own = candidates.filter(office_id=submission.office_id).first()
        if own is not None:
            return own
    return candidates.filter(office__isnull=True).first()


def _office_address(submission: Submission) -> str:
    office = submission.office
    if office is None:
        return submission.gemeinde.display_name
    place = f"{office.postcode} {office.city}".strip()
    return ", ".join(part for part in (office.street, place) if part) or office.name


@dataclass(frozen=True)
class DecisionTexts:
    """What a decision sends: the outcome, the message and the Bescheid's texts."""

    outcome: str
    message: str
    with_letter: bool
    body: str
    legal_remedy: str

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label)


def decision_texts(
    *, submission: Submission, outcome: str, message: str = "", with_letter: bool = True
) -> DecisionTexts:
    """Check a decision and compose its texts, changing nothing (the confirmation page shows them).

    Raises CaseWorkError for an unknown outcome, a rejection without a
    message, an over-long text, or a case that is not open for a decision.
    The caller has checked access (see `decision_prepare`).
    """
    if outcome not in Outcome.values:
        raise CaseWorkError(_("Bitte wählen Sie „bewilligen“ oder „ablehnen“."))
    message = text_clean(message)
    if outcome == Outcome.REJECTED and not message:
        raise CaseWorkError(REJECTION_NEEDS_MESSAGE)
    if submission.purged_at is not None:
        raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
    if submission.status in FINAL_STATUSES:
        raise CaseWorkError(_("Über diesen Antrag wurde bereits entschieden."))
    if submission.status not in (Status.IN_PROGRESS, Status.INFO_REQUESTED):
        raise CaseWorkError(
            _("Bitte setzen Sie den Antrag zuerst auf „in Bearbeitung“, bevor Sie entscheiden.")
        )
    body, legal_remedy = decision_letter_texts(submission=submission, outcome=outcome)
    return DecisionTexts(
        outcome=outcome,
        message=message,
        with_letter=bool(with_letter),
        body=body,
        legal_remedy=legal_remedy,
    )


def decision_letter_texts(*, submission: Submission, outcome: str) -> tuple[str, str]:
    """The decision text and the Rechtsbehelfsbelehrung for this case, placeholders filled."""
    template = decision_template_for(submission=submission, outcome=outcome)
    now = timezone.localtime()
    values = {
        "aktenzeichen": submission.reference,
        "leistung": submission.service.name_de,
        "name": submission.applicant_name or "",
        "datum": f"{now:%d.%m.%Y}",
        "eingang": f"{timezone.localtime(submission.submitted_at):%d.%m.%Y}",
        "behoerde": submission.office.name if submission.office else "",
        "anschrift": _office_address(submission),
    }
    if not values["behoerde"]:
        values["behoerde"] = submission.gemeinde.display_name
    body = template.body if template is not None else DEFAULT_BODY[Outcome(outcome)]
    legal_remedy = (template.legal_remedy if template is not None else "") or DEFAULT_LEGAL_REMEDY
    return _fill(body, values), _fill(legal_remedy, values)


def decision_prepare(
    *, submission: Submission, actor, outcome: str, message: str = "", with_letter: bool = True
) -> DecisionTexts:
    """`decision_texts` after the scope check: what the confirmation page shows.

    Submission.DoesNotExist for a case outside the actor's offices.
    """
    _require_case_access(submission=submission, actor=actor)
    return decision_texts(
        submission=submission, outcome=outcome, message=message, with_letter=with_letter
    )


@dataclass(frozen=True)
class DecisionResult:
    event: SubmissionEvent
    letter: DecisionLetter | None


def case_decide(
    *,
    submission: Submission,
    actor,
    outcome: str,
    message: str = "",
    with_letter: bool = True,
    ip_address: str | None = None,
) -> DecisionResult:
    """Approve or reject a case after the clerk confirmed it; optionally issue the Bescheid.

    One transaction: the status change (through `case_transition`, which
    records, audits and notifies the citizen after commit), the letter and its
    history event. Checked again under the row lock, so a second decision, a
    double submit or a decision on a case reopened meanwhile is refused with
    CaseWorkError. Submission.DoesNotExist for a case outside the actor's offices.
    """
    with transaction.atomic():
        _require_case_access(submission=submission, actor=actor)
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        texts = decision_texts(
            submission=locked, outcome=outcome, message=message, with_letter=with_letter
        )
        event = case_transition(
            submission=locked,
            to_status=texts.outcome,
            actor=actor,
            comment=texts.message,
            ip_address=ip_address,
        )
        letter = None
        if texts.with_letter:
            # After a reopening, the letter of the undone decision is replaced by this one.
            undone = (
                DecisionLetter.objects.filter(submission=locked, superseded_by__isnull=True)
                .order_by("-issued_at", "-id")
                .first()
            )
            letter = _letter_issue(
                submission=locked,
                texts=texts,
                actor=actor,
                ip_address=ip_address,
                notify=False,  # the status e-mail of the decision goes out already
                kind="decision_letter_issued",
                supersedes=undone,
            )
    submission.refresh_from_db()
    return DecisionResult(event=event, letter=letter)


def _letter_issue(
    *,
    submission: Submission,
    texts: DecisionTexts,
    actor,
    ip_address: str | None,
    notify: bool,
    kind: str,
    supersedes: DecisionLetter | None = None,
    reason: str = "",
) -> DecisionLetter:
    letter = decision_letter_store(
        submission=submission,
        outcome=texts.outcome,
        body=texts.body,
        message=texts.message,
        legal_remedy=texts.legal_remedy,
        issued_by=actor,
        correction_reason=reason,
        supersedes=supersedes,
    )
    event = SubmissionEvent.objects.create(
        submission=submission,
        kind=kind,
        comment=reason,
        visible_to_citizen=True,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CORRECT_DECISION
        if kind == "decision_corrected"
        else AuditEntry.Action.ISSUE_DECISION_LETTER,
        submission=submission,
        ip_address=ip_address,
        detail=f"letter {letter.pk}"
        + (f" replaces {supersedes.pk}" if supersedes is not None else "")
        + (f": {reason}" if reason else ""),
    )
    if notify and submission.applicant_email:
        notification = StatusNotification.objects.create(
            event=event, recipient=submission.applicant_email
        )
        _enqueue_notification(notification.pk, reference=submission.reference, on_commit=True)
    return letter


def _current_letter(submission: Submission) -> DecisionLetter | None:
    # Replaced letters and those of a decision undone by reopening have superseded_at.
    return (
        DecisionLetter.objects.filter(submission=submission, superseded_at__isnull=True)
        .order_by("-issued_at", "-id")
        .first()
    )


def decision_letter_issue(
    *, submission: Submission, actor, ip_address: str | None = None
) -> DecisionLetter:
    """Issue the Bescheid of a case decided without one, and tell the citizen.

    Refused (CaseWorkError) for an undecided case and for one that has a
    current letter already (a change to it is a correction, for the lead).
    """
    with transaction.atomic():
        _require_case_access(submission=submission, actor=actor)
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        if locked.status not in DECISION_STATUSES:
            raise CaseWorkError(_("Ein Bescheid kann erst nach der Entscheidung erstellt werden."))
        if _current_letter(locked) is not None:
            raise CaseWorkError(
                _(
                    "Für diesen Antrag gibt es bereits einen Bescheid. "
                    "Ändern kann ihn die Amtsleitung."
                )
            )
        decided = (
            locked.events.filter(kind="status_changed", to_status=locked.status)
            .order_by("-created_at", "-id")
            .first()
        )
        body, legal_remedy = decision_letter_texts(submission=locked, outcome=locked.status)
        texts = DecisionTexts(
            outcome=locked.status,
            message=decided.comment if decided else "",
            with_letter=True,
            body=body,
            legal_remedy=legal_remedy,
        )
        letter = _letter_issue(
            submission=locked,
            texts=texts,
            actor=actor,
            ip_address=ip_address,
            notify=True,
            kind="decision_letter_issued",
        )
    submission.refresh_from_db()
    return letter


def can_reopen(*, user, submission: Submission) -> bool:
    """Reopening and correcting decisions is the office lead's (and platform administrators')."""
    if is_platform_admin(user=user):
        return True
    return submission.office_id in office_ids_for_user(
        user=user, roles=(StaffMembership.Role.LEAD,)
    )


def _require_lead(*, submission: Submission, actor) -> None:
    _require_case_access(submission=submission, actor=actor)
    if not can_reopen(user=actor, submission=submission):
        raise CaseWorkError(
            _("Nur die Amtsleitung kann eine Entscheidung wieder aufnehmen oder berichtigen.")
        )


def _reason_clean(reason: str) -> str:
    reason = text_clean(reason)
    if not reason:
        raise CaseWorkError(_("Bitte geben Sie einen Grund an."))
    return reason


def case_reopen(
    *, submission: Submission, actor, reason: str, ip_address: str | None = None
) -> SubmissionEvent:
    """The lead takes a decided case back to "in Bearbeitung", with a reason the citizen reads.

    The earlier Bescheid stays in the history, marked as replaced once a new
    decision issues another. CaseWorkError for a clerk, a missing reason or a
    case that is not decided (approved or rejected); Submission.DoesNotExist
    outside the actor's offices.
    """
    with transaction.atomic():
        _require_lead(submission=submission, actor=actor)
        reason = _reason_clean(reason)
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        if locked.status not in DECISION_STATUSES:
            raise CaseWorkError(
                _("Nur ein bewilligter oder abgelehnter Antrag kann wieder aufgenommen werden.")
            )
        from_status = locked.status
        undone_decided_at = locked.decided_at
        locked.status = Status.IN_PROGRESS
        locked.decided_at = None
        locked.save(update_fields=["status", "decided_at"])
        tally_status_changed(
            submission=locked,
            from_status=from_status,
            to_status=Status.IN_PROGRESS,
            undone_decided_at=undone_decided_at,
        )
        # The letter of the undone decision no longer stands on its own.
        DecisionLetter.objects.filter(submission=locked, superseded_at__isnull=True).update(
            superseded_at=timezone.now()
        )
        event = status_change_record(
            locked=locked,
            kind="case_reopened",
            from_status=from_status,
            to_status=Status.IN_PROGRESS,
            comment=reason,
            actor=actor,
            action=AuditEntry.Action.REOPEN,
            detail=f"{from_status} -> {Status.IN_PROGRESS}: {reason}",
            ip_address=ip_address,
        )
    submission.refresh_from_db()
    return event


def decision_correct(
    *,
    submission: Submission,
    actor,
    reason: str,
    body: str,
    message: str | None = None,
    ip_address: str | None = None,
) -> DecisionLetter:
    """The lead issues a corrected Bescheid that replaces the current one; the decision stands.

    `body` is the corrected decision text, `message` the corrected reasons
    (None keeps the earlier ones). The earlier letter stays, marked replaced.
    To change the outcome itself, reopen the case and decide again.
    CaseWorkError for a clerk, a missing reason or text, or a case without a
    current Bescheid; Submission.DoesNotExist outside the actor's offices.
    """
    with transaction.atomic():
        _require_lead(submission=submission, actor=actor)
        reason = _reason_clean(reason)
        body = text_clean(body)
        if not body:
            raise CaseWorkError(_("Bitte geben Sie den berichtigten Entscheidungstext an."))
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        current = _current_letter(locked)
        if locked.status not in DECISION_STATUSES or current is None:
            raise CaseWorkError(_("Es gibt keinen gültigen Bescheid, der berichtigt werden kann."))
        if message is None:
            message = current.message
        message = text_clean(message)
        if current.outcome == Outcome.REJECTED and not message:
            raise CaseWorkError(REJECTION_NEEDS_MESSAGE)
        texts = DecisionTexts(
            outcome=current.outcome,
            message=message,
            with_letter=True,
            body=body,
            legal_remedy=current.legal_remedy,
        )
        letter = _letter_issue(
            submission=locked,
            texts=texts,
            actor=actor,
            ip_address=ip_address,
            notify=True,
            kind="decision_corrected",
            supersedes=current,
            reason=reason,
        )
    submission.refresh_from_db()
    return letter
