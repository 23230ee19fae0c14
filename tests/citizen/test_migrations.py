"""Moving AccessibilityFeedback to the citizen app keeps its table and its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from citizen.models import AccessibilityFeedback

# The leaf nodes of the schema before the citizen app existed.
BEFORE = [
    ("submissions", "0007_staff_profile_initial_password"),
    ("municipalities", "0002_editions_fees_serving_gemeinde"),
    ("forms_catalog", "0003_service_retention_minimum"),
]
AFTER = [
    ("submissions", "0008_accessibility_feedback_to_citizen"),
    ("citizen", "0001_initial"),
]


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
    executor.loader.build_graph()
    executor.migrate(AFTER)

    moved = AccessibilityFeedback.objects.get(pk=old.pk)
    assert moved.message == "Kontrast zu gering"
    assert moved.page_url == "/impressum/"
    assert moved.email == "a@example.org"
    assert AccessibilityFeedback._meta.db_table == "submissions_accessibilityfeedback"
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "submissions_accessibilityfeedback" in tables
    assert "citizen_accessibilityfeedback" not in tables
