"""Create a staff account bound to one or more offices, with two-factor login."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backoffice.staff import StaffError, staff_create

ROLES = ["clerk", "lead", "kompetenzzentrum", "platform"]


class Command(BaseCommand):
    help = (
        "Create a staff account: prints an initial password (valid for "
        "PORTAL_INITIAL_PASSWORD_HOURS, to be replaced at the first login) and the TOTP "
        "provisioning URI (scan it with an authenticator app). Run again to issue a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--office", action="append", type=int, default=[], help="office id (repeatable)"
        )
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, office, role, email, **options):
        try:
            credentials = staff_create(username=username, role=role, office_ids=office, email=email)
        except StaffError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Account: {credentials.username} ({role})")
        self.stdout.write(f"One-time password: {credentials.password}")
        if credentials.password_expires_at is not None:
            expires = timezone.localtime(credentials.password_expires_at)
            self.stdout.write(
                f"  valid until {expires:%Y-%m-%d %H:%M %Z}; the first login asks for a new one"
            )
        self.stdout.write(f"TOTP secret: {credentials.totp_secret}")
        self.stdout.write(f"TOTP provisioning URI: {credentials.provisioning_uri}")
