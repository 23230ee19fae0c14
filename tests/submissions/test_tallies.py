"""The statistics' tallies equal a COUNT over the submissions after any history of changes."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count, DurationField, ExpressionWrapper, F
from django.db.models.functions import TruncMonth
from django.utils import timezone

from backoffice.casework import case_transition
from backoffice.decisions import case_reopen
from backoffice.info_requests import case_request_info
from backoffice.texts import CaseWorkError
from submissions.info_requests import info_request_answer
from submissions.models import DecisionTally, ServiceTally, Submission, SubmissionTally
from submissions.pipeline import Step, pipeline_render_pdfs
from submissions.services import DraftAlreadySubmitted, submission_submit
from submissions.tallies import tallies_rebuild
from submissions.withdrawal import submission_withdraw
from tests.backoffice.backoffice_support import make_staff
from tests.submissions.conftest import make_answers, make_draft

pytestmark = pytest.mark.django_db(transaction=True)


def tallied() -> dict[tuple, int]:
    return {
        (t.month, t.gemeinde_id, t.service_id, t.status): t.count
        for t in SubmissionTally.objects.exclude(count=0)
    }


def counted() -> dict[tuple, int]:
    """The same figures the slow way: a COUNT over the submissions."""
    rows = (
        Submission.objects.annotate(month=TruncMonth("submitted_at"))
        .values_list("month", "gemeinde_id", "service_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        (month.date(), gemeinde, service, status): n for month, gemeinde, service, status, n in rows
    }


def by_service(counts: dict[tuple, int]) -> dict[tuple, int]:
    """Per-Gemeinde counts summed to (month, service, status)."""
    result: dict[tuple, int] = {}
    for (month, _gemeinde, service, status), n in counts.items():
        result[(month, service, status)] = result.get((month, service, status), 0) + n
    return result


def service_tallied() -> dict[tuple, int]:
    return {
        (t.month, t.service_id, t.status): t.count for t in ServiceTally.objects.exclude(count=0)
    }


def decisions_tallied() -> dict[tuple, int]:
    return {
        (t.month, t.service_id, t.days): t.count for t in DecisionTally.objects.exclude(count=0)
    }


def decisions_counted() -> dict[tuple, int]:
    took = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    result: dict[tuple, int] = {}
    for service, decided_at, duration in (
        Submission.objects.filter(status__in=["approved", "rejected"])
        .annotate(took=took)
        .values_list("service_id", "decided_at", "took")
    ):
        key = (
            timezone.localdate(decided_at).replace(day=1),
            service,
            int(duration.total_seconds() // 86400),
        )
        result[key] = result.get(key, 0) + 1
    return result


def test_tallies_follow_submits_transitions_withdrawals_and_equal_a_rebuild(office_setup):
    clerk = make_staff("clerk_tally", "clerk", [office_setup["office"]])
    filed = []
    for index in range(6):
        draft = make_draft(office_setup)
        submission, _secret = submission_submit(
            draft=draft, answers=make_answers(name=f"Person {index}"), language="de"
        )
        filed.append(submission)
    # A double click files once and counts once.
    with pytest.raises(DraftAlreadySubmitted):
        submission_submit(draft=draft, answers=make_answers(), language="de")
    assert tallied() == counted()
    assert service_tallied() == by_service(counted())
    assert sum(tallied().values()) == 6

    # received -> forwarded by the pipeline (the inbox delivery with the PDFs).
    for submission in filed[:4]:
        assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    # A re-run changes nothing.
    assert pipeline_render_pdfs(submission_id=filed[0].pk) is Step.DONE
    assert tallied() == counted()
    assert service_tallied() == by_service(counted())

    # Case work: in progress, a request, decisions; a refused transition counts nothing.
    for submission in filed[:3]:
        case_transition(submission=submission, to_status="in_progress", actor=clerk.user)
    # A Rückfrage (its own service) and the citizen's answer move the case there and back.
    request = case_request_info(
        submission=filed[1],
        actor=clerk.user,
        question="Nachweis?",
        deadline=timezone.localdate() + datetime.timedelta(days=14),
    )
    assert tallied() == counted()
    info_request_answer(submission_id=filed[1].pk, request_id=request.pk, answer="Anbei.")
    case_transition(submission=filed[0], to_status="approved", actor=clerk.user)
    case_transition(
        submission=filed[1], to_status="rejected", actor=clerk.user, comment="Fehlt weiterhin."
    )
    with pytest.raises(CaseWorkError):
        case_transition(submission=filed[0], to_status="in_progress", actor=clerk.user)
    assert tallied() == counted()
    assert decisions_tallied() == decisions_counted()
    # The office lead reopens a decision: its count is taken back; deciding again counts anew.
    lead = make_staff("lead_tally", "lead", [office_setup["office"]])
    case_reopen(submission=filed[1], actor=lead.user, reason="Nachweis doch vorhanden")
    assert tallied() == counted()
    assert decisions_tallied() == decisions_counted()
    case_transition(
        submission=filed[1], to_status="rejected", actor=clerk.user, comment="Doch abgelehnt."
    )
    assert tallied() == counted()
    assert service_tallied() == by_service(counted())

    # Withdrawals: by the citizen (received and in progress) and by staff.
    submission_withdraw(submission_id=filed[5].pk, reason="")
    submission_withdraw(submission_id=filed[2].pk, reason="Umgezogen")
    case_transition(
        submission=filed[3], to_status="withdrawn", actor=clerk.user, comment="Telefonisch"
    )
    assert tallied() == counted()
    assert service_tallied() == by_service(counted())
    assert {status: n for (_m, _g, _s, status), n in tallied().items()} == {
        "approved": 1,
        "rejected": 1,
        "withdrawn": 3,
        "received": 1,
    }
    # Two decisions (withdrawals are not processing times), each in its hour bucket.
    assert decisions_tallied() == decisions_counted()
    assert sum(decisions_tallied().values()) == 2

    # The rebuild from the submissions finds exactly what was kept current.
    before, services_before, decisions_before = tallied(), service_tallied(), decisions_tallied()
    tallies_rebuild()
    assert tallied() == before
    assert service_tallied() == services_before
    assert decisions_tallied() == decisions_before


def test_rebuild_counts_rows_written_around_the_services(office_setup):
    submission, _secret = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    # An import or a restore writes rows directly: the tallies know nothing of them.
    earlier = timezone.now() - datetime.timedelta(days=400)
    Submission.objects.filter(pk=submission.pk).update(
        submitted_at=earlier, status="approved", decided_at=earlier + datetime.timedelta(hours=50)
    )
    assert tallied() != counted()
    rows = tallies_rebuild()
    assert tallied() == counted()
    assert service_tallied() == by_service(counted())
    assert decisions_tallied() == decisions_counted()
    assert list(decisions_tallied().values()) == [1]
    assert [key[2] for key in decisions_tallied()] == [2]  # 50 hours: two whole days
    assert rows == {"submission_tallies": 1, "service_tallies": 1, "decision_tallies": 1}
