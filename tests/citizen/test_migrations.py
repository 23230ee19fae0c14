"""Moving AccessibilityFeedback to the citizen app keeps its table and its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from citizen.models import AccessibilityFeedback

# The schema before the citizen app existed (other apps stay where they are).
BEFORE = [("submissions", "0007_staff_profile_initial_password")]


@pytest.mark.django_db(transaction=True)
def test_feedback_written_before_the_move_is_read_through_the_citizen_model():
    executor = MigrationExecutor(connection)
    executor.migrate([*BEFORE, ("citizen", None)])
    old_apps = executor.loader.project_state(BEFORE).apps
    OldFeedback = old_apps.get_model("submissions", "AccessibilityFeedback")
    old = OldFeedback.objects.create(
        message="Kontrast zu gering", page_url="/impressum/", email="a@example.org"
    )

    executor = MigrationExecutor(connection)
    # Forward to every app's latest migration, so later tests find the full schema.
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = AccessibilityFeedback.objects.get(pk=old.pk)
    assert moved.message == "Kontrast zu gering"
    assert moved.page_url == "/impressum/"
    assert moved.email == "a@example.org"
    assert AccessibilityFeedback._meta.db_table == "submissions_accessibilityfeedback"
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "submissions_accessibilityfeedback" in tables
    assert "citizen_accessibilityfeedback" not in tables
