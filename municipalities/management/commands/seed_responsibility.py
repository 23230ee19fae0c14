"""Create the responsibility rules and exceptions of the seed file (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from municipalities.services import ImportRefused, responsibility_seed_file

DEFAULT_PATH = settings.BASE_DIR / "municipalities" / "data" / "responsibility.json"


class Command(BaseCommand):
    help = "Seed responsibility rules and exceptions (existing ones, also admin edits, stay)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))

    def handle(self, *args, path: str, **options):
        try:
            result = responsibility_seed_file(path=path)
        except ImportRefused as exc:
            raise CommandError(f"{path}: {exc} – es wurde nichts geändert.") from None
        self.stdout.write(
            f"Zuständigkeiten: {result.services_created} Leistungen, {result.rules_created} "
            f"Regeln, {result.exceptions_created} Ausnahmen neu angelegt."
        )
