"""Recompute the statistics' counts from the submissions (after a restore, or an upgrade)."""

from django.core.management.base import BaseCommand

from submissions.tallies import tallies_rebuild


class Command(BaseCommand):
    help = "Rebuild the submission and decision tallies the statistics read from the submissions."

    def handle(self, *args, **options):
        rows = tallies_rebuild()
        self.stdout.write(
            f"Tallies rebuilt: {rows['submission_tallies']} per-Gemeinde rows, "
            f"{rows['service_tallies']} per-service rows, {rows['decision_tallies']} decision rows."
        )
