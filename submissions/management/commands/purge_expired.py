"""Delete personal data whose retention period has ended (also run nightly by Celery beat)."""

from django.core.management.base import BaseCommand

from submissions.retention import retention_purge_expired


class Command(BaseCommand):
    help = "Purge personal data of decided cases and abandoned drafts that are due. Idempotent."

    def handle(self, *args, **options):
        report = retention_purge_expired()
        self.stdout.write(report.summary())
        for reference in report.submissions:
            self.stdout.write(f"  {reference}")
