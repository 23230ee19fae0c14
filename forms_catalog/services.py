"""Writes of the form catalogue: versions and their review, catalogue files.

Life cycle: draft -> in review -> approved by a second editor (-> scheduled)
-> published -> retired, with "back to draft" (a reason required) from review,
approved and scheduled. Every step checks the editor permission and records a
FormVersionEvent. A published version is immutable: only a draft's definition
can change. The shipped catalogue files are published directly as a system
action (`form_version_publish_system`), without review.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .checks import DefinitionError, definition_errors
from .models import (
    EDITOR_PERMISSION,
    FormVersion,
    FormVersionEvent,
    Service,
    minimum_retention_days,
)

NOTE_MAX_LENGTH = 2000
CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
EXPORT_FORMAT = "thueringen-portal/form-version@1"
SERVICE_FIELDS = (
    "leistungsschluessel",
    "name_de",
    "name_en",
    "summary_de",
    "summary_en",
    "legal_basis",
    "requirements_de",
    "requirements_en",
    "fee_note_de",
    "fee_note_en",
    "processing_time_de",
    "processing_time_en",
    "retention_days",
    "sort_order",
)


class FormVersionError(Exception):
    """A refused change to a form version; `errors` lists definition problems by path."""

    def __init__(self, message: str, errors: list[DefinitionError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        return self.message + "\n" + "\n".join(f"  {e}" for e in self.errors)


def retention_days_errors(value: Any) -> list[str]:
    """Problems with a file's `retention_days`: whole days, at least the platform minimum."""
    minimum = minimum_retention_days()
    if isinstance(value, bool) or not isinstance(value, int):
        return ["service.retention_days: must be a whole number of days"]
    if value < minimum:
        return [f"service.retention_days: {value} is below the platform minimum of {minimum} days"]
    return []


def definition_checksum(definition: Any) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _next_number(service: Service) -> int:
    current = FormVersion.objects.filter(service=service).aggregate(n=Max("number"))["n"]
    return (current or 0) + 1


def _is_editor(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_active", False)
        and getattr(user, "pk", None)
        and user.has_perm(EDITOR_PERMISSION)
    )


def _require_editor(user: Any) -> None:
    if not _is_editor(user):
        raise FormVersionError(
            "Nur Mitglieder des Kompetenzzentrums dürfen Formularversionen bearbeiten, "
            "prüfen und veröffentlichen."
        )


def _required_note(note: Any, what: str) -> str:
    text = note.strip() if isinstance(note, str) else ""
    if not text:
        raise FormVersionError(f"Bitte geben Sie {what} an.")
    if len(text) > NOTE_MAX_LENGTH:
        raise FormVersionError(f"Der Text ist zu lang (höchstens {NOTE_MAX_LENGTH} Zeichen).")
    return text


def _record(
    *, version: FormVersion, action: str, actor: Any = None, note: str = ""
) -> FormVersionEvent:
    return FormVersionEvent.objects.create(
        version=version,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note,
        checksum=version.checksum or definition_checksum(version.definition),
    )


def _lock(version: FormVersion) -> FormVersion:
    """Lock the service row, then the version row: every writer takes them in this order,
    so two publishes of one service never interleave (nor deadlock)."""
    Service.objects.select_for_update().get(pk=version.service_id)
    return FormVersion.objects.select_for_update().get(pk=version.pk)


def _copy_back(version: FormVersion, locked: FormVersion) -> None:
    """Let the caller's object show what the service wrote."""
    for name in (
        "status",
        "definition",
        "checksum",
        "change_note",
        "published_at",
        "published_by_id",
        "approved_by_id",
        "approved_at",
        "publish_at",
    ):
        setattr(version, name, getattr(locked, name))


def _definition_errors_or_raise(definition: Any) -> None:
    errors = definition_errors(definition)
    if errors:
        raise FormVersionError("Die Definition enthält Fehler.", errors)


