"""Set up a fresh installation: migrate, load reference data, optionally create demo accounts."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from thueringen_portal.configuration import configuration_summary

# Reference-data commands in the order they depend on each other. Each is
# idempotent; a command that does not exist (yet) in this installation is skipped.
REFERENCE_DATA_STEPS: list[tuple[str, list[str]]] = [
    ("load_catalogue", []),
    ("import_gv100ad", ["municipalities/data/GV100AD_30112025.txt"]),
    ("import_postcodes", ["municipalities/data/thueringen_plz_gemeinde.csv"]),
    ("import_ortsteile", ["municipalities/data/thueringen_ortsteile.csv"]),
    ("seed_responsibility", []),
    ("setup_roles", []),
]
# Demo accounts a fresh installation gets: (command, arguments), run after the data.
DEMO_STEPS: list[tuple[str, list[str]]] = [("create_demo_accounts", [])]


class Command(BaseCommand):
    help = "Migrate, load reference data (municipalities, catalogue) and create demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="create demo accounts")

    def handle(self, *args, demo: bool = False, **options):
        # The embedded default keeps its SQLite file and media under var/.
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        available = get_commands()
        for name, arguments in REFERENCE_DATA_STEPS:
            if name in available:
                call_command(
                    name, *[str(settings.BASE_DIR / a) if "/" in a else a for a in arguments]
                )
        if demo:
            ran_demo = False
            for name, arguments in DEMO_STEPS:
                if name in available:
                    call_command(name, *arguments)
                    ran_demo = True
            if not ran_demo:
                self._create_demo_admin()
        self._print_banner()

    def _create_demo_admin(self) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(password)
        user.save()
        self.stdout.write(f"Demo account: admin / {password}  (http://127.0.0.1:8000/admin/)")

    def _print_banner(self) -> None:
        summary = configuration_summary()
        self.stdout.write("\nConfiguration in use:")
        for topic, description, embedded in summary:
            marker = " (embedded default)" if embedded else ""
            self.stdout.write(f"  - {topic}: {description}{marker}")
        if any(embedded for topic, _, embedded in summary if topic in {"database", "tasks"}):
            self.stdout.write(
                "To use PostgreSQL and Redis, set DATABASE_URL=postgres://... and "
                "REDIS_URL=redis://... (see .env.example), then start a worker with "
                "`.venv/bin/celery -A thueringen_portal worker -Q default,pdf,delivery,email`."
            )
        self.stdout.write(f"Portal: {settings.PORTAL_BASE_URL}/\n")
