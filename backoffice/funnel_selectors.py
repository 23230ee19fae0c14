"""Funnel statistics per form version: how far citizens get, where they stop, which fields fail.

Computed by SQL over the drafts alone (`submissions.Draft`), for the days that
can no longer change through their daily and monthly sums (`funnel_rollup.py`,
made by SQL from the same rows; the page adds the open days live): every draft row,
purged ones included, carries the positions of the steps it reached
(`steps_reached`, `furthest_step`), when it was submitted, and how often each
field was refused (`field_errors`). There is no separate event log that could
drift from the data. Nothing personal is read: no answers, no e-mail, no token.

Definitions (shown on the page):
- started: every draft created in the period (by its creation date);
- reached step i: the step was shown to the citizen (the first visible step
  when the draft starts, each further step when the one before is accepted);
  the position after the last step is the check page;
- submitted: the draft became a submission;
- abandoned at step i: not submitted, step i is the furthest it got, and it
  is expired or untouched for more than `ABANDONED_AFTER`; the others are
  still in progress;
- time to complete: submitted_at - created_at in whole minutes, median as
  percentile_cont (interpolated between the two middle values);
- field failures: how many step posts refused the field; the share is the
  drafts with at least one failure of it divided by the drafts that reached
  its step.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from forms_catalog.definition import GroupSpec, tr
from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import compiled_form
from municipalities.models import Gemeinde
from submissions.models import Draft

from .funnel_rollup import month_start, next_month
from .models import FunnelRollup, FunnelRollupState

ABANDONED_AFTER = datetime.timedelta(days=1)
# Bit 63 of the signed bigint is never set (see Draft.steps_reached).
MAX_POSITION = 62
# The key of errors that concern a step as a whole, not one field.
PAGE_KEY_PREFIX = ":"
# Whole minutes from start to submission: the median's unit, the same live and rolled up.
MINUTES_SQL = "floor(extract(epoch FROM d.submitted_at - d.created_at) / 60)::integer"


@dataclass(frozen=True)
class FunnelFilter:
    """What the figures cover. Dates are local calendar days, both inclusive."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    kreis_id: int | None = None
    service_id: int | None = None
    version_id: int | None = None


@dataclass
class StepFigures:
    position: int
    step_id: str  # "" for the check page
    title: str
    reached: int = 0
    abandoned: int = 0


@dataclass
class FieldFigures:
    key: str
    position: int  # of the field's step
    step_title: str
    label: str
    reached: int = 0  # drafts that reached the field's step
    failures: int = 0  # refused posts
    drafts_failed: int = 0  # drafts with at least one refused post

    @property
    def failure_rate(self) -> float | None:
        """Refused posts per draft that reached the step (can exceed 1)."""
        return self.failures / self.reached if self.reached else None

    @property
    def failed_share(self) -> float | None:
        return self.drafts_failed / self.reached if self.reached else None


@dataclass
class VersionFunnel:
    version_id: int
    service_id: int
    service_name: str
    number: int
    started: int = 0
    submitted: int = 0
    abandoned: int = 0
    median_to_complete: datetime.timedelta | None = None
    steps: list[StepFigures] = field(default_factory=list)
    fields: list[FieldFigures] = field(default_factory=list)

    @property
    def in_progress(self) -> int:
        return self.started - self.submitted - self.abandoned

    @property
    def completion_rate(self) -> float | None:
        return self.submitted / self.started if self.started else None


def _where(flt: FunnelFilter) -> tuple[str, list]:
    """SQL conditions and parameters for the filter (only ever parameters, never text).

    The service always leads (one, or every service as `= ANY`), so PostgreSQL
    reads the period of each service from the covering index `draft_funnel_idx`
    alone; a Kreis becomes the list of its Gemeinden, checked in that index too.
    """
    conditions, params = [], []
    tz = timezone.get_current_timezone()
    if flt.service_id is not None:
        conditions.append("d.service_id = %s")
        params.append(flt.service_id)
    else:
        conditions.append("d.service_id = ANY(%s)")
        params.append(list(Service.objects.values_list("id", flat=True)))
    if flt.version_id is not None:
        conditions.append("d.form_version_id = %s")
        params.append(flt.version_id)
    if flt.date_from is not None:
        conditions.append("d.created_at >= %s")
        params.append(datetime.datetime.combine(flt.date_from, datetime.time.min, tzinfo=tz))
    if flt.date_to is not None:
        conditions.append("d.created_at < %s")
        end = flt.date_to + datetime.timedelta(days=1)
        params.append(datetime.datetime.combine(end, datetime.time.min, tzinfo=tz))
    if flt.kreis_id is not None:
        conditions.append("d.gemeinde_id = ANY(%s)")
        params.append(
            list(Gemeinde.objects.filter(kreis_id=flt.kreis_id).values_list("id", flat=True))
        )
    return " AND ".join(conditions), params


