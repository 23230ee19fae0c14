"""Services of the clerk's workbench: documents as ZIP, hand-over to the office's own
case software (Fachverfahren), and the Wiedervorlage (resubmission date).

Each service checks again that the acting staff member may see the case (another
office's case raises Submission.DoesNotExist, which the views turn into a 404 and
audit as a refused attempt), writes its history event where the case changes, and
its audit entry.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.models import Submission, SubmissionEvent

from .audit import audit_record
from .case_selectors import cases_for_user
from .case_zip import case_zip_members, zip_stream
from .event_labels import date_display
from .models import AuditEntry
from .texts import CaseWorkError, text_clean
from .workbench_selectors import case_documents

MAX_HANDOVER_REFERENCE = 100
MAX_RESUBMISSION_NOTE = 200
# A Wiedervorlage further ahead than this is a typing error rather than a plan.
MAX_RESUBMISSION_DAYS = 5 * 366


def _case_for(*, submission: Submission, actor, lock: bool = False) -> Submission:
    queryset = cases_for_user(user=actor).filter(pk=submission.pk)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    case = queryset.first()
    if case is None:
        # Same answer as for a case that does not exist: nothing to learn.
        raise Submission.DoesNotExist
    return case


def case_documents_zip(
    *, submission: Submission, actor, for_hand_over: bool = False, ip_address: str | None = None
) -> tuple[str, Iterator[bytes]]:
    """(file name, chunks) of the case's documents as one ZIP, audited before the first byte.

    Plain: the office PDF and every upload under its field's label. For the
    hand-over (`for_hand_over`): also the JSON export and a manifest
    (`uebergabe.json`: every file with its field and SHA-256). Raises
    Submission.DoesNotExist for a case outside the actor's offices and
    CaseWorkError for a purged case. The chunks are produced while the response
    is sent; nothing holds the whole ZIP.
    """
    case = _case_for(submission=submission, actor=actor)
    if case.purged_at is not None:
        raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
    members = case_zip_members(
        submission=case, groups=case_documents(submission=case), with_export=for_hand_over
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.HAND_OVER_EXPORT
        if for_hand_over
        else AuditEntry.Action.DOWNLOAD_ZIP,
        submission=case,
        ip_address=ip_address,
        detail=f"{len(members)} Dateien",
    )
    suffix = "fachverfahren" if for_hand_over else "unterlagen"
    return f"{case.reference}-{suffix}.zip", zip_stream(members)


def case_hand_over_mark(
    *, submission: Submission, actor, reference: object, ip_address: str | None = None
) -> Submission:
    """Record that the office took the case into its Fachverfahren, under `reference`.

    Sets `handed_over_at` and `handed_over_reference`; may be repeated to
    correct the reference (each time a history event `handed_over` and an audit
    entry). The status does not change. Raises CaseWorkError for an empty or
    too long reference or a purged case, Submission.DoesNotExist for another
    office's case.
    """
    text = text_clean(reference if isinstance(reference, str) else None)
    if not isinstance(reference, str):
        raise CaseWorkError(_("Ungültige Eingabe."))
    text = " ".join(text.split())
    if not text:
        raise CaseWorkError(_("Bitte geben Sie das Aktenzeichen im Fachverfahren an."))
    if len(text) > MAX_HANDOVER_REFERENCE:
        raise CaseWorkError(
            _("Das Aktenzeichen ist zu lang (höchstens %(max)d Zeichen).")
            % {"max": MAX_HANDOVER_REFERENCE}
        )
    with transaction.atomic():
        case = _case_for(submission=submission, actor=actor, lock=True)
        if case.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        previous = case.handed_over_reference
        case.handed_over_at = timezone.now()
        case.handed_over_reference = text
        case.save(update_fields=["handed_over_at", "handed_over_reference"])
        SubmissionEvent.objects.create(
            submission=case, kind="handed_over", comment=text, visible_to_citizen=False, actor=actor
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.HAND_OVER,
            submission=case,
            ip_address=ip_address,
            detail=f"{previous or '-'} -> {text}",
        )
    submission.refresh_from_db()
    return submission


def resubmission_date_parse(raw: object, *, today: datetime.date | None = None) -> datetime.date:
    """A Wiedervorlage date from a form ("2026-12-01", as <input type=date> sends it, or
    "01.12.2026"); CaseWorkError with a German reason for anything else."""
    if not isinstance(raw, str) or not raw.strip():
        raise CaseWorkError(_("Bitte geben Sie ein Datum für die Wiedervorlage an."))
    raw = raw.strip()[:20]
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.datetime.strptime(raw, pattern).date()
            break
        except ValueError:
            continue
    else:
        raise CaseWorkError(_("Das Datum der Wiedervorlage ist ungültig (Beispiel: 01.12.2026)."))
    today = today or timezone.localdate()
    if day < today:
        raise CaseWorkError(_("Die Wiedervorlage darf nicht in der Vergangenheit liegen."))
    if day > today + datetime.timedelta(days=MAX_RESUBMISSION_DAYS):
        raise CaseWorkError(_("Die Wiedervorlage darf höchstens fünf Jahre in der Zukunft liegen."))
    return day


def case_resubmission_set(
    *,
    submission: Submission,
    actor,
    on: datetime.date | None,
    note: object = "",
    ip_address: str | None = None,
) -> Submission:
    """Set (or with `on` None clear) the case's Wiedervorlage, with an optional short note.

    Any case, also a decided one. History event `resubmission_set` (comment
    "01.12.2026: note") or `resubmission_cleared`, and an audit entry. Raises
    CaseWorkError for a note over MAX_RESUBMISSION_NOTE characters or a purged
    case, Submission.DoesNotExist for another office's case.
    """
    note_text = " ".join(text_clean(note if isinstance(note, str) else None).split())
    if note is not None and not isinstance(note, str):
        raise CaseWorkError(_("Ungültige Eingabe."))
    if len(note_text) > MAX_RESUBMISSION_NOTE:
        raise CaseWorkError(
            _("Der Hinweis ist zu lang (höchstens %(max)d Zeichen).")
            % {"max": MAX_RESUBMISSION_NOTE}
        )
    if on is None:
        note_text = ""
    with transaction.atomic():
        case = _case_for(submission=submission, actor=actor, lock=True)
        if case.purged_at is not None:
            raise CaseWorkError(_("Die Daten dieses Antrags wurden bereits gelöscht."))
        case.resubmission_on = on
        case.resubmission_note = note_text
        case.save(update_fields=["resubmission_on", "resubmission_note"])
        if on is None:
            kind, comment = "resubmission_cleared", ""
        else:
            kind = "resubmission_set"
            comment = date_display(on) + (f": {note_text}" if note_text else "")
        SubmissionEvent.objects.create(
            submission=case, kind=kind, comment=comment, visible_to_citizen=False, actor=actor
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.RESUBMISSION,
            submission=case,
            ip_address=ip_address,
            detail=on.isoformat() if on else "-",
        )
    submission.refresh_from_db()
    return submission
