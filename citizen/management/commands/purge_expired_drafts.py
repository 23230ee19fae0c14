"""Purge drafts past their expiry: their answers and the uploaded files only they refer to."""

from django.core.management.base import BaseCommand

from citizen.drafts import draft_purge_expired


class Command(BaseCommand):
    help = "Purge expired drafts: answers and the uploaded files only they refer to."

    def handle(self, *args, **options):
        count = draft_purge_expired()
        self.stdout.write(f"Purged {count} expired draft(s).")