def _step_layout(
    version: FormVersion, language: str
) -> tuple[list[StepFigures], list[FieldFigures]]:
    """Steps (plus the check page) and fields of a version in definition order, without figures."""
    definition = compiled_form(version=version).definition
    steps: list[StepFigures] = []
    fields: list[FieldFigures] = []
    for position, step in enumerate(definition.steps):
        title = tr(step.title, language)
        steps.append(StepFigures(position=position, step_id=step.id, title=title))
        for item in step.items:
            if isinstance(item, GroupSpec):
                for spec in item.fields:
                    key = f"{item.id}.{spec.id}" if item.repeatable else spec.id
                    label = tr(spec.label, language)
                    if item.repeatable:
                        label = f"{tr(item.label, language)} › {label}"
                    fields.append(FieldFigures(key, position, title, label))
            else:
                fields.append(FieldFigures(item.id, position, title, tr(item.label, language)))
        fields.append(
            FieldFigures(f"{PAGE_KEY_PREFIX}{step.id}", position, title, _page_label(language))
        )
    steps.append(
        StepFigures(position=len(definition.steps), step_id="", title=_check_label(language))
    )
    return steps, fields


def _page_label(language: str) -> str:
    with translation.override(language):
        return gettext("Seite insgesamt (Regeln, Gruppen, Dateien)")


def _check_label(language: str) -> str:
    with translation.override(language):
        return gettext("Prüfseite")


@dataclass
class _Sums:
    """What one version's figures are summed from: raw draft rows and roll-up rows alike."""

    started: int = 0
    submitted: int = 0
    abandoned: int = 0
    reached: dict[int, int] = field(default_factory=dict)  # position -> drafts
    abandoned_at: dict[int, int] = field(default_factory=dict)  # furthest position -> drafts
    minutes: dict[int, int] = field(default_factory=dict)  # whole minutes to submit -> drafts
    errors: dict[str, list[int]] = field(default_factory=dict)  # key -> [posts, drafts]

    def add(self, mapping: dict, key, value) -> None:
        mapping[key] = mapping.get(key, 0) + int(value or 0)


def median_minutes(histogram: dict[int, int]) -> datetime.timedelta | None:
    """The median of whole minutes given as {minutes: drafts}, interpolated between the two
    middle values as PostgreSQL's percentile_cont(0.5) does."""
    total = sum(histogram.values())
    if not total:
        return None
    middle = 0.5 * (total - 1)
    lower_rank, upper_rank = int(middle), int(middle) + (middle % 1 > 0)
    lower = upper = None
    seen = 0
    for minutes in sorted(histogram):
        count = histogram[minutes]
        if lower is None and lower_rank < seen + count:
            lower = minutes
        if upper_rank < seen + count:
            upper = minutes
            break
        seen += count
    value = lower + (upper - lower) * (middle - lower_rank)
    return datetime.timedelta(minutes=value)


