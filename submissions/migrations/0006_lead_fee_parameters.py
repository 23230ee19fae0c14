"""Re-apply the staff roles: office leads may now set their local fee parameters."""

from django.db import migrations


def apply_roles(apps, schema_editor):
    from submissions.roles import ensure_roles

    ensure_roles(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0005_merge_20261122_2345"),
        ("municipalities", "0002_editions_fees_serving_gemeinde"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
