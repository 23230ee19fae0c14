"""Overview pages: per office for leads, statewide for the Kompetenzzentrum; counts only."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.utils import timezone

from backoffice.case_selectors import office_overview, statewide_statistics
from submissions.models import Draft, Submission
from submissions.tallies import tallies_rebuild, tally_submitted
from tests.backoffice.backoffice_support import make_staff, two_offices
from tests.factories import FormVersionFactory, GemeindeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12, 0))


def _case(office, *, days_old, status="received", decided_days_ago=None, service=None, **kw):
    kwargs = {"form_version__service": service} if service else {}
    case = SubmissionFactory(office=office, status=status, **kwargs, **kw)
    Submission.objects.filter(pk=case.pk).update(
        submitted_at=NOW - datetime.timedelta(days=days_old),
        decided_at=NOW - datetime.timedelta(days=decided_days_ago)
        if decided_days_ago is not None
        else None,
    )
    return case


def test_office_overview_counts_open_cases_by_age_and_throughput():
    office_a, office_b = two_offices()
    for days in (0, 7, 8, 30, 31, 90, 91, 400):
        _case(office_a, days_old=days)
    _case(office_a, days_old=40, status="approved", decided_days_ago=3)
    _case(office_a, days_old=50, status="rejected", decided_days_ago=31)
    _case(office_b, days_old=1)
    [overview] = office_overview(office_ids={office_a.pk}, now=NOW)
    assert overview.open_by_age == [
        ("0–7 Tage", 2),
        ("8–30 Tage", 2),
        ("31–90 Tage", 2),
        ("über 90 Tage", 2),
    ]
    assert overview.open_total == 8
    assert overview.received_30d == 4  # 0, 7, 8 and 30 days old
    assert overview.decided_30d == 1
    assert {label: n for _s, label, n in overview.decided_by_status_30d}["bewilligt"] == 1


def test_statewide_statistics_per_service_month_completion_and_median():
    office, _ = two_offices()
    version = FormVersionFactory(service__name_de="Hundeanmeldung")
    gemeinde = GemeindeFactory(name="Rhönblick")
    for days, decided in ((5, 1), (6, 2), (40, None)):
        case = SubmissionFactory(office=office, form_version=version, gemeinde=gemeinde)
        Submission.objects.filter(pk=case.pk).update(
            submitted_at=NOW - datetime.timedelta(days=days),
            decided_at=NOW - datetime.timedelta(days=decided) if decided else None,
            status="approved" if decided else "received",
        )
    for index, submitted in enumerate((True, True, False, False)):
        draft = Draft.objects.create(
            token_hash=hashlib.sha256(str(index).encode()).hexdigest(),
            service=version.service,
            form_version=version,
            gemeinde=gemeinde,
            expires_at=NOW + datetime.timedelta(days=30),
            submitted_at=NOW if submitted else None,
        )
        Draft.objects.filter(pk=draft.pk).update(created_at=NOW - datetime.timedelta(days=2))
    tallies_rebuild()  # the rows above were written around the services
    stats = statewide_statistics(now=NOW, selected_month=datetime.date(2026, 6, 1))
    june, may = datetime.date(2026, 6, 1), datetime.date(2026, 5, 1)
    assert stats.per_service_month[(june, "Hundeanmeldung")] == 2
    assert stats.per_service_month[(may, "Hundeanmeldung")] == 1
    # The Kreise by default; the Gemeinden of one Kreis on request.
    kreis = gemeinde.kreis
    [kreis_row] = [row for row in stats.area_rows if row.key == kreis.key]
    assert kreis_row.name == kreis.name and kreis_row.total == 2
    assert kreis_row.counts[stats.services.index("Hundeanmeldung")] == 2
    in_kreis = statewide_statistics(
        now=NOW, selected_month=datetime.date(2026, 6, 1), kreis_key=kreis.key
    )
    assert in_kreis.selected_kreis == (kreis.key, kreis.name)
    [village] = [row for row in in_kreis.area_rows if row.name == "Rhönblick"]
    assert (village.key, village.total) == (gemeinde.ags, 2)
    assert stats.completion[-1] == (june, 4, 2, 0.5)
    [(name, count, median)] = stats.median_processing
    assert (name, count) == ("Hundeanmeldung", 2)
    assert median == datetime.timedelta(days=4)  # (5-1) and (6-2) days


def test_overview_pages_by_role_without_personal_data():
    office_a, office_b = two_offices()
    case = _case(office_a, days_old=3)
    _case(office_b, days_old=3)
    lead = make_staff("lead_ov", "lead", [office_a])
    clerk = make_staff("clerk_ov", "clerk", [office_a])
    editor = make_staff("kz_ov", "kompetenzzentrum")
    page = lead.client.get("/admin/backoffice/uebersicht/")
    assert page.status_code == 200
    body = page.content.decode()
    assert office_a.name in body and office_b.name not in body
    assert case.applicant_name not in body and case.reference not in body
    assert clerk.client.get("/admin/backoffice/uebersicht/").status_code == 404
    assert clerk.client.get("/admin/backoffice/statistik/").status_code == 404
    assert lead.client.get("/admin/backoffice/statistik/").status_code == 404
    page = editor.client.get("/admin/backoffice/statistik/?monat=<script>")
    assert page.status_code == 200
    assert case.applicant_name not in page.content.decode()
    assert "<script>" not in page.content.decode()


def test_statewide_page_figures_are_current_and_per_month():
    office, _ = two_offices()
    editor = make_staff("kz_cache", "kompetenzzentrum")
    first = editor.client.get("/admin/backoffice/statistik/").context["statistics"]
    case = SubmissionFactory(office=office, submitted_at=timezone.now())
    tally_submitted(submission=case)  # what submission_submit does in its transaction
    current = editor.client.get("/admin/backoffice/statistik/").context["statistics"]
    # No cache in front of the tallies: the new case counts at once.
    assert sum(current.per_service_month.values()) == sum(first.per_service_month.values()) + 1
    other_month = editor.client.get("/admin/backoffice/statistik/?monat=2025-01")
    assert other_month.context["statistics"].selected_month == datetime.date(2025, 1, 1)
