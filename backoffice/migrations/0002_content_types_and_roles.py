"""The moved models' content types follow them; the staff groups get the permissions' new names.

Renaming the content types (app label "submissions" to "backoffice") keeps the
permission rows, and with them every group's and user's grants and the admin's
log entries; the permissions are then named "backoffice.work_cases" etc.
`ensure_roles` re-applies the roles (it also creates them on a new database,
where submissions 0003 and 0006 no longer do).
"""

from django.db import migrations

from backoffice.roles import ensure_roles

MODELS = ["auditentry", "casenote", "staffmembership", "staffprofile", "statusnotification"]


def _relabel(apps, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=target, model=model).exists():
            continue  # already there (e.g. created by a previous run); nothing to move
        ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def forward(apps, schema_editor):
    _relabel(apps, source="submissions", target="backoffice")
    ensure_roles(apps=apps)


def backward(apps, schema_editor):
    _relabel(apps, source="backoffice", target="submissions")


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_initial"),
        # After the state-only delete there, so no permission is created twice.
        ("submissions", "0008_move_backoffice_models"),
        ("forms_catalog", "0002_publish_permission"),
        ("municipalities", "0002_editions_fees_serving_gemeinde"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forward, backward)]
