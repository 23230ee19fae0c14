"""Print who is responsible for every current Gemeinde × active service."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from municipalities.selectors import active_services, routing_rows

HEADER = ["ags", "gemeinde", "service", "office_id", "office_name"]


class Command(BaseCommand):
    help = "Routing table: ags,gemeinde,service,office_id,office_name for every current Gemeinde."

    def add_arguments(self, parser):
        parser.add_argument("--service", help="only this service (slug or Leistungsschlüssel)")
        parser.add_argument("--format", choices=["csv", "text"], default="csv")

    def handle(self, *args, service: str | None, format: str, **options):
        services = active_services()
        if service:
            services = services.filter(Q(slug=service) | Q(leistungsschluessel=service))
            if not services:
                raise CommandError(f"Keine aktive Leistung mit Kennung oder Schlüssel {service!r}.")
        rows = [
            [
                row.gemeinde.ags,
                row.gemeinde.name,
                row.service.slug,
                str(row.office.pk) if row.office else "",
                row.office.name if row.office else "",
            ]
            for row in routing_rows(services=list(services))
        ]
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(rows)
            return
        widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
        for row in [HEADER, *rows]:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
