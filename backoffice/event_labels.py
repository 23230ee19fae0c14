"""German words for what the back office shows: history events, statuses, audit entries,
staff names and local times. The one place that maps the stored codes to labels.

History kinds are written by several modules (submit, pipeline, delivery channels,
case work, withdrawal, FIT-Connect, the workbench, Rückfrage and decisions). A kind
without a label is shown by its code, so nothing written later disappears from the
history; `tests/backoffice/test_workbench.py` checks that every kind the code writes has one.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.models import Delivery, Submission

from .models import AuditEntry

EVENT_LABELS: dict[str, object] = {
    # Filing and the pipeline
    "submitted": _("Antrag eingereicht"),
    "office_resolved": _("zuständige Behörde ermittelt"),
    "pdfs_rendered": _("PDF-Dokumente erstellt"),
    "citizen_notified": _("Eingangsbestätigung versandt"),
    "pipeline_failed": _("Verarbeitung fehlgeschlagen"),
    "pipeline_retried": _("Verarbeitung neu gestartet"),
    # Case work
    "status_changed": _("Status geändert"),
    "assigned": _("Zuweisung geändert"),
    "withdrawal_office_notified": _("Behörde über die Rücknahme informiert"),
    # FIT-Connect's answer
    "fitconnect_accepted": _("vom Fachverfahren angenommen (FIT-Connect)"),
    "fitconnect_rejected": _("vom Fachverfahren zurückgewiesen (FIT-Connect)"),
    # The workbench
    "handed_over": _("an Fachverfahren übergeben"),
    "resubmission_set": _("Wiedervorlage gesetzt"),
    "resubmission_cleared": _("Wiedervorlage entfernt"),
    # Rückfrage (two-way request for information)
    "info_requested": _("Rückfrage gestellt"),
    "info_answered": _("Antwort der antragstellenden Person eingegangen"),
    "info_reminder_sent": _("Erinnerung an die Frist versandt"),
    "info_deadline_passed": _("Frist abgelaufen"),
    # Decisions
    "decision_letter_issued": _("Bescheid erstellt"),
    "case_reopened": _("Entscheidung wiedereröffnet"),
    "decision_corrected": _("Bescheid berichtigt"),
}

# Kinds written once per delivery channel: "<prefix><channel>".
CHANNEL_EVENT_LABELS: dict[str, object] = {
    "delivered_": _("zugestellt: %(channel)s"),
    "delivery_failed_": _("Zustellung fehlgeschlagen: %(channel)s"),
    "delivery_retry_": _("Zustellung neu versucht: %(channel)s"),
}


def event_label(kind: str) -> str:
    """The German label of a history event kind; the code itself for an unknown kind."""
    label = EVENT_LABELS.get(kind)
    if label is not None:
        return str(label)
    for prefix, template in CHANNEL_EVENT_LABELS.items():
        if kind.startswith(prefix):
            channel = kind[len(prefix) :]
            channel_label = dict(Delivery.Channel.choices).get(channel, channel)
            return str(template) % {"channel": channel_label}
    return kind


def status_label(status: str) -> str:
    """The German label of a submission status ("" for none, the code for an unknown one)."""
    if not status:
        return ""
    return str(dict(Submission.Status.choices).get(status, status))


def staff_name(user) -> str:
    """A staff member as people call them: full name, else the username ("–" for nobody)."""
    if user is None:
        return "–"
    return user.get_full_name() or user.username


def staff_names_by_username(usernames: set[str]) -> dict[str, str]:
    """Full names for usernames stored as text (assignment events): one query."""
    names = {}
    for username, first, last in (
        get_user_model()
        .objects.filter(username__in=[u for u in usernames if u])
        .values_list("username", "first_name", "last_name")
    ):
        names[username] = f"{first} {last}".strip() or username
    return names


def local_time_display(value: datetime.datetime | None, *, seconds: bool = False) -> str:
    """A point in time in the portal's time zone, as Germans write it: "26.11.2026, 10:15 Uhr"."""
    if value is None:
        return "–"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.strftime("%d.%m.%Y, %H:%M:%S Uhr" if seconds else "%d.%m.%Y, %H:%M Uhr")


def date_display(value: datetime.date | None) -> str:
    """A calendar day as "26.11.2026" ("–" for none)."""
    return value.strftime("%d.%m.%Y") if value is not None else "–"


def size_display(size: int | None) -> str:
    """A file size in German notation: "812 Bytes", "12,4 KB", "1,2 MB"."""
    size = size or 0
    if size < 1024:
        return f"{size} Bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}".replace(".", ",")
    return ""  # not reached


def audit_detail_display(entry: AuditEntry, *, names: dict[str, str] | None = None) -> str:
    """An audit entry's detail in German words where the services wrote codes.

    Status changes ("received -> in_progress") get the status labels, assignments
    ("erika -> -") the staff names; every other detail is shown as written.
    """
    detail = entry.detail or ""
    if entry.action == AuditEntry.Action.TRANSITION and " -> " in detail:
        before, after = detail.split(" -> ", 1)
        return f"{status_label(before) or '–'} → {status_label(after) or '–'}"
    if entry.action == AuditEntry.Action.ASSIGN and " -> " in detail:
        names = names if names is not None else staff_names_by_username(set(detail.split(" -> ")))
        before, after = detail.split(" -> ", 1)
        return (
            f"{names.get(before, before) if before != '-' else '–'} → "
            f"{names.get(after, after) if after != '-' else '–'}"
        )
    return detail
