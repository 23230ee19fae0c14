"""The back office's models moved to the `backoffice` app: state only, the tables stay.

StaffMembership, StaffProfile, CaseNote, AuditEntry and StatusNotification keep
their tables (`submissions_*`, named by `db_table` in backoffice 0001); no row
is copied or dropped.
"""

from django.db import migrations

MOVED = ["AuditEntry", "CaseNote", "StaffMembership", "StaffProfile", "StatusNotification"]


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0007_staff_profile_initial_password"),
        ("backoffice", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        )
    ]
