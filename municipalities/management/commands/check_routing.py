"""Exit non-zero if any current Gemeinde × active service has no responsible office."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from municipalities.selectors import routing_rows


class Command(BaseCommand):
    help = "Check that every current Gemeinde has a responsible office for every active service."

    def handle(self, *args, **options):
        rows = routing_rows()
        missing = [row for row in rows if row.office is None]
        for row in missing:
            self.stderr.write(f"{row.gemeinde.ags},{row.gemeinde.name},{row.service.slug}")
        if missing:
            raise CommandError(
                f"{len(missing)} von {len(rows)} Kombinationen Gemeinde × Leistung ohne "
                "zuständige Behörde (oben aufgeführt)."
            )
        self.stdout.write(f"Alle {len(rows)} Kombinationen Gemeinde × Leistung haben eine Behörde.")
