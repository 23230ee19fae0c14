"""Load the catalogue files (forms_catalog/catalogue/*.json). Idempotent."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.services import catalogue_load


class Command(BaseCommand):
    help = (
        "Create/update services from catalogue files; publish a new form version only "
        "when a definition changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", help="a catalogue folder or a single .json file")

    def handle(self, *args, path: str | None = None, **options):
        report = catalogue_load(path=Path(path) if path else None)
        for entry in report.published:
            self.stdout.write(f"published {entry}")
        if report.unchanged:
            self.stdout.write(f"unchanged: {', '.join(report.unchanged)}")
        for name, problems in report.failed.items():
            self.stderr.write(f"{name}:")
            for problem in problems:
                self.stderr.write(f"  {problem}")
        if report.failed:
            raise CommandError(f"{len(report.failed)} catalogue file(s) refused")
