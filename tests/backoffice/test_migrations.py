"""The back office's models moved to `backoffice` without losing a row or a grant."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from backoffice.models import (
    AuditEntry,
    CaseNote,
    StaffMembership,
    StaffProfile,
    StatusNotification,
)
from backoffice.roles import CLERK_GROUP
from submissions.models import SubmissionEvent
from tests.factories import OfficeFactory, SubmissionFactory

# The schema before the move: submissions at its last migration then, no backoffice app.
BEFORE = [("submissions", "0007_staff_profile_initial_password"), ("backoffice", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_rows_and_permissions(django_user_model):
    # Rows of models that do not move, written through the current models
    # (their tables are the same before and after).
    clerk = django_user_model.objects.create_user(username="clerk_before_move", is_staff=True)
    office = OfficeFactory()
    submission = SubmissionFactory(office=office)
    event = SubmissionEvent.objects.create(
        submission=submission, kind="status_changed", to_status="in_progress"
    )

    executor = _migrate(BEFORE)
    old = executor.loader.project_state(
        [node for node in BEFORE if node[1]] + [("auth", "0012_alter_user_first_name_max_length")]
    ).apps
    old_membership = old.get_model("submissions", "StaffMembership")
    old_membership.objects.create(user_id=clerk.pk, office_id=office.pk, role="clerk")
    old.get_model("submissions", "StaffProfile").objects.create(
        user_id=clerk.pk, initial_password_issued_at=timezone.now()
    )
    old.get_model("submissions", "CaseNote").objects.create(
        submission_id=submission.pk, author_id=clerk.pk, text="Rückruf vereinbart"
    )
    old.get_model("submissions", "AuditEntry").objects.create(
        actor_id=clerk.pk,
        actor_username=clerk.username,
        action="view_case",
        submission_id=submission.pk,
        reference=submission.reference,
        office_id=office.pk,
    )
    old.get_model("submissions", "StatusNotification").objects.create(
        event_id=event.pk, recipient="erika@example.org"
    )
    # A grant made before the move, on the permission's old name.
    old_content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="submissions", model="staffmembership"
    )[0]
    old_permission = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=old_content_type,
        codename="work_cases",
        defaults={"name": "Kann Anträge der eigenen Behörde bearbeiten"},
    )[0]
    old.get_model("auth", "User").objects.get(pk=clerk.pk).user_permissions.add(old_permission)

    executor = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    membership = StaffMembership.objects.get(user=clerk)
    assert (membership.office_id, membership.role) == (office.pk, "clerk")
    assert StaffProfile.objects.get(user=clerk).initial_password_issued_at is not None
    assert list(submission.notes.values_list("text", flat=True)) == ["Rückruf vereinbart"]
    entry = AuditEntry.objects.get(submission=submission)
    assert (entry.actor_id, entry.action, entry.office_id) == (clerk.pk, "view_case", office.pk)
    assert StatusNotification.objects.get(event=event).recipient == "erika@example.org"
    assert CaseNote._meta.db_table == "submissions_casenote"

    # The same permission row, now named after the back office; the grant holds.
    permission = Permission.objects.get(pk=old_permission.pk)
    assert permission.content_type.app_label == "backoffice"
    user = django_user_model.objects.get(pk=clerk.pk)
    assert user.has_perm("backoffice.work_cases")
    assert not ContentType.objects.filter(app_label="submissions", model="staffmembership").exists()
    assert (
        Group.objects.get(name=CLERK_GROUP)
        .permissions.filter(content_type__app_label="backoffice", codename="work_cases")
        .exists()
    )
