"""Delete personal data whose retention period has ended (also run nightly by Celery beat)."""

from django.core.management.base import BaseCommand

from backoffice.retention import retention_purge_expired


class Command(BaseCommand):
    # Expired drafts have their own command, `purge_expired_drafts`.
    help = "Purge personal data of decided cases that are due. Idempotent."

    def handle(self, *args, **options):
        report = retention_purge_expired()
        self.stdout.write(report.summary())
        for reference in report.submissions:
            self.stdout.write(f"  {reference}")
