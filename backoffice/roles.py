"""The staff roles of the back office, as Django groups with their permissions.

Used by a data migration (with the historical app registry) and by
`manage.py setup_roles` (with the live one), so both must only go through
`apps.get_model`. Idempotent: re-running adds what is missing and removes
permissions a role must not have.
"""

from __future__ import annotations

CLERK_GROUP = "Sachbearbeitung"
LEAD_GROUP = "Amtsleitung"
KOMPETENZZENTRUM_GROUP = "Kompetenzzentrum"
PLATFORM_GROUP = "Plattform-Administration"

# StaffMembership.Role value -> group name.
ROLE_GROUPS: dict[str, str] = {
    "clerk": CLERK_GROUP,
    "lead": LEAD_GROUP,
    "kompetenzzentrum": KOMPETENZZENTRUM_GROUP,
    "platform": PLATFORM_GROUP,
}

_CLERK_PERMISSIONS = [
    "submissions.view_submission",
    "backoffice.work_cases",
    "backoffice.export_cases",
    "backoffice.view_casenote",
    "backoffice.add_casenote",
]
# Ortsteile and former names the municipality search finds (scoped in admin.ortsteile).
_ALIAS_PERMISSIONS = [
    "municipalities.view_gemeindealias",
    "municipalities.add_gemeindealias",
    "municipalities.change_gemeindealias",
    "municipalities.delete_gemeindealias",
]
# The Kompetenzzentrum publishes forms and sees statewide aggregates. It gets no
# permission on submissions, drafts, attachments or notes: no citizen data.
# `publish_formversion` is the form editors' permission (forms_catalog.models.
# EDITOR_PERMISSION): edit, review, approve (never one's own: four eyes, checked
# by the services), schedule, publish and retire.
# Bescheid texts: the Kompetenzzentrum keeps the statewide defaults, leads their
# office's own versions (scoped in admin.decision_templates).
_DECISION_TEMPLATE_PERMISSIONS = [
    f"backoffice.{action}_decisiontemplate" for action in ("view", "add", "change", "delete")
]
_KOMPETENZZENTRUM_PERMISSIONS = [
    "forms_catalog.view_service",
    "forms_catalog.change_service",
    "forms_catalog.view_formversion",
    "forms_catalog.add_formversion",
    "forms_catalog.change_formversion",
    "forms_catalog.publish_formversion",
    "backoffice.view_statewide_statistics",
    *_ALIAS_PERMISSIONS,
    *_DECISION_TEMPLATE_PERMISSIONS,
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    CLERK_GROUP: _CLERK_PERMISSIONS,
    LEAD_GROUP: [
        *_CLERK_PERMISSIONS,
        "backoffice.assign_cases",
        "backoffice.view_office_statistics",
        "backoffice.view_auditentry",
        # Their own Verband's and Gemeinden's fee amounts (scoped in admin.fees).
        "municipalities.view_localfeeparameter",
        "municipalities.add_localfeeparameter",
        "municipalities.change_localfeeparameter",
        "municipalities.delete_localfeeparameter",
        *_ALIAS_PERMISSIONS,
        # The public contact data of their own offices (scoped in admin.offices).
        "backoffice.view_officecontact",
        "backoffice.change_officecontact",
        # Rückfrage texts per service of their own offices (scoped in admin.message_templates).
        "backoffice.view_messagetemplate",
        "backoffice.add_messagetemplate",
        "backoffice.change_messagetemplate",
        "backoffice.delete_messagetemplate",
        *_DECISION_TEMPLATE_PERMISSIONS,
    ],
    KOMPETENZZENTRUM_GROUP: _KOMPETENZZENTRUM_PERMISSIONS,
    # Platform administrators are superusers (set by create_staff_user); the
    # group names the role and carries the operational permissions as well.
    PLATFORM_GROUP: [
        "submissions.view_submission",
        "backoffice.work_cases",
        "backoffice.assign_cases",
        "backoffice.export_cases",
        "backoffice.view_office_statistics",
        "backoffice.view_statewide_statistics",
        "backoffice.view_auditentry",
        "backoffice.view_staffmembership",
        "backoffice.add_staffmembership",
        "backoffice.change_staffmembership",
        "backoffice.delete_staffmembership",
        *_DECISION_TEMPLATE_PERMISSIONS,
    ],
}

# Permissions that may be referenced before the app that declares them has
# migrated; created here so the grant never silently fails.
_DECLARED_ELSEWHERE = {
    "forms_catalog.publish_formversion": ("formversion", "Can publish form version"),
    **{
        f"municipalities.{action}_gemeindealias": (
            "gemeindealias",
            f"Can {action} Ortsteil oder früherer Name",
        )
        for action in ("view", "add", "change", "delete")
    },
    # A proxy model: an older migration state (backoffice 0002) does not know it yet.
    **{
        f"backoffice.{action}_officecontact": (
            "officecontact",
            f"Can {action} Kontaktdaten der Behörde",
        )
        for action in ("view", "add", "change", "delete")
    },
    # Older migration states (backoffice 0002-0004) do not know the model yet.
    **{
        f"backoffice.{action}_messagetemplate": (
            "messagetemplate",
            f"Can {action} Textvorlage für Rückfragen",
        )
        for action in ("view", "add", "change", "delete")
    },
    # Created by backoffice 0005; older migration states do not know it.
    **{
        f"backoffice.{action}_decisiontemplate": (
            "decisiontemplate",
            f"Can {action} Bescheidvorlage",
        )
        for action in ("view", "add", "change", "delete")
    },
}


def ensure_roles(*, apps) -> dict[str, int]:
    """Create the four groups and give each exactly its permissions. Returns counts per group."""
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")

    # Permissions are normally created after `migrate`; a data migration runs
    # before that, so create them now for every installed app.
    for app_config in apps.get_app_configs():
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_models

    for dotted, (model, name) in _DECLARED_ELSEWHERE.items():
        app_label, codename = dotted.split(".")
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )

    counts: dict[str, int] = {}
    for group_name, dotted_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = []
        for dotted in dotted_names:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                raise LookupError(f"permission {dotted} does not exist")
            permissions.append(permission)
        group.permissions.set(permissions)
        counts[group_name] = len(permissions)
    return counts
