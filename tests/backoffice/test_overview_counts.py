"""The office overview reads index-only counts; its figures must equal the old scan's.

The reference is the grouped scan of the submissions the overview used before
(tests/backoffice/overview_reference.py). Both run on the same generated cases:
every status, ages on and around each bucket's edges, decisions inside and
outside the 30 days (also on reopened cases, which keep an old decision time),
cases assigned to members, to someone who left the office and to nobody, cases
without an office and cases filed "in the future" (a clock skew).
"""

from __future__ import annotations

import datetime
import random

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.case_selectors import office_overview
from submissions.models import Submission
from tests.backoffice.backoffice_support import make_staff
from tests.backoffice.overview_reference import office_overview_scanned
from tests.factories import OfficeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 12, 0))
STATUSES = [value for value, _label in Submission.Status.choices]
# Days old on and around every edge: the age buckets (8, 31, 91) and the 30 days.
EDGES = [-1, 0, 7, 8, 29, 30, 31, 90, 91, 92, 400]


def _generated_cases(offices, people, *, n: int = 600) -> None:
    """`n` cases spread over `offices` (and none), statuses, ages, decisions and assignees."""
    template = SubmissionFactory(office=offices[0])
    rng = random.Random(15)
    cases = []
    for i in range(n):
        days = rng.choice(EDGES) if i % 3 else rng.uniform(-2, 500)
        # On an edge to the second, and a second either side of it.
        submitted = NOW - datetime.timedelta(days=days, seconds=rng.choice([-1, 0, 0, 1]))
        status = rng.choice(STATUSES)
        decided = None
        if status in ("approved", "rejected", "withdrawn") or rng.random() < 0.1:
            decided = NOW - datetime.timedelta(days=rng.choice([0, 29, 30, 31, 60]))
        cases.append(
            Submission(
                reference=f"TH-2026-GEN{i:05d}",
                access_secret_hash=template.access_secret_hash,
                service_id=template.service_id,
                form_version_id=template.form_version_id,
                gemeinde_id=template.gemeinde_id,
                office=rng.choice([*offices, None]),
                status=status,
                submitted_at=submitted,
                decided_at=decided,
                assigned_to=rng.choice([*people, None, None]),
            )
        )
    Submission.objects.bulk_create(cases)


def test_office_overview_equals_the_scan_of_the_submissions_on_generated_cases():
    offices = [OfficeFactory() for _ in range(3)]
    lead = make_staff("lead_gen", "lead", offices[:2], login=False)
    clerk = make_staff("clerk_gen", "clerk", [offices[0]], login=False)
    # Left the office: still assigned cases, no membership any more.
    former = get_user_model().objects.create_user("former_gen", first_name="Frieda")
    _generated_cases(offices, [lead.user, clerk.user, former])
    for office_ids in ({offices[0].pk}, {offices[0].pk, offices[1].pk}, None):
        new = office_overview(office_ids=office_ids, now=NOW)
        old = office_overview_scanned(office_ids=office_ids, now=NOW)
        assert new == old
        assert sum(o.open_total for o in new) > 0 and sum(o.decided_30d for o in new) > 0
    # The edges are where a changed condition would show: a second later, other figures.
    later = NOW + datetime.timedelta(seconds=1)
    assert office_overview(office_ids=None, now=later) == office_overview_scanned(
        office_ids=None, now=later
    )


def test_office_overview_lists_offices_without_cases_for_their_lead_only():
    with_cases, without = OfficeFactory(), OfficeFactory()
    # Cases long decided: nothing open, nothing in the last 30 days.
    old = SubmissionFactory(office=with_cases, status="approved")
    Submission.objects.filter(pk=old.pk).update(
        submitted_at=NOW - datetime.timedelta(days=400),
        decided_at=NOW - datetime.timedelta(days=300),
    )
    everyone = {o.office_id for o in office_overview(office_ids=None, now=NOW)}
    assert with_cases.pk in everyone and without.pk not in everyone
    assert everyone == {o.office_id for o in office_overview_scanned(office_ids=None, now=NOW)}
    [empty] = office_overview(office_ids={without.pk}, now=NOW)
    assert (empty.open_total, empty.received_30d, empty.decided_30d) == (0, 0, 0)


def test_office_overview_page_query_count_is_pinned():
    offices = [OfficeFactory() for _ in range(2)]
    lead = make_staff("lead_queries", "lead", offices)
    _generated_cases(offices, [lead.user], n=60)
    lead.client.get("/admin/backoffice/uebersicht/")  # warm-up (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = lead.client.get("/admin/backoffice/uebersicht/")
    assert response.status_code == 200
    # Session, user, OTP device, memberships, permissions, then the overview's reads
    # (offices, open cases, received, decided, staff), the audit entry, the admin's
    # navigation and the session. Three of them read the submissions, each from an index.
    overview = [q["sql"] for q in queries.captured_queries if "submissions_submission" in q["sql"]]
    assert len(overview) == 3, overview
    assert len(queries) == 23, "\n".join(q["sql"][:200] for q in queries.captured_queries)
