"""Load the postcode → Gemeinde list (CSV with the columns plz and ags)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from municipalities.services import ImportRefused, postcodes_import


class Command(BaseCommand):
    help = "Import postcode → Gemeinde pairs (idempotent; replaces the previous list)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="e.g. municipalities/data/thueringen_plz_gemeinde.csv")

    def handle(self, *args, path: str, **options):
        try:
            result = postcodes_import(path=path)
        except ImportRefused as exc:
            raise CommandError(f"{path}: {exc} – es wurde nichts geändert.") from None
        self.stdout.write(
            f"Postleitzahlen: {result.created} neu, {result.removed} entfernt, "
            f"{result.unchanged} unverändert."
        )
