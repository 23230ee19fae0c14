"""Recompute the funnel statistics' roll-up (also a beat job). Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from backoffice.funnel_rollup import funnel_rollup_refresh


class Command(BaseCommand):
    help = (
        "Roll up the funnel figures of the days whose drafts can no longer change; "
        "--rebuild recomputes every day (after a change of Kreis boundaries)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute every day")

    def handle(self, *args, rebuild: bool = False, **options):
        horizon = funnel_rollup_refresh(rebuild=rebuild)
        if horizon is None:
            self.stdout.write("skipped: the funnel roll-up needs PostgreSQL")
        else:
            self.stdout.write(f"funnel roll-up complete up to {horizon} (exclusive)")
