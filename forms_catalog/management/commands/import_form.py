"""Create a draft version from an exported form file (see export_form)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.services import FormVersionError, form_version_import


class Command(BaseCommand):
    help = "Import a form version file as a new draft (publish it in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            version = form_version_import(data=data)
        except FormVersionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"created draft {version.service.slug} v{version.number}")
