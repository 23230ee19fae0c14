"""Import a FIM XDatenfelder schema (with genericode code lists) as a new draft form."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.fim.services import fim_schema_import
from forms_catalog.fim.xdf_read import MAX_XML_BYTES, FimImportError


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_XML_BYTES:
            # Read only enough to let the importer give its size message.
            with file.open("rb") as handle:
                return handle.read(MAX_XML_BYTES + 1)
        return file.read_bytes()
    except OSError as exc:
        raise CommandError(f"Datei {path} kann nicht gelesen werden: {exc.strerror}") from exc


class Command(BaseCommand):
    help = (
        "Import an XDatenfelder 2.0/3.0 Stammdatenschema as a new draft of --service "
        "(created from the schema's name if unknown); prints the draft's id and the mapping report."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema", help="XDatenfelder schema (XML)")
        parser.add_argument("codelists", nargs="*", help="genericode code lists (XML)")
        parser.add_argument("--service", required=True, dest="service_slug")

    def handle(self, *args, schema: str, codelists: list[str], service_slug: str, **options):
        try:
            result = fim_schema_import(
                schema=_read(schema),
                codelists=[(Path(p).name, _read(p)) for p in codelists],
                service_slug=service_slug,
            )
        except FimImportError as exc:
            raise CommandError(exc.message) from exc
        version = result.version
        self.stdout.write(
            f"Entwurf {version.pk} angelegt: {version.service.slug} v{version.number}"
            + (" (neue Leistung)" if result.service_created else "")
        )
        self.stdout.write("Bericht der Übernahme:")
        self.stdout.write(result.report.as_text() or "- alles übernommen")
