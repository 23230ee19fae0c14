"""Load Ortsteile (or former names) of Gemeinden from a CSV with the columns name and ags."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from municipalities.models import GemeindeAlias
from municipalities.services import ImportRefused, gemeinde_aliases_import


class Command(BaseCommand):
    help = "Import Ortsteile or former municipality names (idempotent; deletes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="e.g. municipalities/data/thueringen_ortsteile.csv")
        parser.add_argument(
            "--kind", choices=GemeindeAlias.Kind.values, default=GemeindeAlias.Kind.ORTSTEIL
        )

    def handle(self, *args, path: str, kind: str, **options):
        try:
            result = gemeinde_aliases_import(path=path, kind=kind)
        except ImportRefused as exc:
            raise CommandError(f"{path}: {exc}\nEs wurde nichts geändert.") from None
        self.stdout.write(f"Namen: {result.created} neu, {result.unchanged} schon bekannt.")