def _raw_sums(
    sums: dict[int, _Sums], *, flt: FunnelFilter, now: datetime.datetime, positions: int,
    detailed: bool,
) -> None:  # fmt: skip
    """Add the figures of the draft rows in `flt` (live, from the table itself)."""
    where, params = _where(flt)
    bit_sums = "".join(f", SUM((d.steps_reached >> {i}) & 1)" for i in range(positions))
    table = Draft._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT d.form_version_id, d.furthest_step, COUNT(*),
                   COUNT(*) FILTER (WHERE d.submitted_at IS NOT NULL),
                   COUNT(*) FILTER (WHERE d.submitted_at IS NULL
                                    AND (d.expires_at <= %s OR d.updated_at < %s))
                   {bit_sums}
            FROM {table} d WHERE {where}
            GROUP BY d.form_version_id, d.furthest_step
            """,  # noqa: S608 - only our table name and generated column list
            [now, now - ABANDONED_AFTER, *params],
        )
        for version_id, furthest, started, submitted, abandoned, *bits in cursor.fetchall():
            figures = sums.setdefault(version_id, _Sums())
            figures.started += started
            figures.submitted += submitted
            figures.abandoned += abandoned
            if furthest is not None:
                figures.add(figures.abandoned_at, furthest, abandoned)
            for position, count in enumerate(bits):
                figures.add(figures.reached, position, count)
        cursor.execute(
            f"""
            SELECT d.form_version_id, {MINUTES_SQL}, COUNT(*)
            FROM {table} d WHERE {where} AND d.submitted_at IS NOT NULL
            GROUP BY 1, 2
            """,  # noqa: S608
            params,
        )
        for version_id, minutes, count in cursor.fetchall():
            sums.setdefault(version_id, _Sums()).add(sums[version_id].minutes, minutes, count)
        if detailed:
            cursor.execute(
                f"""
                SELECT d.form_version_id, e.key, SUM(e.value::integer), COUNT(*)
                FROM {table} d, jsonb_each_text(d.field_errors) e
                WHERE {where} AND d.field_errors <> '{{}}'::jsonb
                GROUP BY d.form_version_id, e.key
                """,  # noqa: S608
                params,
            )
            for version_id, key, total, drafts in cursor.fetchall():
                entry = sums.setdefault(version_id, _Sums()).errors.setdefault(key, [0, 0])
                entry[0] += int(total or 0)
                entry[1] += int(drafts or 0)


def _rollup_ranges(
    start: datetime.date | None, end: datetime.date
) -> tuple[list[tuple[datetime.date | None, datetime.date]], list[tuple]]:
    """Split the days [start, end) into whole months and the single days around them:
    (month ranges, day ranges), each as [from, to) with from None meaning "from the first"."""
    months_to = month_start(end)
    months_from = None if start is None else (start if start.day == 1 else next_month(start))
    if months_from is not None and months_from >= months_to:
        return [], [(start, end)]
    days = [(start, months_from)] if start is not None and start < months_from else []
    if months_to < end:
        days.append((months_to, end))
    return [(months_from, months_to)], days


def _rollup_sums(
    sums: dict[int, _Sums], *, flt: FunnelFilter, start: datetime.date | None,
    end: datetime.date, detailed: bool,
) -> None:  # fmt: skip
    """Add the rolled-up figures of the closed days [start, end) (start None: from the first)."""
    month_ranges, day_ranges = _rollup_ranges(start, end)
    periods, params = [], []
    for period, ranges in (
        (FunnelRollup.Period.MONTH, month_ranges),
        (FunnelRollup.Period.DAY, day_ranges),
    ):
        for low, high in ranges:
            if low is None:
                periods.append("(r.period = %s AND r.start < %s)")
                params += [period, high]
            else:
                periods.append("(r.period = %s AND r.start >= %s AND r.start < %s)")
                params += [period, low, high]
    if not periods:
        return
    conditions = ["r.kreis = %s", f"({' OR '.join(periods)})"]
    params = [flt.kreis_id or 0, *params]
    if flt.service_id is not None:
        conditions.append("r.service_id = %s")
        params.append(flt.service_id)
    if flt.version_id is not None:
        conditions.append("r.form_version_id = %s")
        params.append(flt.version_id)
    where = " AND ".join(conditions)
    table = FunnelRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.form_version_id, SUM(r.started), SUM(r.submitted), SUM(r.abandoned)
            FROM {table} r WHERE {where} GROUP BY 1
            """,  # noqa: S608 - our table name; values are parameters
            params,
        )
        for version_id, started, submitted, abandoned in cursor.fetchall():
            figures = sums.setdefault(version_id, _Sums())
            figures.started += int(started)
            figures.submitted += int(submitted)
            figures.abandoned += int(abandoned)
        cursor.execute(
            f"""
            SELECT r.form_version_id, u.m, SUM(u.c)
            FROM {table} r, unnest(r.minutes, r.minute_counts) AS u(m, c)
            WHERE {where} GROUP BY 1, 2
            """,  # noqa: S608
            params,
        )
        for version_id, minutes, count in cursor.fetchall():
            sums.setdefault(version_id, _Sums()).add(sums[version_id].minutes, minutes, count)
        if not detailed:
            return
        cursor.execute(
            f"""
            SELECT r.form_version_id, u.i - 1, SUM(u.reached), SUM(u.abandoned)
            FROM {table} r,
                 unnest(r.reached, r.abandoned_at) WITH ORDINALITY AS u(reached, abandoned, i)
            WHERE {where} GROUP BY 1, 2
            """,  # noqa: S608
            params,
        )
        for version_id, position, reached, abandoned in cursor.fetchall():
            figures = sums.setdefault(version_id, _Sums())
            figures.add(figures.reached, position, reached)
            figures.add(figures.abandoned_at, position, abandoned)
        cursor.execute(
            f"""
            SELECT r.form_version_id, u.k, SUM(u.f), SUM(u.n)
            FROM {table} r, unnest(r.error_keys, r.error_failures, r.error_drafts) AS u(k, f, n)
            WHERE {where} GROUP BY 1, 2
            """,  # noqa: S608
            params,
        )
        for version_id, key, total, drafts in cursor.fetchall():
            entry = sums.setdefault(version_id, _Sums()).errors.setdefault(key, [0, 0])
            entry[0] += int(total or 0)
            entry[1] += int(drafts or 0)


