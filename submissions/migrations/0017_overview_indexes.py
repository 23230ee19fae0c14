"""Indexes for the office overview and the statewide statistics (chosen with EXPLAIN on
1,000,000 rows, see bench/bench_statistics.py).

The overview counts each office's open cases by age and assignee and its
decisions of the last 30 days. With these two indexes both are index-only
scans: no table row is read (the busiest office's 68,000 cases lie on most
of the table's pages), as long as autovacuum keeps the visibility map
current (see AUTOVACUUM). Plain SQL on PostgreSQL only, outside the model
state, like 0004.
"""

from django.db import migrations

INDEXES = [
    # Open cases of an office by assignee and age; partial: decided cases are most of the
    # table and never counted here. The list of statuses is the overview's OPEN_STATUSES.
    "CREATE INDEX IF NOT EXISTS sub_open_office_assignee_idx "
    "ON submissions_submission (office_id, assigned_to_id, submitted_at) "
    "WHERE status IN ('received', 'forwarded', 'in_progress', 'info_requested')",
    # Decisions of an office since a day, by status.
    "CREATE INDEX IF NOT EXISTS sub_office_decided_idx "
    "ON submissions_submission (office_id, decided_at) INCLUDE (status) "
    "WHERE decided_at IS NOT NULL",
    # The statewide statistics read one month of the per-Gemeinde tally (tens of thousands
    # of rows a month at 1M submissions, spread over the table by the upserts and
    # rebuilds): from the index alone.
    "CREATE INDEX IF NOT EXISTS submission_tally_month_idx "
    "ON submissions_submissiontally (month, gemeinde_id, service_id) INCLUDE (count)",
]
DROP = ["sub_open_office_assignee_idx", "sub_office_decided_idx", "submission_tally_month_idx"]
# An index-only scan reads a table page after all when the visibility map does
# not mark it all-visible, i.e. when a row on it changed since the last VACUUM.
# PostgreSQL's default waits for 20 % of the rows to change (200,000 at 1M);
# the open cases, which the overview counts, are the ones that change. After
# 1 % of the rows changed or were added, autovacuum runs (it skips the pages
# that are all-visible already, so a run costs little).
# The tallies change with every submit and transition: the same for them.
AUTOVACUUM = [
    f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.01, "
    "autovacuum_vacuum_insert_scale_factor = 0.01)"
    for table in ("submissions_submission", "submissions_submissiontally")
]
AUTOVACUUM_RESET = [
    f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_insert_scale_factor)"
    for table in ("submissions_submission", "submissions_submissiontally")
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INDEXES:
        schema_editor.execute(sql)
    for sql in AUTOVACUUM:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in DROP:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for sql in AUTOVACUUM_RESET:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0016_merge_20261126_1155")]

    operations = [migrations.RunPython(create, drop)]
