"""The funnel roll-up gives exactly the figures of the raw computation, for every filter, on a
constructed history of drafts over several months; purging drafts changes no past figure."""

from __future__ import annotations

import datetime
import random
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from backoffice.funnel_rollup import funnel_rollup_horizon, funnel_rollup_refresh
from backoffice.funnel_selectors import FunnelFilter, funnel_versions, median_minutes
from backoffice.models import FunnelRollup, FunnelRollupState
from backoffice.tasks import funnel_rollup_refresh as task
from citizen.drafts import draft_purge_expired
from submissions.models import Draft
from tests.backoffice.test_funnel_selectors import NOW
from tests.citizen.citizen_support import municipality, publish
from thueringen_portal.celery import app

pytestmark = pytest.mark.django_db

DAYS = 150
KEYS = ["vorname", "nachname", "email", "hundename", ":nachweise", "hunde.chip"]


def build_history(seed: int = 7) -> dict:
    """About 600 drafts on two versions in three Gemeinden (two Kreise) over five months:
    submitted, expired at every step, still open (recent), with and without refused fields."""
    rng = random.Random(seed)
    versions = [publish(), publish()]
    gemeinde_a, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    gemeinde_b, _ = municipality("Erfurt", "Stadtverwaltung Erfurt")
    gemeinde_c, _ = municipality("Suhl", "Stadtverwaltung Suhl")
    gemeinde_c.kreis = gemeinde_a.kreis
    gemeinde_c.save()
    rows = []
    for _ in range(600):
        created = NOW - datetime.timedelta(days=rng.uniform(0, DAYS))
        furthest = rng.randrange(5)
        reached = {0, furthest} | {p for p in range(furthest) if rng.random() < 0.8}
        submitted = (
            created + datetime.timedelta(minutes=rng.randrange(2, 400), seconds=rng.randrange(60))
            if furthest == 4 and rng.random() < 0.8
            else None
        )
        touched = submitted or created + datetime.timedelta(hours=rng.uniform(0, 60))
        expires = touched + datetime.timedelta(days=30)
        errors = (
            {rng.choice(KEYS): rng.randrange(1, 4) for _ in range(rng.randrange(1, 3))}
            if rng.random() < 0.3
            else {}
        )
        rows.append(
            (
                Draft(
                    token_hash=uuid.uuid4().hex,
                    service=versions[0].service,
                    form_version=rng.choice(versions),
                    gemeinde=rng.choice([gemeinde_a, gemeinde_b, gemeinde_c]),
                    expires_at=expires,
                    steps_reached=sum(1 << p for p in reached),
                    furthest_step=furthest,
                    field_errors=errors,
                ),
                created,
                min(touched, NOW),
                submitted,
            )
        )
    Draft.objects.bulk_create([row[0] for row in rows])
    with connection.cursor() as cursor:
        for draft, created, touched, submitted in rows:
            cursor.execute(
                "UPDATE submissions_draft SET created_at = %s, updated_at = %s, submitted_at = %s "
                "WHERE id = %s",
                [created, touched, submitted, draft.id],
            )
    return {
        "versions": versions,
        "kreise": [gemeinde_a.kreis_id, gemeinde_b.kreis_id],
        "service": versions[0].service_id,
    }


def snapshot(funnels) -> list:
    """Every figure the page shows, comparable with ==."""
    return [
        (
            f.version_id,
            f.started,
            f.submitted,
            f.abandoned,
            f.median_to_complete,
            [(s.step_id, s.reached, s.abandoned) for s in f.steps],
            [(x.key, x.reached, x.failures, x.drafts_failed) for x in f.fields],
        )
        for f in funnels
    ]


def filters(history) -> list[FunnelFilter]:
    today = NOW.date()
    v1, v2 = history["versions"]
    days = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    periods = [
        (None, None),
        (days(90), None),
        (days(149), days(3)),
        (days(120), days(40)),  # crosses month boundaries on both sides
        (days(70), days(65)),  # inside one month
        (today.replace(day=1) - datetime.timedelta(days=31), None),
        (days(10), None),  # open days only
        (None, days(60)),
        (days(45), days(45)),
    ]
    result = []
    for start, end in periods:
        for extra in (
            {},
            {"kreis_id": history["kreise"][0]},
            {"kreis_id": history["kreise"][1]},
            {"service_id": history["service"]},
            {"service_id": history["service"], "kreis_id": history["kreise"][0]},
            {"version_id": v1.id},
            {"version_id": v2.id, "kreis_id": history["kreise"][1]},
        ):
            result.append(FunnelFilter(date_from=start, date_to=end, **extra))
    return result


