"""Create the staff groups and their permissions (idempotent)."""

from django.apps import apps
from django.core.management.base import BaseCommand

from backoffice.roles import ensure_roles


class Command(BaseCommand):
    help = "Create or update the staff roles (groups) and their permissions. Idempotent."

    def handle(self, *args, **options):
        counts = ensure_roles(apps=apps)
        for group, count in counts.items():
            self.stdout.write(f"Role {group}: {count} permissions")
