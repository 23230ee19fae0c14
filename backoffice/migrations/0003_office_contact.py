"""Office leads keep their offices' contact data: the proxy model and the re-applied roles."""

from django.db import migrations

from backoffice.roles import ensure_roles


def apply_roles(apps, schema_editor):
    ensure_roles(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_content_types_and_roles"),
        ("municipalities", "0003_gemeinde_alias"),
    ]

    operations = [
        migrations.CreateModel(
            name="OfficeContact",
            fields=[],
            options={
                "verbose_name": "Kontaktdaten der Behörde",
                "verbose_name_plural": "Kontaktdaten der Behörden",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("municipalities.office",),
        ),
        migrations.RunPython(apply_roles, migrations.RunPython.noop),
    ]
