"""Re-apply the staff roles: office leads may now set their local fee parameters."""

from django.db import migrations


def apply_roles(apps, schema_editor):
    # The roles now live in the back office and name its permissions
    # ("backoffice.work_cases"), which do not exist at this point of the
    # history; migration backoffice 0002 creates the groups instead. Kept as a
    # node so databases that ran it stay consistent.
    return


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0005_merge_20261122_2345"),
        ("municipalities", "0002_editions_fees_serving_gemeinde"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
