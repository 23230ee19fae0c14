"""Write one form version (with its service's metadata) as a single JSON file."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from forms_catalog.models import FormVersion
from forms_catalog.services import form_version_export


class Command(BaseCommand):
    help = "Export a form version as JSON (default: the published one) to stdout or --output."

    def add_base_argument(self, parser, *args, **kwargs):
        # --version selects a form version here, not the Django version.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="number")
        parser.add_argument("--output", "-o")

    def handle(self, *args, slug: str, number: int | None = None, output=None, **options):
        versions = FormVersion.objects.filter(service__slug=slug).select_related("service")
        if number is not None:
            version = versions.filter(number=number).first()
        else:
            version = (
                versions.filter(status=FormVersion.Status.PUBLISHED)
                .order_by("-published_at", "-number")
                .first()
                or versions.order_by("-number").first()
            )
        if version is None:
            raise CommandError(f"no form version for {slug!r}" + (f" v{number}" if number else ""))
        text = json.dumps(form_version_export(version=version), ensure_ascii=False, indent=2)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stdout.write(f"wrote {slug} v{version.number} to {output}")
        else:
            self.stdout.write(text)
