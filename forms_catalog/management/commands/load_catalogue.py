"""Load the catalogue files (forms_catalog/catalogue/*.json and the block library in
catalogue/blocks/*.json, blocks first). Idempotent."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.block_services import block_catalogue_load
from forms_catalog.services import catalogue_load


class Command(BaseCommand):
    help = (
        "Create/update services from catalogue files; publish a new form version only "
        "when a definition changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", help="a catalogue folder or a single .json file")

    def handle(self, *args, path: str | None = None, **options):
        # The block library of the catalogue folder (none for a single file): blocks first,
        # so the forms that use a block change (as new drafts) in the same run.
        folder = Path(path) if path else None
        if folder is None or folder.is_dir():
            self._load_blocks(folder / "blocks" if folder else None)
        report = catalogue_load(path=folder)
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

    def _load_blocks(self, folder: Path | None) -> None:
        blocks = block_catalogue_load(path=folder)
        for entry in blocks.published:
            self.stdout.write(f"published block {entry}")
        for version in blocks.forms.drafts_created:
            self.stdout.write(f"new draft {version.service.slug} v{version.number}")
        for name, problems in blocks.failed.items():
            self.stderr.write(f"{name}:")
            for problem in problems:
                self.stderr.write(f"  {problem}")
        if blocks.failed:
            raise CommandError(f"{len(blocks.failed)} block(s) refused")
