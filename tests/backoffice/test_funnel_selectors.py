"""Funnel figures computed by SQL over a constructed history of drafts: exact expected numbers."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from backoffice.funnel_selectors import FunnelFilter, funnel_versions
from backoffice.templatetags.funnel_figures import funnel_bar, funnel_count, funnel_rate
from citizen.drafts import draft_purge_expired
from submissions.models import Draft
from tests.citizen.citizen_support import municipality, publish

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12, 0))
# Positions in SMALL_DEFINITION: halter 0, hund 1, gefahr 2 (conditional), nachweise 3, check 4.
HALTER, HUND, GEFAHR, NACHWEISE, CHECK = range(5)


def make_draft(
    version,
    gemeinde,
    reached: set[int],
    *,
    created_days_ago: float = 5,
    idle_hours: float = 72,
    minutes_to_submit: int | None = None,
    expired: bool = False,
    errors: dict[str, int] | None = None,
) -> Draft:
    created = NOW - datetime.timedelta(days=created_days_ago)
    draft = Draft.objects.create(
        token_hash=uuid.uuid4().hex,
        service=version.service,
        form_version=version,
        gemeinde=gemeinde,
        expires_at=NOW - datetime.timedelta(hours=1)
        if expired
        else NOW + datetime.timedelta(days=20),
        steps_reached=sum(1 << p for p in reached),
        furthest_step=max(reached),
        field_errors=errors or {},
    )
    # created_at and updated_at are set automatically on save: write the history directly.
    Draft.objects.filter(pk=draft.pk).update(
        created_at=created,
        updated_at=NOW - datetime.timedelta(hours=idle_hours),
        submitted_at=created + datetime.timedelta(minutes=minutes_to_submit)
        if minutes_to_submit is not None
        else None,
    )
    return draft


@pytest.fixture
def history():
    v1 = publish()
    v2 = publish()
    gemeinde_a, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    gemeinde_b, _ = municipality("Erfurt", "Stadtverwaltung Erfurt")
    # Version 1, Kreis A.
    make_draft(v1, gemeinde_a, {HALTER}, errors={"vorname": 2, "email": 1})  # abandoned at 0
    make_draft(v1, gemeinde_a, {HALTER, HUND}, idle_hours=2, errors={"email": 1})  # in progress
    for index, minutes in enumerate((10, 20, 30, 40, 50)):
        make_draft(
            v1,
            gemeinde_a,
            {HALTER, HUND, NACHWEISE, CHECK},
            minutes_to_submit=minutes,
            errors={"versicherung": 3} if index == 0 else None,
        )
    # Expired at the documents step (after the conditional step), touched an hour ago.
    make_draft(
        v1,
        gemeinde_a,
        {HALTER, HUND, GEFAHR, NACHWEISE},
        idle_hours=1,
        expired=True,
        errors={":nachweise": 1},
    )
    # Version 1, Kreis B.
    make_draft(v1, gemeinde_b, {HALTER})
    # Version 2, Kreis A.
    make_draft(v2, gemeinde_a, {HALTER})
    make_draft(v2, gemeinde_a, {HALTER}, errors={"vorname": 1})
    # Outside the period.
    make_draft(v1, gemeinde_a, {HALTER}, created_days_ago=200)
    return v1, v2, gemeinde_a.kreis, gemeinde_b.kreis


def period(**kwargs) -> FunnelFilter:
    return FunnelFilter(
        date_from=(NOW - datetime.timedelta(days=30)).date(), date_to=NOW.date(), **kwargs
    )


def test_funnel_per_version_step_and_field_from_a_constructed_history(history):
    v1, v2, _, _ = history
    first, second = funnel_versions(flt=period(service_id=v1.service_id), now=NOW)
    assert (first.version_id, second.version_id) == (v2.id, v1.id)  # newest version first
    assert (second.started, second.submitted, second.abandoned, second.in_progress) == (9, 5, 3, 1)
    assert second.completion_rate == pytest.approx(5 / 9)
    assert second.median_to_complete == datetime.timedelta(minutes=30)
    assert [(s.step_id, s.reached, s.abandoned) for s in second.steps] == [
        ("halter", 9, 2),
        ("hund", 7, 0),
        ("gefahr", 1, 0),
        ("nachweise", 6, 1),
        ("", 5, 0),
    ]
    fields = {f.key: (f.reached, f.failures, f.drafts_failed) for f in second.fields}
    assert fields["vorname"] == (9, 2, 1)
    assert fields["email"] == (9, 2, 2)
    assert fields["nachname"] == (9, 0, 0)
    assert fields["versicherung"] == (6, 3, 1)
    assert fields[":nachweise"] == (6, 1, 1)
    assert fields["gutachten"] == (1, 0, 0)
    by_key = {f.key: f for f in second.fields}
    assert by_key["versicherung"].failure_rate == pytest.approx(3 / 6)
    assert by_key["email"].failed_share == pytest.approx(2 / 9)
    assert (first.started, first.submitted, first.abandoned, first.median_to_complete) == (
        2,
        0,
        2,
        None,
    )
    assert {f.key: f.failures for f in first.fields}["vorname"] == 1


def test_funnel_filters_by_kreis_version_and_period(history):
    v1, v2, kreis_a, kreis_b = history
    [only_b] = funnel_versions(flt=period(service_id=v1.service_id, kreis_id=kreis_b.pk), now=NOW)
    assert (only_b.version_id, only_b.started, only_b.abandoned) == (v1.id, 1, 1)
    in_a = funnel_versions(flt=period(kreis_id=kreis_a.pk), now=NOW)
    assert [(f.version_id, f.started) for f in in_a] == [(v2.id, 2), (v1.id, 8)]
    assert all(f.steps == [] and f.fields == [] for f in in_a)  # the overview: totals only
    assert [f.median_to_complete for f in in_a] == [None, datetime.timedelta(minutes=30)]
    assert (in_a[1].submitted, in_a[1].abandoned) == (5, 2)
    [v2_only] = funnel_versions(flt=period(version_id=v2.id), now=NOW)
    assert v2_only.version_id == v2.id and v2_only.steps[0].reached == 2
    longer = FunnelFilter(date_from=(NOW - datetime.timedelta(days=300)).date(), version_id=v1.id)
    [with_old] = funnel_versions(flt=longer, now=NOW)
    assert with_old.started == 10 and with_old.steps[0].abandoned == 3
    empty = FunnelFilter(date_from=NOW.date() + datetime.timedelta(days=1))
    assert funnel_versions(flt=empty, now=NOW) == []


def test_small_counts_are_shown_as_fewer_than_five_and_rates_over_them_hidden():
    assert funnel_count(0) == "0"
    assert [funnel_count(n) for n in (1, 4)] == ["< 5", "< 5"]
    assert funnel_count(5) == "5"
    assert funnel_rate(1, 4) == "–" and funnel_bar(1, 4) == "funnel-bar--none"
    # A share of a shown whole would give a suppressed part back (1 of 8 = 12.5 %).
    assert funnel_rate(1, 8) == "–" and funnel_bar(1, 8) == "funnel-bar--none"
    assert funnel_rate(0, 8) in {"0.0 %", "0,0 %"}
    assert funnel_rate(5, 8) in {"62.5 %", "62,5 %"}
    assert funnel_bar(5, 8) == "funnel-bar--65" and funnel_bar(9, 8) == "funnel-bar--100"


def test_purging_expired_drafts_keeps_the_funnel_figures(history):
    v1, _, _, _ = history
    Draft.objects.filter(form_version=v1).update(
        data={"answers": {"vorname": "Erika"}}, email="erika@example.org"
    )
    flt = FunnelFilter(version_id=v1.id)

    def figures():
        [funnel] = funnel_versions(flt=flt)
        steps = [(s.reached, s.abandoned) for s in funnel.steps]
        fields = [(f.key, f.failures, f.drafts_failed) for f in funnel.fields]
        return funnel.started, funnel.submitted, funnel.abandoned, steps, fields

    before = figures()
    Draft.objects.update(expires_at=timezone.now())
    assert draft_purge_expired() == Draft.objects.count() == 12
    purged = Draft.objects.filter(form_version=v1)
    assert not purged.exclude(data={}).exists() and not purged.exclude(email="").exists()
    assert figures() == before