@transaction.atomic
def form_version_create_draft(
    *,
    service: Service,
    user: Any = None,
    definition: dict[str, Any] | None = None,
    change_note: str = "",
) -> FormVersion:
    """A new draft, copied from the latest version unless `definition` is given.

    One open version (draft, in review, approved or scheduled) per service: a
    second one is refused, so that publishing order and version numbers stay
    unambiguous. `user=None` is a system action (imports, scripts); a given
    user must be an editor and becomes the author.
    """
    if user is not None:
        _require_editor(user)
    Service.objects.select_for_update().get(pk=service.pk)
    if FormVersion.objects.filter(service=service, status__in=FormVersion.OPEN_STATUSES).exists():
        raise FormVersionError(
            "Für diese Leistung gibt es bereits einen Entwurf (oder eine Version in Prüfung)."
        )
    if definition is None:
        latest = FormVersion.objects.filter(service=service).order_by("-number").first()
        definition = (
            copy.deepcopy(latest.definition) if latest else {"schema_version": 1, "steps": []}
        )
    if not isinstance(definition, dict):
        raise FormVersionError("Die Definition muss ein JSON-Objekt sein.")
    version = FormVersion.objects.create(
        service=service,
        number=_next_number(service),
        status=FormVersion.Status.DRAFT,
        definition=definition,
        checksum=definition_checksum(definition),
        change_note=change_note,
        author=user if getattr(user, "pk", None) else None,
    )
    _record(version=version, action=FormVersionEvent.Action.CREATED, actor=user, note=change_note)
    return version


@transaction.atomic
def form_version_update_draft(
    *,
    version: FormVersion,
    definition: dict[str, Any] | None = None,
    change_note: str | None = None,
    user: Any = None,
) -> FormVersion:
    """Change a draft's definition or note. Refused for every other status.

    A version in review, approved or scheduled must first go back to draft
    (`form_version_request_changes`): what a reviewer approved is exactly what
    gets published. Whoever edits counts as an author for the four-eyes rule.
    """
    if user is not None:
        _require_editor(user)
    locked = _lock(version)
    if locked.status in (
        FormVersion.Status.IN_REVIEW,
        FormVersion.Status.APPROVED,
        FormVersion.Status.SCHEDULED,
    ):
        raise FormVersionError(
            "Diese Version ist zur Prüfung gegeben oder freigegeben und kann nicht geändert "
            "werden. Geben Sie sie zuerst zur Überarbeitung zurück."
        )
    if locked.status != FormVersion.Status.DRAFT:
        raise FormVersionError(
            "Nur Entwürfe können geändert werden; veröffentlichte Versionen sind unveränderlich."
        )
    changed = False
    if definition is not None:
        if not isinstance(definition, dict):
            raise FormVersionError("Die Definition muss ein JSON-Objekt sein.")
        changed = definition_checksum(definition) != locked.checksum
        locked.definition = definition
        locked.checksum = definition_checksum(definition)
    if change_note is not None:
        changed = changed or change_note != locked.change_note
        locked.change_note = change_note
    locked.save(update_fields=["definition", "checksum", "change_note"])
    if changed:
        _record(version=locked, action=FormVersionEvent.Action.EDITED, actor=user)
    _copy_back(version, locked)
    return locked


def form_version_contributors(*, version: FormVersion) -> set[int]:
    """Ids of the users who created, edited or submitted this version: none of them may
    approve it (four eyes)."""
    ids = set(
        FormVersionEvent.objects.filter(
            version_id=version.pk,
            action__in=[
                FormVersionEvent.Action.CREATED,
                FormVersionEvent.Action.EDITED,
                FormVersionEvent.Action.SUBMITTED,
            ],
            actor__isnull=False,
        ).values_list("actor_id", flat=True)
    )
    if version.author_id:
        ids.add(version.author_id)
    return ids


@transaction.atomic
def form_version_submit_for_review(*, version: FormVersion, user: Any, note: str) -> FormVersion:
    """Draft -> in review ("zur Prüfung"). The change note is required and must describe
    the change for the reviewer; the definition must be free of errors."""
    _require_editor(user)
    text = _required_note(note, "einen Änderungshinweis")
    locked = _lock(version)
    if locked.status != FormVersion.Status.DRAFT:
        raise FormVersionError("Nur ein Entwurf kann zur Prüfung gegeben werden.")
    _definition_errors_or_raise(locked.definition)
    locked.status = FormVersion.Status.IN_REVIEW
    locked.change_note = text
    locked.checksum = definition_checksum(locked.definition)
    locked.save(update_fields=["status", "change_note", "checksum"])
    _record(version=locked, action=FormVersionEvent.Action.SUBMITTED, actor=user, note=text)
    _copy_back(version, locked)
    return locked


