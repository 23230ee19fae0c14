"""Lift the login lockout of a staff account before its cool-off has passed."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from backoffice.staff import StaffError, staff_unlock


class Command(BaseCommand):
    help = (
        "Unlock a staff account locked after failed logins (from every address): removes its "
        "failed-login records, resets its authenticator throttle, writes an audit entry."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            report = staff_unlock(username=username, operator=f"{getpass.getuser()} (command line)")
        except StaffError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Unlocked {report.username}: {report.attempts_removed} failed-login record(s) "
            f"removed, {report.devices_reset} authenticator throttle(s) reset."
        )
