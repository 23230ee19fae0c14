"""Import a FIM schema as a new draft form; export a form version as XDatenfelder 3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import FormVersion, Service
from ..services import FormVersionError, form_version_create_draft
from .codelists import codelist_read
from .export import definition_to_xdf3
from .mapping import schema_to_definition
from .report import MappingReport, ReportLine
from .xdf_read import MAX_XML_BYTES, FimImportError, schema_read

MAX_CODELISTS = 50


class FimExportError(Exception):
    """The version to export does not exist; `message` is German."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class FimImportResult:
    version: FormVersion
    report: MappingReport
    service_created: bool


def _service_slug_check(slug: Any) -> str:
    if not isinstance(slug, str) or not slug or len(slug) > 60:
        raise FimImportError(
            _("Bitte geben Sie eine Kennung der Leistung an (höchstens 60 Zeichen).")
        )
    try:
        validate_slug(slug)
    except ValidationError:
        raise FimImportError(
            _("Die Kennung „%(slug)s“ darf nur Buchstaben, Ziffern, - und _ enthalten.")
            % {"slug": slug[:60]}
        ) from None
    return slug


def fim_schema_import(
    *,
    schema: bytes,
    codelists: list[tuple[str, bytes]] | None = None,
    service_slug: str,
    user: Any = None,
) -> FimImportResult:
    """A new draft of service `service_slug` from an XDatenfelder 2.0/3.0 schema.

    `codelists` are (file name, bytes) of genericode files the schema refers to.
    The service is used if it exists, else created inactive with the schema's
    name (the editor completes its texts and responsibility, then activates it).
    One open draft per service: with a draft already open the import is refused.
    Every failure raises FimImportError with a German message; nothing is stored then.
    """
    slug = _service_slug_check(service_slug)
    codelists = codelists or []
    if len(codelists) > MAX_CODELISTS:
        raise FimImportError(
            _("Höchstens %(limit)s Codelisten je Import.") % {"limit": MAX_CODELISTS}
        )
    if sum(len(data) for _name, data in codelists) > 4 * MAX_XML_BYTES:
        raise FimImportError(_("Die Codelisten sind zusammen zu groß."))
    parsed = schema_read(schema)
    lists = [codelist_read(data, filename=name) for name, data in codelists]
    report = MappingReport()
    definition = schema_to_definition(parsed, codelists=lists, report=report)
    note = _("Import aus FIM %(id)s Version %(version)s (XDatenfelder %(xdf)s)") % {
        "id": parsed.id,
        "version": parsed.version or "—",
        "xdf": "2.0" if parsed.xdf_version == "2" else "3.0",
    }
    try:
        with transaction.atomic():
            service, created = Service.objects.get_or_create(
                slug=slug,
                defaults={
                    "name_de": parsed.label[:200] or parsed.name[:200] or slug,
                    "name_en": parsed.label[:200] or parsed.name[:200] or slug,
                    "legal_basis": parsed.legal_basis,
                    # Hidden from citizens until the editor completes and activates it.
                    "is_active": False,
                },
            )
            version = form_version_create_draft(
                service=service, user=user, definition=definition, change_note=note
            )
    except FormVersionError as exc:
        raise FimImportError(
            _("%(problem)s Bitte veröffentlichen oder löschen Sie ihn vor dem Import.")
            % {"problem": exc.message}
        ) from None
    if created:
        report.lines.insert(
            0,
            ReportLine(
                ref="",
                message=_(
                    "Neue Leistung „%(slug)s“ angelegt (noch nicht aktiv): bitte Namen, "
                    "Beschreibung und Zuständigkeit ergänzen und die Leistung aktivieren."
                )
                % {"slug": slug},
            ),
        )
    return FimImportResult(version=version, report=report, service_created=created)


def fim_export_version(
    *, service: Service, number: int | None = None, draft: bool = False
) -> FormVersion:
    """The version to export: number N, the open draft, or else the published one."""
    versions = FormVersion.objects.filter(service=service).select_related("service")
    if number is not None:
        version = versions.filter(number=number).first()
    elif draft:
        version = versions.filter(status=FormVersion.Status.DRAFT).first()
    else:
        version = (
            versions.filter(status=FormVersion.Status.PUBLISHED)
            .order_by("-published_at", "-number")
            .first()
        )
    if version is None:
        what = (
            _("Version %(n)s") % {"n": number}
            if number is not None
            else _("einen Entwurf")
            if draft
            else _("eine veröffentlichte Version")
        )
        raise FimExportError(
            _("Die Leistung „%(slug)s“ hat %(what)s nicht.") % {"slug": service.slug, "what": what}
        )
    return version


def form_version_export_fim(*, version: FormVersion) -> tuple[bytes, MappingReport]:
    """XDatenfelder 3.0.0 XML of a version, and the report of what the format cannot hold."""
    report = MappingReport()
    data = definition_to_xdf3(
        version.definition,
        service=version.service,
        version_number=version.number,
        report=report,
        now=timezone.now(),
    )
    return data, report
