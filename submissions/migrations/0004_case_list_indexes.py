"""Indexes for the clerks' case list (chosen with EXPLAIN on 1,000,000 rows, see bench/).

Plain SQL on PostgreSQL only: a trigram index needs pg_trgm, and the embedded
SQLite default has no use for them. They are not part of the model state, so
other branches adding fields to Submission do not conflict with them.
"""

from django.db import migrations

INDEXES = [
    # Default list of one office, newest first (and age sort / age filter).
    "CREATE INDEX IF NOT EXISTS sub_office_submitted_idx "
    "ON submissions_submission (office_id, submitted_at DESC, id DESC)",
    # Oldest first: the admin appends "-pk" to any ordering, so ascending age
    # is ORDER BY submitted_at ASC, id DESC.
    "CREATE INDEX IF NOT EXISTS sub_office_submitted_asc_idx "
    "ON submissions_submission (office_id, submitted_at ASC, id DESC)",
    "CREATE INDEX IF NOT EXISTS sub_office_status_submitted_idx "
    "ON submissions_submission (office_id, status, submitted_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS sub_office_service_submitted_idx "
    "ON submissions_submission (office_id, service_id, submitted_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS sub_office_gemeinde_submitted_idx "
    "ON submissions_submission (office_id, gemeinde_id, submitted_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS sub_assigned_submitted_idx "
    "ON submissions_submission (assigned_to_id, submitted_at DESC, id DESC) "
    "WHERE assigned_to_id IS NOT NULL",
    # Prefix search on the reference (LIKE 'TH-2026-7K%').
    "CREATE INDEX IF NOT EXISTS sub_reference_prefix_idx "
    "ON submissions_submission (reference varchar_pattern_ops)",
    # Substring search on the applicant's name (icontains = UPPER(..) LIKE UPPER('%..%')).
    "CREATE INDEX IF NOT EXISTS sub_applicant_name_trgm_idx "
    "ON submissions_submission USING gin (UPPER(applicant_name) gin_trgm_ops)",
    # Retention: decided cases not yet purged.
    "CREATE INDEX IF NOT EXISTS sub_retention_idx "
    "ON submissions_submission (service_id, decided_at) "
    "WHERE purged_at IS NULL AND decided_at IS NOT NULL",
    # Statewide statistics per month.
    "CREATE INDEX IF NOT EXISTS draft_created_idx ON submissions_draft (created_at)",
]
DROP = [
    "sub_office_submitted_idx",
    "sub_office_submitted_asc_idx",
    "sub_office_status_submitted_idx",
    "sub_office_service_submitted_idx",
    "sub_office_gemeinde_submitted_idx",
    "sub_assigned_submitted_idx",
    "sub_reference_prefix_idx",
    "sub_applicant_name_trgm_idx",
    "sub_retention_idx",
    "draft_created_idx",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in DROP:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("submissions", "0003_staff_roles")]

    operations = [migrations.RunPython(create, drop)]
