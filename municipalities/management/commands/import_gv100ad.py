"""Import (or re-import) the Destatis Gemeindeverzeichnis GV100AD for one Land."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from municipalities.importers.gv100ad import Gv100adError, parse_gv100ad
from municipalities.services import ImportRefused, file_sha256, gv100ad_apply


class Command(BaseCommand):
    help = (
        "Import the official GV100AD file (fixed-width, UTF-8). Idempotent; a newer "
        "edition retires vanished keys and adds new ones. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="path to the GV100AD file, e.g. GV100AD_30112025.txt")
        parser.add_argument("--land", default="16", help="Land key (default 16 = Thüringen)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="also apply an edition that retires a Kreis or more than 10%% of the Gemeinden",
        )

    def handle(self, *args, path: str, land: str, force: bool, **options):
        try:
            edition = parse_gv100ad(path, land=land)
            result = gv100ad_apply(
                edition=edition, file_name=path, sha256=file_sha256(path), force=force
            )
        except (Gv100adError, ImportRefused) as exc:
            raise CommandError(f"{path}: {exc} – es wurde nichts geändert.") from None
        for warning in result.warnings:
            self.stderr.write(f"Warnung: {warning}")
        summary = ", ".join(
            f"{what}: {dict(counter)}"
            for what, counter in (
                ("neu", result.created),
                ("geändert", result.updated),
                ("aufgelöst", result.retired),
                ("reaktiviert", result.reactivated),
            )
            if counter
        )
        self.stdout.write(
            f"GV100AD Gebietsstand {edition.gebietsstand:%d.%m.%Y}, Land {edition.land_name}: "
            f"{len(edition.gemeinden)} Gemeinden, {len(edition.verbaende)} Gemeindeverbände, "
            f"{len(edition.kreise)} Kreise. {summary or 'Keine Änderungen.'}"
        )
