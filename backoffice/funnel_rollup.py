"""The funnel roll-up: daily and monthly sums of the draft rows, for days that can no longer change.

A draft's funnel columns change until it is submitted or expires (every save
extends its life; an expired draft can be neither resumed nor saved). A day is
*closed* once it lies before today and every draft started on it is submitted
or expired; its figures are final. `funnel_rollup_refresh` (beat job
`funnel_rollup_refresh`, command `manage.py funnel_rollup`) recomputes the
closed days with one INSERT ... SELECT ... GROUP BY per period from the draft
rows themselves: there is no separate tracking that could drift. The funnel
page (`funnel_selectors.funnel_versions`) reads whole months and single days
from here and computes the open days (the last weeks) live from the drafts.

Rows exist per form version and Kreis (the Kreis of the draft's Gemeinde when
the roll-up ran) and once more for all of Thüringen (`kreis = 0`), so the
statewide overview sums a few hundred rows instead of a million drafts. After
a change of Kreis boundaries, `manage.py funnel_rollup --rebuild` recomputes
everything. Purging expired drafts keeps the funnel columns (the purge empties
only the answers), so the past figures stay as they were.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from forms_catalog.models import FormVersion, Service
from municipalities.models import Gemeinde
from submissions.models import Draft

from .models import FunnelRollup, FunnelRollupState

# Positions recorded in a draft's `steps_reached` (bit 63 is never set).
MAX_POSITIONS = 63
# Days before the stored horizon that every run recomputes as well: a draft saved in
# the very second it expired (a request already under way) may still have changed.
SAFETY_DAYS = 1


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def funnel_rollup_horizon(*, now: datetime.datetime) -> datetime.date:
    """The first day that is not closed: today, or the start day of the oldest draft that is
    neither submitted nor expired, whichever is earlier."""
    today = timezone.localdate(now)
    with connection.cursor() as cursor:
        # Through the expires_at index (the few weeks of open drafts): the planner would
        # otherwise walk the created_at index from the oldest of a million drafts.
        cursor.execute(
            f"""
            WITH open AS MATERIALIZED (
                SELECT created_at FROM {Draft._meta.db_table}
                WHERE expires_at > %s AND submitted_at IS NULL)
            SELECT MIN(created_at) FROM open
            """,  # noqa: S608 - our table name; the time is a parameter
            [now],
        )
        [oldest_open] = cursor.fetchone()
    if oldest_open is None:
        return today
    return min(today, timezone.localdate(oldest_open))


def _positions() -> int:
    """How many step positions the longest form version has (its steps plus the check page)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(MAX(jsonb_array_length(definition->'steps')), 0) "  # noqa: S608
            f"FROM {FormVersion._meta.db_table} WHERE jsonb_typeof(definition->'steps') = 'array'"
        )
        [steps] = cursor.fetchone()
    return min(MAX_POSITIONS, steps + 1)


