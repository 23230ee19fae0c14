"""Delete drafts past their expiry together with their uploaded files."""

from django.core.management.base import BaseCommand

from submissions.drafts import draft_purge_expired


class Command(BaseCommand):
    help = "Delete expired drafts and the uploaded files only they refer to."

    def handle(self, *args, **options):
        count = draft_purge_expired()
        self.stdout.write(f"Deleted {count} expired draft(s).")
