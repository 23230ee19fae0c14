"""AccessibilityFeedback now belongs to the `citizen` app: state only, table and rows stay.

`citizen.0001_initial` takes the model over with `db_table` set to this
table, so nothing is dropped or copied.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0007_staff_profile_initial_password"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccessibilityFeedback")],
            database_operations=[],
        ),
    ]
