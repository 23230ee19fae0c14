"""Create the staff groups (Sachbearbeitung, Amtsleitung, Kompetenzzentrum, Plattform-Administration)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    # The roles now live in the back office and name its permissions
    # ("backoffice.work_cases"), which do not exist at this point of the
    # history; migration backoffice 0002 creates the groups instead. Kept as a
    # node so databases that ran it stay consistent.
    return


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0002_backoffice"),
        ("forms_catalog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
