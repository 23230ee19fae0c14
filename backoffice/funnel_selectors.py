"""Funnel statistics per form version: how far citizens get, where they stop, which fields fail.

Computed by SQL over the drafts alone (`submissions.Draft`): every draft row,
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
- time to complete: submitted_at - created_at, median by percentile_cont;
- field failures: how many step posts refused the field; the share is the
  drafts with at least one failure of it divided by the drafts that reached
  its step.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from forms_catalog.definition import GroupSpec, tr
from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import compiled_form
from municipalities.models import Gemeinde
from submissions.models import Draft

ABANDONED_AFTER = datetime.timedelta(days=1)
# Bit 63 of the signed bigint is never set (see Draft.steps_reached).
MAX_POSITION = 62
# The key of errors that concern a step as a whole, not one field.
PAGE_KEY_PREFIX = ":"


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


def funnel_versions(
    *, flt: FunnelFilter, now: datetime.datetime | None = None, language: str = "de"
) -> list[VersionFunnel]:
    """Funnel figures of every form version with drafts in `flt`, newest service/version first.

    Three queries whatever the number of versions: counts per version and
    furthest step (with the reached steps as bit sums), the medians, and the
    field failures. The step and field tables are filled only when the filter
    names a service or a version; the overview needs only the totals and gets
    them with the medians from one query.
    """
    now = now or timezone.now()
    where, params = _where(flt)
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
    bit_sums = "".join(f", SUM((d.steps_reached >> {i}) & 1)" for i in range(positions))
    table = Draft._meta.db_table
    median = "percentile_cont(0.5) WITHIN GROUP (ORDER BY d.submitted_at - d.created_at)"
    with connection.cursor() as cursor:
        # Per furthest step for the step tables; per version only for the overview, which
        # then takes the median from the same scan (NULL durations, not submitted, are skipped).
        cursor.execute(
            f"""
            SELECT d.form_version_id, {"d.furthest_step" if detailed else median}, COUNT(*),
                   COUNT(*) FILTER (WHERE d.submitted_at IS NOT NULL),
                   COUNT(*) FILTER (WHERE d.submitted_at IS NULL
                                    AND (d.expires_at <= %s OR d.updated_at < %s))
                   {bit_sums}
            FROM {table} d WHERE {where}
            GROUP BY d.form_version_id{", d.furthest_step" if detailed else ""}
            """,  # noqa: S608 - only our table name and generated column list
            [now, now - ABANDONED_AFTER, *params],
        )
        rows = cursor.fetchall()
        if detailed:
            cursor.execute(
                f"""
                SELECT d.form_version_id, {median}
                FROM {table} d WHERE {where} AND d.submitted_at IS NOT NULL
                GROUP BY d.form_version_id
                """,  # noqa: S608
                params,
            )
            medians = dict(cursor.fetchall())
        else:
            medians = {row[0]: row[1] for row in rows}
            rows = [(row[0], None, *row[2:]) for row in rows]
        failures: list[tuple] = []
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
            failures = cursor.fetchall()
    versions = {
        v.id: v
        for v in FormVersion.objects.select_related("service")
        .defer("definition")
        .filter(id__in={row[0] for row in rows})
    }
    result: dict[int, VersionFunnel] = {}
    reached_by_version: dict[int, list[int]] = {}
    for version_id, furthest, started, submitted, abandoned, *bits in rows:
        version = versions[version_id]
        funnel = result.get(version_id)
        if funnel is None:
            funnel = result[version_id] = VersionFunnel(
                version_id=version_id,
                service_id=version.service_id,
                service_name=version.service.name(language),
                number=version.number,
                median_to_complete=medians.get(version_id),
            )
            if detailed:
                funnel.steps, funnel.fields = _step_layout(layouts[version_id], language)
            reached_by_version[version_id] = [0] * positions
        funnel.started += started
        funnel.submitted += submitted
        funnel.abandoned += abandoned
        reached = reached_by_version[version_id]
        for i, count in enumerate(bits):
            reached[i] += int(count or 0)
        if detailed and furthest is not None and furthest < len(funnel.steps):
            funnel.steps[furthest].abandoned += abandoned
    for version_id, funnel in result.items():
        reached = reached_by_version[version_id]
        for step in funnel.steps:
            step.reached = reached[step.position] if step.position < len(reached) else 0
        for figures in funnel.fields:
            figures.reached = reached[figures.position] if figures.position < len(reached) else 0
    by_key = {(f.key, v): f for v, funnel in result.items() for f in funnel.fields}
    for version_id, key, total, drafts in failures:
        figures = by_key.get((key, version_id))
        if figures is not None:
            figures.failures += int(total or 0)
            figures.drafts_failed += int(drafts or 0)
    return sorted(result.values(), key=lambda f: (f.service_name, -f.number))
