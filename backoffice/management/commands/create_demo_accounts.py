"""Demo accounts for a local installation: a platform administrator and clerks of two offices."""

from django.core.management.base import BaseCommand

from backoffice.staff import staff_create
from municipalities.models import Office


class Command(BaseCommand):
    help = "Create demo staff accounts and print their credentials and TOTP secrets."

    def handle(self, *args, **options):
        accounts = [("admin", "platform", [])]
        # Prefer two well-known kreisfreie Städte; otherwise the first offices.
        offices = list(Office.objects.filter(kreis__key__in=["16051", "16055"]).order_by("name"))
        if len(offices) < 2:
            offices = list(Office.objects.order_by("id")[:2])
        for number, office in enumerate(offices, start=1):
            accounts.append((f"sachbearbeitung{number}", "clerk", [office.pk]))
        self.stdout.write(
            "Demo accounts (log in at /admin/ with password and TOTP code; the first login "
            "asks for a new password):"
        )
        for username, role, office_ids in accounts:
            credentials = staff_create(username=username, role=role, office_ids=office_ids)
            where = ", ".join(o.name for o in offices if o.pk in office_ids) or "statewide"
            self.stdout.write(
                f"  {username} ({role}, {where}): password {credentials.password}  "
                f"TOTP secret {credentials.totp_secret}"
            )
            self.stdout.write(f"    {credentials.provisioning_uri}")
        if not offices:
            self.stdout.write("  (no offices loaded yet: no clerk accounts created)")
