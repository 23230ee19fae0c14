"""Case work: a case walked from received to approved, the citizen notified at each step."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from backoffice.casework import CaseWorkError, case_add_note, case_assign, case_transition
from backoffice.models import AuditEntry, StatusNotification
from submissions.models import Submission, SubmissionEvent
from tests.backoffice.backoffice_support import SMTPServer, make_case, make_staff, two_offices
from tests.support.worker import wait_until

BASE = "/admin/submissions/submission"


@pytest.mark.worker
def test_case_walks_from_received_to_approved_with_citizen_notified_and_audited(
    start_worker, tmp_path
):
    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-WALK-0001", language="de")
    clerk = make_staff("walker", "clerk", [office])
    with SMTPServer() as smtp:
        worker = start_worker(
            queues="default,email",
            env={"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port)},
        )
        assert clerk.client.get(f"{BASE}/{case.pk}/change/").status_code == 200
        response = clerk.client.post(f"{BASE}/{case.pk}/assign/", {"assignee": "me"})
        assert response.status_code == 302
        steps = [
            ("in_progress", ""),
            ("info_requested", "Bitte reichen Sie den Mietvertrag nach."),
            ("in_progress", ""),
            ("approved", "Ihr Antrag wurde bewilligt."),
        ]
        for number, (status, comment) in enumerate(steps, start=1):
            if status == "info_requested":
                # Asking is its own page with a deadline (backoffice.info_requests).
                deadline = timezone.localdate() + datetime.timedelta(days=14)
                response = clerk.client.post(
                    f"{BASE}/{case.pk}/rueckfrage/",
                    {"question": comment, "deadline": deadline.isoformat()},
                )
            elif status == "approved":
                # Decisions go through the decision page's confirmation (test_decisions).
                response = clerk.client.post(
                    f"{BASE}/{case.pk}/decision/",
                    {"step": "confirm", "outcome": status, "message": comment, "with_letter": "0"},
                )
            else:
                response = clerk.client.post(
                    f"{BASE}/{case.pk}/transition/", {"to_status": status, "comment": comment}
                )
            assert response.status_code == 302
            case.refresh_from_db()
            assert case.status == status
            wait_until(
                lambda n=number: len(smtp.mailbox.messages) >= n,
                timeout=30,
                message=f"e-mail {number} not delivered:\n{worker.log()}",
            )
            mail = smtp.mailbox.messages[number - 1]
            assert mail["To"] == "erika@example.org"
            assert case.reference in mail["Subject"]
            assert str(Submission.Status(status).label) in mail["Subject"]
            if comment:
                assert comment in mail.get_content()
        assert len(smtp.mailbox.messages) == 4
    case.refresh_from_db()
    assert case.decided_at is not None
    assert case.assigned_to == clerk.user
    events = SubmissionEvent.objects.filter(
        submission=case, kind__in=("status_changed", "info_requested")
    )
    assert [(e.from_status, e.to_status) for e in events] == [
        ("received", "in_progress"),
        ("in_progress", "info_requested"),
        ("info_requested", "in_progress"),
        ("in_progress", "approved"),
    ]
    assert all(e.visible_to_citizen and e.actor == clerk.user for e in events)
    assert not SubmissionEvent.objects.get(submission=case, kind="assigned").visible_to_citizen
    assert (
        StatusNotification.objects.filter(event__submission=case, sent_at__isnull=False).count()
        == 4
    )
    trail = list(
        AuditEntry.objects.filter(submission=case)
        .order_by("created_at", "id")
        .values_list("action", "detail", "actor_username")
    )
    assert trail == [
        ("view_case", "", "walker"),
        ("assign", "- -> walker", "walker"),
        ("transition", "received -> in_progress", "walker"),
        (
            "transition",
            f"in_progress -> info_requested (Rückfrage {case.info_requests.get().pk}, "
            f"Frist {case.info_requests.get().deadline.isoformat()})",
            "walker",
        ),
        ("transition", "info_requested -> in_progress", "walker"),
        ("transition", "in_progress -> approved", "walker"),
    ]


@pytest.mark.django_db
class TestRules:
    @pytest.fixture
    def setup(self):
        office_a, office_b = two_offices()
        case = make_case(office=office_a, reference="TH-2026-RULE-0001")
        clerk = make_staff("rule_clerk", "clerk", [office_a], login=False)
        other = make_staff("rule_other", "clerk", [office_a], login=False)
        lead = make_staff("rule_lead", "lead", [office_a], login=False)
        foreign = make_staff("rule_foreign", "clerk", [office_b], login=False)
        return case, clerk.user, other.user, lead.user, foreign.user

    def test_comment_is_required_for_info_request_and_rejection(self, setup):
        case, clerk, *_ = setup
        case_transition(submission=case, to_status="in_progress", actor=clerk)
        for status in ("info_requested", "rejected"):
            for comment in ("", "   ", "\x00\x01"):
                with pytest.raises(CaseWorkError):
                    case_transition(submission=case, to_status=status, actor=clerk, comment=comment)
        case.refresh_from_db()
        assert case.status == "in_progress"

    def test_forbidden_transitions_are_refused(self, setup):
        case, clerk, *_ = setup
        for status in ("approved", "rejected", "info_requested", "received", "bogus", "<b>"):
            with pytest.raises(CaseWorkError):
                case_transition(submission=case, to_status=status, actor=clerk, comment="x")
        case_transition(submission=case, to_status="in_progress", actor=clerk)
        case_transition(submission=case, to_status="approved", actor=clerk)
        with pytest.raises(CaseWorkError):
            case_transition(submission=case, to_status="in_progress", actor=clerk)

    def test_citizen_can_withdraw_without_a_comment(self, setup):
        case, *_ = setup
        event = case_transition(submission=case, to_status="withdrawn", actor=None)
        case.refresh_from_db()
        assert case.status == "withdrawn" and case.decided_at is not None
        assert event.visible_to_citizen and event.actor is None
        with pytest.raises(CaseWorkError):
            case_transition(submission=case, to_status="in_progress", actor=None)

    def test_clerk_of_another_office_cannot_use_the_services(self, setup):
        case, _clerk, _other, _lead, foreign = setup
        with pytest.raises(Submission.DoesNotExist):
            case_transition(submission=case, to_status="in_progress", actor=foreign)
        with pytest.raises(Submission.DoesNotExist):
            case_assign(submission=case, assignee=foreign, actor=foreign)
        with pytest.raises(Submission.DoesNotExist):
            case_add_note(submission=case, actor=foreign, text="x")

    def test_clerk_takes_a_case_but_only_the_lead_assigns_others(self, setup):
        case, clerk, other, lead, foreign = setup
        with pytest.raises(CaseWorkError):
            case_assign(submission=case, assignee=other, actor=clerk)
        case_assign(submission=case, assignee=clerk, actor=clerk)
        assert case.assigned_to == clerk
        case_assign(submission=case, assignee=other, actor=lead)
        assert case.assigned_to == other
        with pytest.raises(CaseWorkError):
            case_assign(submission=case, assignee=foreign, actor=lead)

    def test_notes_are_internal_and_hostile_text_is_stored_safely(self, setup):
        case, clerk, *_ = setup
        with pytest.raises(CaseWorkError):
            case_add_note(submission=case, actor=clerk, text="")
        with pytest.raises(CaseWorkError):
            case_add_note(submission=case, actor=clerk, text="x" * 10_001)
        note = case_add_note(
            submission=case, actor=clerk, text="<script>alert(1)</script>\x00 Rückruf"
        )
        assert note.text == "<script>alert(1)</script> Rückruf"
        assert not SubmissionEvent.objects.filter(submission=case, visible_to_citizen=True).exists()

    def test_case_page_shows_answers_history_and_escapes_html(self, setup, client):
        case, clerk, *_ = setup
        case_add_note(submission=case, actor=clerk, text="<script>alert(1)</script>")
        staff = make_staff("page_clerk", "clerk", [case.office])
        page = staff.client.get(f"{BASE}/{case.pk}/change/").content.decode()
        assert "Erika Mustermann" in page
        assert "Bello" in page
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;" in page
        assert case.office.name in page
        assert "Verlauf" in page


@pytest.mark.worker
def test_status_email_whose_task_was_lost_is_sent_by_the_resend_job(start_worker, clean_broker):
    import datetime

    from django.utils import timezone

    from backoffice.casework import case_resend_pending_notifications

    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-LOST-0001")
    clerk = make_staff("lost_clerk", "clerk", [office], login=False)
    case_transition(submission=case, to_status="in_progress", actor=clerk.user)
    notification = StatusNotification.objects.get(event__submission=case)
    clean_broker.flushdb()  # the queued task is lost with the broker's data
    # Too fresh to be considered lost yet.
    assert case_resend_pending_notifications() == 0
    StatusNotification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    with SMTPServer() as smtp:
        worker = start_worker(
            queues="default,email",
            env={"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port)},
        )
        assert case_resend_pending_notifications() == 1
        wait_until(
            lambda: len(smtp.mailbox.messages) == 1,
            timeout=30,
            message=f"the resent e-mail did not arrive:\n{worker.log()}",
        )
        notification.refresh_from_db()
        assert notification.sent_at is not None
        # Sent once: a second sweep finds nothing to do.
        assert case_resend_pending_notifications() == 0
    assert "in Bearbeitung" in smtp.mailbox.messages[0]["Subject"]