@transaction.atomic
def form_version_request_changes(*, version: FormVersion, user: Any, reason: str) -> FormVersion:
    """In review, approved or scheduled -> back to draft, with a reason (the reviewer asks
    for changes, or the author withdraws it). A scheduled publication is cancelled."""
    _require_editor(user)
    text = _required_note(reason, "einen Grund")
    locked = _lock(version)
    if locked.status not in (
        FormVersion.Status.IN_REVIEW,
        FormVersion.Status.APPROVED,
        FormVersion.Status.SCHEDULED,
    ):
        raise FormVersionError(
            "Nur eine Version in Prüfung, freigegeben oder geplant kann zurückgegeben werden."
        )
    locked.status = FormVersion.Status.DRAFT
    locked.approved_by, locked.approved_at, locked.publish_at = None, None, None
    locked.save(update_fields=["status", "approved_by", "approved_at", "publish_at"])
    _record(version=locked, action=FormVersionEvent.Action.CHANGES_REQUESTED, actor=user, note=text)
    _copy_back(version, locked)
    return locked


def _schedule_locked(locked: FormVersion, *, user: Any, publish_at: datetime.datetime) -> None:
    if not isinstance(publish_at, datetime.datetime) or timezone.is_naive(publish_at):
        raise FormVersionError("Bitte geben Sie Datum und Uhrzeit der Veröffentlichung an.")
    if publish_at <= timezone.now():
        raise FormVersionError(
            "Der Zeitpunkt der Veröffentlichung liegt in der Vergangenheit. "
            "Bitte wählen Sie einen späteren Zeitpunkt oder veröffentlichen Sie sofort."
        )
    locked.status = FormVersion.Status.SCHEDULED
    locked.publish_at = publish_at
    locked.save(update_fields=["status", "publish_at"])
    shown = timezone.localtime(publish_at).strftime("%d.%m.%Y %H:%M")
    _record(version=locked, action=FormVersionEvent.Action.SCHEDULED, actor=user, note=shown)


@transaction.atomic
def form_version_approve(
    *,
    version: FormVersion,
    user: Any,
    checksum: str,
    note: str,
    publish_at: datetime.datetime | None = None,
) -> FormVersion:
    """In review -> approved (and scheduled, if `publish_at` is given), by a second editor.

    Four eyes: whoever created, edited or submitted the version is refused.
    `checksum` is the definition the reviewer saw (on the review page): if the
    version changed since, the approval is refused rather than approving
    something nobody looked at.
    """
    _require_editor(user)
    text = _required_note(note, "eine Notiz zur Freigabe")
    locked = _lock(version)
    if locked.status != FormVersion.Status.IN_REVIEW:
        raise FormVersionError("Nur eine Version in Prüfung kann freigegeben werden.")
    if user.pk in form_version_contributors(version=locked):
        raise FormVersionError(
            "Sie haben an dieser Version mitgearbeitet. Freigeben muss ein anderes Mitglied "
            "des Kompetenzzentrums (Vier-Augen-Prinzip)."
        )
    current = definition_checksum(locked.definition)
    if not isinstance(checksum, str) or checksum != current or locked.checksum != current:
        raise FormVersionError(
            "Die Version wurde geändert, seit Sie sie geöffnet haben. "
            "Bitte prüfen Sie die aktuelle Fassung."
        )
    _definition_errors_or_raise(locked.definition)
    locked.status = FormVersion.Status.APPROVED
    locked.approved_by = user
    locked.approved_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "approved_at"])
    _record(version=locked, action=FormVersionEvent.Action.APPROVED, actor=user, note=text)
    if publish_at is not None:
        _schedule_locked(locked, user=user, publish_at=publish_at)
    _copy_back(version, locked)
    return locked


@transaction.atomic
def form_version_schedule(
    *, version: FormVersion, user: Any, publish_at: datetime.datetime
) -> FormVersion:
    """Approved (or already scheduled) -> scheduled for `publish_at`, which must lie in the
    future; `publish_due_form_versions` publishes it then."""
    _require_editor(user)
    locked = _lock(version)
    if locked.status not in (FormVersion.Status.APPROVED, FormVersion.Status.SCHEDULED):
        raise FormVersionError("Nur eine freigegebene Version kann geplant werden.")
    _schedule_locked(locked, user=user, publish_at=publish_at)
    _copy_back(version, locked)
    return locked


