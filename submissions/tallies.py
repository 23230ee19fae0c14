"""Keeping the statistics' counts current, in the transactions that change what they count.

``SubmissionTally`` counts submissions per month of submission, Gemeinde,
service and current status, ``ServiceTally`` the same without the Gemeinde
(the statewide month table reads it); ``DecisionTally`` counts decisions per
month, service and whole days from submission to decision (the histogram the
median processing time is read from). Every service that files a submission
or changes its status calls ``tally_*`` inside its own transaction, so a
rollback takes the count back with it, and the statistics read a few thousand
rows instead of scanning a million submissions. A count is an upsert
(``INSERT … ON CONFLICT DO UPDATE``), so concurrent writers never lose an
increment; every writer touches the tables in the same order
(per Gemeinde, per service, decisions) and their rows in key order, so two
transitions never wait on each other in a cycle.

``tallies_rebuild`` recomputes both tables from the submissions (after a
restore, or for rows written before the tallies existed):
``manage.py submission_tallies_rebuild``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .models import DecisionTally, ServiceTally, Submission, SubmissionTally

# Decisions that count for the processing time (a withdrawal is not the office's work).
DECIDED_STATUSES = (Submission.Status.APPROVED, Submission.Status.REJECTED)


def tally_month(moment: datetime.datetime) -> datetime.date:
    """The month (its first day, local time) a moment counts in, as ``TruncMonth`` would."""
    return timezone.localdate(moment).replace(day=1)


# Table and column names are fixed here (no input reaches the SQL text); the
# values are parameters. Each row: key values, then the change of the count.
_SUBMISSION_UPSERT = (
    'INSERT INTO "submissions_submissiontally" ("month", "gemeinde_id", "service_id", "status", '
    '"count") VALUES {rows} ON CONFLICT ("month", "gemeinde_id", "service_id", '
    '"status") DO UPDATE SET "count" = "submissions_submissiontally"."count" + EXCLUDED."count"'
)
_SERVICE_UPSERT = (
    'INSERT INTO "submissions_servicetally" ("month", "service_id", "status", "count") '
    'VALUES {rows} ON CONFLICT ("month", "service_id", "status") '
    'DO UPDATE SET "count" = "submissions_servicetally"."count" + EXCLUDED."count"'
)
_DECISION_UPSERT = (
    'INSERT INTO "submissions_decisiontally" ("month", "service_id", "days", "count") '
    'VALUES {rows} ON CONFLICT ("month", "service_id", "days") '
    'DO UPDATE SET "count" = "submissions_decisiontally"."count" + EXCLUDED."count"'
)


def _upsert(sql: str, rows: Iterable[tuple]) -> None:
    """One statement for all ``rows`` (distinct keys: one statement may not touch a row twice).

    A status change moves a count between two rows of each table: one round
    trip per table instead of one per row. The rows go in key order (see the
    module's docstring), which PostgreSQL keeps when it inserts them.
    """
    ordered = sorted(rows)
    placeholders = ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in ordered)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(rows=placeholders), [value for row in ordered for value in row])


def decision_days(submitted_at: datetime.datetime, decided_at: datetime.datetime) -> int:
    """Whole days from submission to decision (the decision histogram's bucket)."""
    return int((decided_at - submitted_at).total_seconds() // 86400)


def tally_submitted(*, submission: Submission) -> None:
    """Count a newly filed submission. Call inside the transaction that creates it."""
    month = tally_month(submission.submitted_at)
    _upsert(
        _SUBMISSION_UPSERT,
        [(month, submission.gemeinde_id, submission.service_id, submission.status, 1)],
    )
    _upsert(_SERVICE_UPSERT, [(month, submission.service_id, submission.status, 1)])


def tally_status_changed(
    *,
    submission: Submission,
    from_status: str,
    to_status: str,
    undone_decided_at: datetime.datetime | None = None,
) -> None:
    """Move a submission's count from ``from_status`` to ``to_status``, and count a decision.

    Call inside the transaction that changes the status (with the row locked).
    ``submission.decided_at`` must already hold the decision's time when
    ``to_status`` is approved or rejected. When a decision is undone (the
    office lead reopens the case), ``undone_decided_at`` is the time of the
    decision that no longer stands: its count is taken back, as a rebuild
    would no longer find it.
    """
    if from_status == to_status:
        return
    if undone_decided_at is not None and from_status in DECIDED_STATUSES:
        _upsert(
            _DECISION_UPSERT,
            [
                (
                    tally_month(undone_decided_at),
                    submission.service_id,
                    decision_days(submission.submitted_at, undone_decided_at),
                    -1,
                )
            ],
        )
    month = tally_month(submission.submitted_at)
    key = (month, submission.gemeinde_id, submission.service_id)
    _upsert(_SUBMISSION_UPSERT, [(*key, from_status, -1), (*key, to_status, 1)])
    _upsert(
        _SERVICE_UPSERT,
        [
            (month, submission.service_id, from_status, -1),
            (month, submission.service_id, to_status, 1),
        ],
    )
    if to_status in DECIDED_STATUSES and submission.decided_at is not None:
        _upsert(
            _DECISION_UPSERT,
            [
                (
                    tally_month(submission.decided_at),
                    submission.service_id,
                    decision_days(submission.submitted_at, submission.decided_at),
                    1,
                )
            ],
        )


def tallies_rebuild() -> dict[str, int]:
    """Recompute both tallies from the submissions; returns the number of rows of each.

    One transaction, with the tallies locked against writers: a submit or
    transition in flight commits before the rebuild reads, and one that
    starts later waits for the rebuild's commit, so no change is lost or
    counted twice.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {SubmissionTally._meta.db_table}, "
                    f"{ServiceTally._meta.db_table}, "
                    f"{DecisionTally._meta.db_table} IN EXCLUSIVE MODE"
                )
        SubmissionTally.objects.all().delete()
        ServiceTally.objects.all().delete()
        DecisionTally.objects.all().delete()
        counts = (
            Submission.objects.annotate(month=TruncMonth("submitted_at"))
            .values("month", "gemeinde_id", "service_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        SubmissionTally.objects.bulk_create(
            (
                SubmissionTally(
                    month=_as_date(row["month"]),
                    gemeinde_id=row["gemeinde_id"],
                    service_id=row["service_id"],
                    status=row["status"],
                    count=row["n"],
                )
                for row in counts.iterator(chunk_size=5000)
            ),
            batch_size=5000,
        )
        ServiceTally.objects.bulk_create(
            (
                ServiceTally(
                    month=_as_date(row["month"]),
                    service_id=row["service_id"],
                    status=row["status"],
                    count=row["n"],
                )
                for row in Submission.objects.annotate(month=TruncMonth("submitted_at"))
                .values("month", "service_id", "status")
                .annotate(n=Count("id"))
                .order_by()
                .iterator(chunk_size=5000)
            ),
            batch_size=5000,
        )
        duration = ExpressionWrapper(
            F("decided_at") - F("submitted_at"), output_field=DurationField()
        )
        histogram: dict[tuple[datetime.date, int, int], int] = {}
        for service_id, decided_at, took in (
            Submission.objects.filter(status__in=DECIDED_STATUSES, decided_at__isnull=False)
            .annotate(took=duration)
            .values_list("service_id", "decided_at", "took")
            .iterator(chunk_size=5000)
        ):
            key = (tally_month(decided_at), service_id, int(took.total_seconds() // 86400))
            histogram[key] = histogram.get(key, 0) + 1
        DecisionTally.objects.bulk_create(
            (
                DecisionTally(month=month, service_id=service_id, days=days, count=n)
                for (month, service_id, days), n in histogram.items()
            ),
            batch_size=5000,
        )
    return {
        "submission_tallies": SubmissionTally.objects.count(),
        "service_tallies": ServiceTally.objects.count(),
        "decision_tallies": DecisionTally.objects.count(),
    }


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value
