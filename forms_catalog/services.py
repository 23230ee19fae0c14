"""Writes of the form catalogue: versions (draft -> published -> retired), catalogue files.

A published version is immutable: no service here writes its definition, and
`form_version_update_draft` refuses anything that is not a draft.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .checks import DefinitionError, definition_errors
from .models import FormVersion, Service, minimum_retention_days

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


@transaction.atomic
def form_version_create_draft(
    *,
    service: Service,
    user: Any = None,
    definition: dict[str, Any] | None = None,
    change_note: str = "",
) -> FormVersion:
    """A new draft, copied from the latest version unless `definition` is given.

    One open draft per service: a second one is refused, so that publishing
    order and version numbers stay unambiguous.
    """
    Service.objects.select_for_update().get(pk=service.pk)
    if FormVersion.objects.filter(service=service, status=FormVersion.Status.DRAFT).exists():
        raise FormVersionError("Für diese Leistung gibt es bereits einen Entwurf.")
    if definition is None:
        latest = FormVersion.objects.filter(service=service).order_by("-number").first()
        definition = (
            copy.deepcopy(latest.definition) if latest else {"schema_version": 1, "steps": []}
        )
    if not isinstance(definition, dict):
        raise FormVersionError("Die Definition muss ein JSON-Objekt sein.")
    return FormVersion.objects.create(
        service=service,
        number=_next_number(service),
        status=FormVersion.Status.DRAFT,
        definition=definition,
        checksum=definition_checksum(definition),
        change_note=change_note,
    )


@transaction.atomic
def form_version_update_draft(
    *,
    version: FormVersion,
    definition: dict[str, Any] | None = None,
    change_note: str | None = None,
    user: Any = None,
) -> FormVersion:
    """Change a draft's definition or note. Refused for published and retired versions."""
    locked = FormVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != FormVersion.Status.DRAFT:
        raise FormVersionError(
            "Nur Entwürfe können geändert werden; veröffentlichte Versionen sind unveränderlich."
        )
    if definition is not None:
        if not isinstance(definition, dict):
            raise FormVersionError("Die Definition muss ein JSON-Objekt sein.")
        locked.definition = definition
        locked.checksum = definition_checksum(definition)
    if change_note is not None:
        locked.change_note = change_note
    locked.save(update_fields=["definition", "checksum", "change_note"])
    version.definition, version.checksum = locked.definition, locked.checksum
    version.change_note = locked.change_note
    return locked


@transaction.atomic
def form_version_publish(*, version: FormVersion, user: Any = None) -> FormVersion:
    """Validate a draft completely and publish it; the previous published version retires.

    Raises FormVersionError listing every problem by JSON path. Applications
    already started stay on the version they were started on.
    """
    locked = FormVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != FormVersion.Status.DRAFT:
        raise FormVersionError("Nur ein Entwurf kann veröffentlicht werden.")
    errors = definition_errors(locked.definition)
    if errors:
        raise FormVersionError("Die Definition enthält Fehler.", errors)
    now = timezone.now()
    FormVersion.objects.filter(
        service_id=locked.service_id, status=FormVersion.Status.PUBLISHED
    ).update(status=FormVersion.Status.RETIRED)
    locked.status = FormVersion.Status.PUBLISHED
    locked.published_at = now
    locked.published_by = user if getattr(user, "pk", None) else None
    locked.checksum = definition_checksum(locked.definition)
    locked.save(update_fields=["status", "published_at", "published_by", "checksum"])
    version.status, version.published_at = locked.status, locked.published_at
    version.published_by, version.checksum = locked.published_by, locked.checksum
    return locked


@transaction.atomic
def form_version_retire(*, version: FormVersion, user: Any = None) -> FormVersion:
    """Withdraw a published version: no new applications start on it (drafts finish)."""
    locked = FormVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != FormVersion.Status.PUBLISHED:
        raise FormVersionError("Nur eine veröffentlichte Version kann zurückgezogen werden.")
    locked.status = FormVersion.Status.RETIRED
    locked.save(update_fields=["status"])
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
    form_version_publish(version=version, user=user)
    report.published.append(f"{slug} v{version.number}")