def _publish_locked(locked: FormVersion, *, actor: Any, note: str) -> None:
    now = timezone.now()
    FormVersion.objects.filter(
        service_id=locked.service_id, status=FormVersion.Status.PUBLISHED
    ).update(status=FormVersion.Status.RETIRED)
    locked.status = FormVersion.Status.PUBLISHED
    locked.published_at = now
    locked.published_by = actor if getattr(actor, "pk", None) else None
    locked.publish_at = None
    locked.checksum = definition_checksum(locked.definition)
    locked.save(update_fields=["status", "published_at", "published_by", "publish_at", "checksum"])
    _record(version=locked, action=FormVersionEvent.Action.PUBLISHED, actor=actor, note=note)


@transaction.atomic
def form_version_publish(*, version: FormVersion, user: Any) -> FormVersion:
    """Publish an approved (or scheduled) version now; the previous published version
    retires. Applications already started stay on the version they were started on.

    Refused for drafts and versions in review (four eyes) and for a version
    already published, so a double click or two editors at once publish once.
    """
    _require_editor(user)
    locked = _lock(version)
    if locked.status == FormVersion.Status.PUBLISHED:
        raise FormVersionError("Diese Version ist bereits veröffentlicht.")
    if locked.status not in (FormVersion.Status.APPROVED, FormVersion.Status.SCHEDULED):
        raise FormVersionError(
            "Nur eine von einem zweiten Mitglied des Kompetenzzentrums freigegebene Version "
            "kann veröffentlicht werden."
        )
    _definition_errors_or_raise(locked.definition)
    _publish_locked(locked, actor=user, note="")
    _copy_back(version, locked)
    return locked


@transaction.atomic
def form_version_publish_system(*, version: FormVersion, note: str = "") -> FormVersion:
    """Publish an open version directly, without review: a system action for the shipped
    catalogue files (`catalogue_load`, bootstrap) only, never for editors' drafts.

    Raises FormVersionError listing every problem by JSON path.
    """
    locked = _lock(version)
    if locked.status not in FormVersion.OPEN_STATUSES:
        raise FormVersionError("Nur ein Entwurf kann veröffentlicht werden.")
    _definition_errors_or_raise(locked.definition)
    _publish_locked(locked, actor=None, note=note)
    _copy_back(version, locked)
    return locked


def form_version_publish_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Publish every scheduled version whose time has come; returns their ids. Idempotent.

    Each version in its own transaction; `SKIP LOCKED` lets two beat runs (or a
    run and an editor's "publish now") share the work without waiting, and the
    status re-check under the lock publishes each version once. A version whose
    definition no longer passes the checks (e.g. a field type was removed in a
    deploy since the approval) goes back to draft with the errors as reason.
    """
    published: list[int] = []
    skipped: set[int] = set()
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            candidate = (
                FormVersion.objects.select_for_update(skip_locked=True)
                .filter(status=FormVersion.Status.SCHEDULED, publish_at__lte=moment)
                .exclude(pk__in=skipped)
                .order_by("publish_at", "pk")
                .first()
            )
            if candidate is None:
                return published
        # Lock in the usual order (service, then version) and look again.
        with transaction.atomic():
            Service.objects.select_for_update().get(pk=candidate.service_id)
            locked = (
                FormVersion.objects.select_for_update(skip_locked=True)
                .filter(
                    pk=candidate.pk, status=FormVersion.Status.SCHEDULED, publish_at__lte=moment
                )
                .first()
            )
            if locked is None:
                skipped.add(candidate.pk)
                continue
            errors = definition_errors(locked.definition)
            if errors:
                locked.status = FormVersion.Status.DRAFT
                locked.approved_by, locked.approved_at, locked.publish_at = None, None, None
                locked.save(update_fields=["status", "approved_by", "approved_at", "publish_at"])
                reason = "Geplante Veröffentlichung abgebrochen, die Definition enthält Fehler:\n"
                _record(
                    version=locked,
                    action=FormVersionEvent.Action.CHANGES_REQUESTED,
                    note=reason + "\n".join(str(e) for e in errors[:50]),
                )
                continue
            _publish_locked(locked, actor=None, note="Geplante Veröffentlichung")
            published.append(locked.pk)


@transaction.atomic
def form_version_retire(*, version: FormVersion, user: Any = None) -> FormVersion:
    """Withdraw a published version: no new applications start on it (drafts finish)."""
    if user is not None:
        _require_editor(user)
    locked = _lock(version)
    if locked.status != FormVersion.Status.PUBLISHED:
        raise FormVersionError("Nur eine veröffentlichte Version kann zurückgezogen werden.")
    locked.status = FormVersion.Status.RETIRED
    locked.save(update_fields=["status"])
    _record(version=locked, action=FormVersionEvent.Action.RETIRED, actor=user)
    version.status = locked.status
    return locked


# --- Export / import of a single version as one JSON file ----------------------
def form_version_export(*, version: FormVersion) -> dict[str, Any]:
    service = version.service
    return {
        "format": EXPORT_FORMAT,
        "service": {"slug": service.slug, **{f: getattr(service, f) for f in SERVICE_FIELDS}},
        "version": {
            "number": version.number,
            "status": version.status,
            "change_note": version.change_note,
            "checksum": version.checksum or definition_checksum(version.definition),
            "published_at": version.published_at.isoformat() if version.published_at else None,
        },
        "definition": version.definition,
    }


@transaction.atomic
def form_version_import(*, data: Any, user: Any = None) -> FormVersion:
    """Create a draft from an exported file (the service is created if unknown)."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise FormVersionError(f"Keine Formular-Exportdatei (format muss {EXPORT_FORMAT} sein).")
    service_data = data.get("service") or {}
    definition = data.get("definition")
    errors = definition_errors(definition, render=False)
    if errors:
        raise FormVersionError("Die Definition enthält Fehler.", errors)
    slug = service_data.get("slug")
    if not isinstance(slug, str) or not slug:
        raise FormVersionError("Die Datei nennt keine Leistung (service.slug).")
    if "retention_days" in service_data:
        problems = retention_days_errors(service_data["retention_days"])
        if problems:
            raise FormVersionError("; ".join(problems))
    service, _created = Service.objects.get_or_create(
        slug=slug,
        defaults={f: service_data[f] for f in SERVICE_FIELDS if f in service_data},
    )
    note = (data.get("version") or {}).get("change_note", "")
    return form_version_create_draft(
        service=service, user=user, definition=definition, change_note=f"Import: {note}"[:2000]
    )


# --- Catalogue files ------------------------------------------------------------
@dataclass
class CatalogueReport:
    created_services: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # "slug vN"
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)