def test_rolled_up_figures_equal_the_raw_computation_for_every_filter():
    history = build_history()
    horizon = funnel_rollup_refresh(now=NOW)
    # Open drafts (recent, not submitted) hold the horizon back; older days are closed.
    assert horizon == funnel_rollup_horizon(now=NOW)
    assert NOW.date() - datetime.timedelta(days=40) < horizon < NOW.date()
    assert FunnelRollup.objects.filter(period="m").exists()
    assert FunnelRollup.objects.filter(period="d", kreis=0).exists()
    compared = 0
    for flt in filters(history):
        raw = snapshot(funnel_versions(flt=flt, now=NOW, rolled_up=False))
        rolled = snapshot(funnel_versions(flt=flt, now=NOW))
        assert rolled == raw, flt
        compared += bool(raw)
    assert compared > 40
    # Negative control: the page really reads the roll-up (a changed row changes the figures).
    row = FunnelRollup.objects.filter(period="m", kreis=0).first()
    row.started += 1000
    row.save()
    everything = FunnelFilter(version_id=row.form_version_id)
    assert snapshot(funnel_versions(flt=everything, now=NOW)) != snapshot(
        funnel_versions(flt=everything, now=NOW, rolled_up=False)
    )


def test_refresh_is_idempotent_and_catches_up_day_by_day():
    history = build_history(seed=11)
    flt = FunnelFilter(service_id=history["service"])
    first_horizon = funnel_rollup_refresh(now=NOW - datetime.timedelta(days=20))
    assert FunnelRollupState.objects.get().closed_until == first_horizon
    later = NOW
    horizon = funnel_rollup_refresh(now=later)
    assert horizon >= first_horizon
    rows = sorted(FunnelRollup.objects.values_list("period", "start", "form_version", "kreis"))
    again = funnel_rollup_refresh(now=later)
    assert again == horizon
    assert (
        sorted(FunnelRollup.objects.values_list("period", "start", "form_version", "kreis")) == rows
    )
    rebuilt = funnel_rollup_refresh(now=later, rebuild=True)
    assert rebuilt == horizon
    assert snapshot(funnel_versions(flt=flt, now=later)) == snapshot(
        funnel_versions(flt=flt, now=later, rolled_up=False)
    )


def test_purging_expired_drafts_changes_no_past_figure():
    history = build_history(seed=3)
    funnel_rollup_refresh(now=NOW)
    flt = FunnelFilter(service_id=history["service"])
    before = snapshot(funnel_versions(flt=flt, now=NOW))
    assert draft_purge_expired(now=NOW) > 100
    assert not Draft.objects.filter(expires_at__lte=NOW).exclude(data={}).exists()
    funnel_rollup_refresh(now=NOW)
    assert snapshot(funnel_versions(flt=flt, now=NOW)) == before
    assert snapshot(funnel_versions(flt=flt, now=NOW, rolled_up=False)) == before


def test_median_of_whole_minutes_interpolates_like_percentile_cont():
    assert median_minutes({}) is None
    assert median_minutes({10: 1}) == datetime.timedelta(minutes=10)
    assert median_minutes({10: 1, 20: 1}) == datetime.timedelta(minutes=15)
    assert median_minutes({10: 2, 20: 1}) == datetime.timedelta(minutes=10)
    assert median_minutes({1: 1, 2: 1, 7: 1, 9: 1}) == datetime.timedelta(minutes=4.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(%s) x",
            [[1, 2, 7, 9]],
        )
        assert cursor.fetchone()[0] == 4.5


def test_beat_job_and_command_refresh_the_roll_up(capsys):
    build_history(seed=5)
    job = settings.CELERY_BEAT_SCHEDULE["backoffice.funnel_rollup_refresh"]
    assert job["task"] == "backoffice.tasks.funnel_rollup_refresh"
    app.loader.import_default_modules()
    assert job["task"] in app.tasks
    horizon = task()
    assert horizon == str(FunnelRollupState.objects.get().closed_until)
    assert FunnelRollup.objects.exists()
    call_command("funnel_rollup", "--rebuild")
    assert f"complete up to {horizon}" in capsys.readouterr().out