def _insert(*, period: str, start: datetime.date, end: datetime.date, positions: int) -> int:
    """Roll up the drafts started on local days [start, end) into rows of `period`; the caller
    has deleted the rows there. One statement: counts, reached and abandoned positions,
    minutes to complete and field failures, per version and Kreis and for the whole state."""
    tz = timezone.get_current_timezone_name()
    local_day = "(d.created_at AT TIME ZONE %(tz)s)::date"
    bucket = (
        local_day
        if period == FunnelRollup.Period.DAY
        else f"date_trunc('month', {local_day})::date"
    )
    reached = ", ".join(f"SUM((steps_reached >> {i}) & 1)" for i in range(positions))
    abandoned_at = ", ".join(
        f"COUNT(*) FILTER (WHERE NOT done AND furthest_step = {i})" for i in range(positions)
    )
    sql = f"""
        WITH base AS (
            SELECT {bucket} AS b, d.form_version_id AS v, d.service_id AS s,
                   COALESCE(g.kreis_id, -1) AS k, d.steps_reached, d.furthest_step,
                   d.submitted_at IS NOT NULL AS done,
                   floor(extract(epoch FROM d.submitted_at - d.created_at) / 60)::integer AS m,
                   d.field_errors
            FROM {Draft._meta.db_table} d
            JOIN {Gemeinde._meta.db_table} g ON g.id = d.gemeinde_id
            -- The service leads, so each service's range of draft_funnel_idx is read.
            WHERE d.service_id = ANY(%(services)s)
              AND d.created_at >= %(start)s AND d.created_at < %(end)s
        ),
        counts AS (
            SELECT b, v, s, COALESCE(k, 0) AS k, COUNT(*) AS started,
                   COUNT(*) FILTER (WHERE done) AS submitted,
                   COUNT(*) FILTER (WHERE NOT done) AS abandoned,
                   ARRAY[{reached or "NULL"}]::integer[] AS reached,
                   ARRAY[{abandoned_at or "NULL"}]::integer[] AS abandoned_at
            FROM base GROUP BY GROUPING SETS ((b, v, s, k), (b, v, s))
        ),
        durations AS (
            SELECT b, v, k, array_agg(m ORDER BY m) AS minutes, array_agg(c ORDER BY m) AS counts
            FROM (SELECT b, v, COALESCE(k, 0) AS k, m, COUNT(*)::integer AS c
                  FROM base WHERE done GROUP BY GROUPING SETS ((b, v, k, m), (b, v, m))) x
            GROUP BY b, v, k
        ),
        errors AS (
            SELECT b, v, k, array_agg(key ORDER BY key) AS keys,
                   array_agg(f ORDER BY key) AS failures, array_agg(n ORDER BY key) AS drafts
            FROM (SELECT b, v, COALESCE(k, 0) AS k, e.key, SUM(e.value::integer)::integer AS f,
                         COUNT(*)::integer AS n
                  FROM base, jsonb_each_text(base.field_errors) e
                  WHERE base.field_errors <> '{{}}'::jsonb
                  GROUP BY GROUPING SETS ((b, v, k, e.key), (b, v, e.key))) x
            GROUP BY b, v, k
        )
        INSERT INTO {FunnelRollup._meta.db_table} (
            period, start, form_version_id, service_id, kreis, started, submitted, abandoned,
            reached, abandoned_at, minutes, minute_counts, error_keys, error_failures,
            error_drafts)
        SELECT %(period)s, c.b, c.v, c.s, c.k, c.started, c.submitted, c.abandoned,
               {"c.reached" if positions else "'{{}}'::integer[]"},
               {"c.abandoned_at" if positions else "'{{}}'::integer[]"},
               COALESCE(du.minutes, '{{}}'), COALESCE(du.counts, '{{}}'),
               COALESCE(e.keys, '{{}}'), COALESCE(e.failures, '{{}}'), COALESCE(e.drafts, '{{}}')
        FROM counts c
        LEFT JOIN durations du ON du.b = c.b AND du.v = c.v AND du.k = c.k
        LEFT JOIN errors e ON e.b = c.b AND e.v = c.v AND e.k = c.k
    """  # noqa: S608 - only our table names and generated column lists; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "tz": tz,
                "start": local_midnight(start),
                "end": local_midnight(end),
                "period": period,
                "services": list(Service.objects.values_list("id", flat=True)),
            },
        )
        return cursor.rowcount


def funnel_rollup_refresh(
    *, now: datetime.datetime | None = None, rebuild: bool = False
) -> datetime.date | None:
    """Recompute the roll-up of every day that closed since the last run; returns the new
    horizon (days before it are rolled up). Idempotent: each run deletes and re-inserts
    the days from the previous horizon (minus `SAFETY_DAYS`) to the new one, and the months
    among them that are complete, in one transaction; `rebuild` recomputes all days. Runs
    serialised by a lock on the state row. Does nothing on a database other than
    PostgreSQL (the statistics need it)."""
    if connection.vendor != "postgresql":
        return None
    now = now or timezone.now()
    with transaction.atomic():
        state, _created = FunnelRollupState.objects.get_or_create(pk=1)
        state = FunnelRollupState.objects.select_for_update().get(pk=1)
        horizon = funnel_rollup_horizon(now=now)
        previous = None if rebuild else state.closed_until
        if previous is None:
            # Only a first run or a rebuild looks for the oldest draft (a full scan).
            FunnelRollup.objects.all().delete()
            first_draft = (
                Draft.objects.order_by("created_at").values_list("created_at", flat=True).first()
            )
            start = timezone.localdate(first_draft) if first_draft else None
        else:
            start = min(previous, horizon) - datetime.timedelta(days=SAFETY_DAYS)
        if start is not None:
            positions = _positions()
            FunnelRollup.objects.filter(period=FunnelRollup.Period.DAY, start__gte=start).delete()
            FunnelRollup.objects.filter(
                period=FunnelRollup.Period.MONTH, start__gte=month_start(start)
            ).delete()
            if start < horizon:
                _insert(
                    period=FunnelRollup.Period.DAY, start=start, end=horizon, positions=positions
                )
            # Months only when complete: the last one ends on or before the horizon.
            months_end = month_start(horizon)
            if month_start(start) < months_end:
                _insert(
                    period=FunnelRollup.Period.MONTH,
                    start=month_start(start),
                    end=months_end,
                    positions=positions,
                )
        state.closed_until = horizon
        state.refreshed_at = now
        state.save(update_fields=["closed_until", "refreshed_at"])
    return horizon