def catalogue_file_errors(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["(root): must be an object"]
    problems = []
    service = data.get("service")
    if not isinstance(service, dict) or not service.get("slug") or not service.get("name_de"):
        problems.append("service: needs slug, name_de and name_en")
    elif "retention_days" in service:
        problems += retention_days_errors(service["retention_days"])
    problems += [
        f"definition.{e}" if e.path else f"definition: {e.message}"
        for e in definition_errors(data.get("definition"))
    ]
    return problems


def catalogue_load(*, path: Path | None = None, user: Any = None) -> CatalogueReport:
    """Load every `*.json` catalogue file. Idempotent.

    Service metadata is updated by slug; a new version is published only when
    the definition's checksum differs from the published one. A broken file is
    reported and changes nothing; the other files still load.
    """
    report = CatalogueReport()
    folder = Path(path) if path else CATALOGUE_DIR
    files = [folder] if folder.is_file() else sorted(folder.glob("*.json"))
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            report.failed[file.name] = [f"cannot read: {exc}"]
            continue
        problems = catalogue_file_errors(data)
        if problems:
            report.failed[file.name] = problems
            continue
        _load_one(data, report, user)
    return report


@transaction.atomic
def _load_one(data: dict[str, Any], report: CatalogueReport, user: Any) -> None:
    meta = data["service"]
    slug = meta["slug"]
    defaults = {f: meta[f] for f in SERVICE_FIELDS if f in meta}
    service, created = Service.objects.update_or_create(slug=slug, defaults=defaults)
    if created:
        report.created_services.append(slug)
    definition = data["definition"]
    checksum = definition_checksum(definition)
    current = (
        FormVersion.objects.filter(service=service, status=FormVersion.Status.PUBLISHED)
        .order_by("-published_at", "-number")
        .first()
    )
    if current and current.checksum == checksum:
        report.unchanged.append(slug)
        return
    version = FormVersion.objects.create(
        service=service,
        number=_next_number(service),
        status=FormVersion.Status.DRAFT,
        definition=definition,
        checksum=checksum,
        change_note=data.get("change_note", "Aus Katalogdatei geladen"),
    )
    form_version_publish_system(version=version, note="Katalogdatei")
    report.published.append(f"{slug} v{version.number}")