def funnel_versions(
    *,
    flt: FunnelFilter,
    now: datetime.datetime | None = None,
    language: str = "de",
    rolled_up: bool = True,
) -> list[VersionFunnel]:
    """Funnel figures of every form version with drafts in `flt`, newest service/version first.

    Closed days (before the roll-up's horizon) come from the roll-up
    (`funnel_rollup.py`: whole months and single days), the open days live
    from the draft rows; `rolled_up=False` computes everything from the draft
    rows (the figures are the same). The step and field tables are filled only
    when the filter names a service or a version. The median time to complete
    is taken over whole minutes (the page shows minutes).
    """
    now = now or timezone.now()
    detailed = flt.service_id is not None or flt.version_id is not None
    positions = 0
    layouts: dict[int, FormVersion] = {}
    if detailed:
        # As many bit sums as the longest of the candidate versions has positions.
        candidates = list(
            FormVersion.objects.filter(
                **(
                    {"id": flt.version_id}
                    if flt.version_id is not None
                    else {"service_id": flt.service_id}
                )
            )
        )
        layouts = {v.id: v for v in candidates}
        positions = min(
            MAX_POSITION + 1,
            max((len(compiled_form(version=v).step_ids()) + 1 for v in candidates), default=0),
        )
    sums: dict[int, _Sums] = {}
    horizon = None
    if rolled_up:
        horizon = (
            FunnelRollupState.objects.filter(pk=1).values_list("closed_until", flat=True).first()
        )
    if horizon is not None and (flt.date_from is None or flt.date_from < horizon):
        end = horizon
        if flt.date_to is not None:
            end = min(end, flt.date_to + datetime.timedelta(days=1))
        _rollup_sums(sums, flt=flt, start=flt.date_from, end=end, detailed=detailed)
        if flt.date_to is None or flt.date_to >= horizon:
            live = replace(flt, date_from=horizon)
            _raw_sums(sums, flt=live, now=now, positions=positions, detailed=detailed)
    else:
        _raw_sums(sums, flt=flt, now=now, positions=positions, detailed=detailed)
    sums = {k: v for k, v in sums.items() if v.started}
    versions = {
        v.id: v
        for v in FormVersion.objects.select_related("service")
        .defer("definition")
        .filter(id__in=sums)
    }
    result: list[VersionFunnel] = []
    for version_id, figures in sums.items():
        version = versions[version_id]
        funnel = VersionFunnel(
            version_id=version_id,
            service_id=version.service_id,
            service_name=version.service.name(language),
            number=version.number,
            started=figures.started,
            submitted=figures.submitted,
            abandoned=figures.abandoned,
            median_to_complete=median_minutes(figures.minutes),
        )
        if detailed:
            funnel.steps, funnel.fields = _step_layout(layouts[version_id], language)
            for step in funnel.steps:
                step.reached = figures.reached.get(step.position, 0)
                step.abandoned = figures.abandoned_at.get(step.position, 0)
            for item in funnel.fields:
                item.reached = figures.reached.get(item.position, 0)
                item.failures, item.drafts_failed = figures.errors.get(item.key, (0, 0))
        result.append(funnel)
    return sorted(result, key=lambda f: (f.service_name, -f.number))
