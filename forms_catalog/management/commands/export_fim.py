"""Write a form version as an XDatenfelder 3.0.0 Stammdatenschema to stdout."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.fim.services import FimExportError, fim_export_version, form_version_export_fim
from forms_catalog.models import Service


class Command(BaseCommand):
    help = (
        "Export a form as XDatenfelder 3 (default: the published version; --version N or "
        "--draft); the XML goes to stdout, the report of what was not exported to stderr."
    )

    def add_base_argument(self, parser, *args, **kwargs):
        # --version selects a form version here, not the Django version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--version", type=int, dest="number")
        which.add_argument("--draft", action="store_true")

    def handle(self, *args, slug: str, number: int | None = None, draft: bool = False, **options):
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            raise CommandError(f"Keine Leistung mit der Kennung „{slug}“.")
        try:
            version = fim_export_version(service=service, number=number, draft=draft)
        except FimExportError as exc:
            raise CommandError(exc.message) from exc
        data, report = form_version_export_fim(version=version)
        self.stdout.write(data.decode("utf-8"), ending="\n")
        for line in report.lines:
            self.stderr.write(f"- {line}")
