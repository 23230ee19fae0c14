"""Rückfrage from the back office: asking from a template with a deadline, scoping, the
citizen's e-mail, the office lead's templates, and the deadline job (reminder and flag)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from backoffice.casework import ALLOWED_TRANSITIONS, CaseWorkError, case_transition
from backoffice.info_request_tasks import info_request_deadlines
from backoffice.info_requests import case_request_info, info_requests_deadline_sweep
from backoffice.models import AuditEntry, MessageTemplate, StatusNotification
from backoffice.notifications import case_notify_citizen
from submissions.info_requests import info_request_answer
from submissions.models import InfoRequest, Submission, SubmissionEvent
from tests.backoffice.backoffice_support import make_staff
from tests.factories import OfficeFactory
from tests.submissions.info_request_support import ask, clerk_of, filed, in_days

pytestmark = pytest.mark.django_db

BASE = "/admin/submissions/submission"
CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@pytest.fixture
def case(office_setup):
    submission, _secret = filed(office_setup)
    return submission


def _send_pending_mails(submission: Submission) -> None:
    # What the e-mail worker does with the queued tasks.
    for notification in StatusNotification.objects.filter(
        event__submission=submission, sent_at__isnull=True
    ):
        case_notify_citizen(notification_id=notification.pk)


def test_clerk_asks_from_a_template_and_the_citizen_gets_an_email_with_the_status_link(
    case, office_setup, smtp_server
):
    office = office_setup["office"]
    lead = make_staff("rf_lead", "lead", [office])
    response = lead.client.post(
        "/admin/backoffice/messagetemplate/add/",
        {
            "office": office.pk,
            "service": office_setup["service"].pk,
            "title": "Nachweis fehlt",
            "body": "Guten Tag {name},\nzu {aktenzeichen} ({leistung}) fehlt der Nachweis. "
            "Bitte bis {frist} nachreichen.\n{behoerde}",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    template = MessageTemplate.objects.get()
    clerk = clerk_of(office, login=True)

    page = clerk.client.get(f"{BASE}/{case.pk}/rueckfrage/", {"vorlage": template.pk})
    assert page.status_code == 200
    body = page.content.decode()
    # Prefilled and editable; {frist} waits for the deadline chosen on sending.
    assert "Guten Tag Erika Mustermann," in body
    assert f"zu {case.reference} (Hundeanmeldung) fehlt" in body
    assert "Bitte bis {frist} nachreichen." in body and "VG Teststadt" in body
    default = timezone.localdate() + datetime.timedelta(days=14)
    assert f'value="{default.isoformat()}"' in body

    deadline = in_days(10)
    question = (
        f"Guten Tag Erika Mustermann,\nzu {case.reference} fehlt der Nachweis. "
        "Bitte bis {frist} nachreichen."
    )
    response = clerk.client.post(
        f"{BASE}/{case.pk}/rueckfrage/",
        {"question": question, "deadline": deadline.strftime("%d.%m.%Y")},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/{case.pk}/change/"
    case.refresh_from_db()
    assert case.status == "info_requested"
    info = InfoRequest.objects.get(submission=case)
    assert info.deadline == deadline and info.asked_by == clerk.user
    assert f"Bitte bis {deadline:%d.%m.%Y} nachreichen." in info.question
    event = SubmissionEvent.objects.get(submission=case, kind="info_requested")
    assert event.visible_to_citizen and event.comment == info.question
    assert (event.from_status, event.to_status) == ("received", "info_requested")
    entry = AuditEntry.objects.get(submission=case, action="transition")
    assert entry.actor_username == clerk.user.username
    assert f"Rückfrage {info.pk}" in entry.detail

    _send_pending_mails(case)
    (mail,) = smtp_server.messages
    text = smtp_server.text_of(mail)
    assert mail.rcpt_to == ["erika@example.org"]
    assert f"{case.reference}: Rückfrage an Sie" in mail.message["Subject"]
    assert f"Bitte bis {deadline:%d.%m.%Y} nachreichen." in text
    assert re.search(rf"/status/{case.reference}/zugang/[0-9a-f]+/", text)
    assert not CODE_RE.search(text), "the access code must never be in an e-mail"

    # The case page lists the question with its deadline and offers no second one.
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "Rückfragen an die antragstellende Person" in page
    assert "offen, Antwort ausstehend" in page
    assert 'data-testid="ask-info"' not in page


def test_english_citizen_gets_the_question_mail_in_english(office_setup, smtp_server):
    submission, _ = filed(office_setup, language="en")
    clerk = clerk_of(office_setup["office"])
    ask(submission, clerk.user, days=20)
    _send_pending_mails(submission)
    text = smtp_server.text_of(smtp_server.messages[-1])
    assert "Please answer by" in text
    assert "Bitte antworten" not in text


def test_another_office_gets_404_everywhere_and_the_attempt_is_audited(case, office_setup):
    foreign = make_staff("rf_foreign", "clerk", [OfficeFactory(name="Fremdes Amt")])
    for response in (
        foreign.client.get(f"{BASE}/{case.pk}/rueckfrage/"),
        foreign.client.post(
            f"{BASE}/{case.pk}/rueckfrage/",
            {"question": "Wer sind Sie?", "deadline": in_days(5).isoformat()},
        ),
        foreign.client.get(f"{BASE}/999999999/rueckfrage/"),
        foreign.client.get(f"{BASE}/abc/rueckfrage/"),
    ):
        assert response.status_code == 404
    assert (
        AuditEntry.objects.filter(
            action="refused", submission=case, actor_username="rf_foreign"
        ).count()
        == 2
    )
    with pytest.raises(Submission.DoesNotExist):
        case_request_info(submission=case, actor=foreign.user, question="x", deadline=in_days(3))
    case.refresh_from_db()
    assert case.status == "received" and not InfoRequest.objects.exists()


def test_a_template_of_another_office_is_not_offered_or_used(case, office_setup):
    other = OfficeFactory(name="Anderes Amt")
    foreign_template = MessageTemplate.objects.create(
        office=other, service=office_setup["service"], title="Fremd", body="GEHEIMER TEXT"
    )
    clerk = clerk_of(office_setup["office"], login=True)
    page = clerk.client.get(f"{BASE}/{case.pk}/rueckfrage/", {"vorlage": foreign_template.pk})
    assert page.status_code == 200
    assert "GEHEIMER TEXT" not in page.content.decode()
    assert "Fremd" not in page.content.decode()


@pytest.mark.parametrize(
    ("question", "days", "message"),
    [
        ("", 14, "Bitte formulieren Sie die Rückfrage."),
        ("   \x00 ", 14, "Bitte formulieren Sie die Rückfrage."),
        ("Fehlt etwas?", 0, "Die Frist muss in der Zukunft liegen."),
        ("Fehlt etwas?", -3, "Die Frist muss in der Zukunft liegen."),
        ("Fehlt etwas?", 400, "höchstens ein Jahr"),
        ("x" * 10_001, 14, "zu lang"),
    ],
)
def test_bad_questions_and_deadlines_are_refused_and_nothing_changes(
    case, office_setup, question, days, message
):
    clerk = clerk_of(office_setup["office"])
    with pytest.raises(CaseWorkError, match=message):
        case_request_info(
            submission=case, actor=clerk.user, question=question, deadline=in_days(days)
        )
    case.refresh_from_db()
    assert case.status == "received"
    assert (
        not InfoRequest.objects.exists()
        and not SubmissionEvent.objects.filter(kind="info_requested").exists()
    )


def test_the_ask_page_keeps_the_typed_text_on_an_error(case, office_setup):
    clerk = clerk_of(office_setup["office"], login=True)
    for data, message in [
        ({"question": "Bitte Ausweis nachreichen.", "deadline": "gestern"}, "als Datum an"),
        ({"question": "Bitte Ausweis nachreichen.", "deadline": "2001-01-01"}, "Zukunft"),
        ({"question": "y" * 20_000, "deadline": in_days(3).isoformat()}, "zu lang"),
    ]:
        response = clerk.client.post(f"{BASE}/{case.pk}/rueckfrage/", data)
        assert response.status_code == 200
        body = response.content.decode()
        assert message in body
        assert data["question"][:40] in body
    case.refresh_from_db()
    assert case.status == "received"


def test_asking_twice_or_after_the_decision_is_refused(case, office_setup):
    clerk = clerk_of(office_setup["office"], login=True)
    ask(case, clerk.user)
    with pytest.raises(CaseWorkError, match="bereits eine Rückfrage offen"):
        ask(case, clerk.user)
    # Moved on by hand: a new question replaces the unanswered one.
    case_transition(submission=case, to_status="in_progress", actor=clerk.user)
    second = ask(case, clerk.user, question="Neue Frage")
    first = InfoRequest.objects.exclude(pk=second.pk).get()
    assert first.cancelled_at is not None and second.is_open
    case_transition(submission=case, to_status="approved", actor=clerk.user, comment="")
    with pytest.raises(CaseWorkError, match="abgeschlossen"):
        ask(case, clerk.user)
    response = clerk.client.get(f"{BASE}/{case.pk}/rueckfrage/", follow=True)
    assert "keine Rückfrage gestellt werden" in response.content.decode()


def test_the_generic_status_change_no_longer_asks(case, office_setup):
    clerk = clerk_of(office_setup["office"], login=True)
    assert all("info_requested" not in targets for targets in ALLOWED_TRANSITIONS.values())
    case_transition(submission=case, to_status="in_progress", actor=clerk.user)
    with pytest.raises(CaseWorkError):
        case_transition(
            submission=case, to_status="info_requested", actor=clerk.user, comment="Frage"
        )
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert 'option value="info_requested"' not in page
    assert 'data-testid="ask-info"' in page
    # Everything else of the status change stays as it was.
    case_transition(submission=case, to_status="rejected", actor=clerk.user, comment="Nein.")
    case.refresh_from_db()
    assert case.status == "rejected" and case.decided_at is not None


# --- The office lead's templates ---------------------------------------------------


def _template_post(office, service, body, title="Vorlage"):
    return {"office": office.pk, "service": service.pk, "title": title, "body": body}


def test_lead_templates_refuse_unknown_placeholders_and_stray_braces(office_setup):
    office, service = office_setup["office"], office_setup["service"]
    lead = make_staff("rf_lead2", "lead", [office])
    url = "/admin/backoffice/messagetemplate/add/"
    for body, message in [
        ("Hallo {vorname}", "Unbekannte Platzhalter: {vorname}"),
        ("Hallo {name.__class__}", "Unbekannte Platzhalter"),
        ("Hallo {name!r} {frist:>10}", "Unbekannte Platzhalter"),
        ("Hallo {name", "Geschweifte Klammern"),
        ("Betrag } fehlt", "Geschweifte Klammern"),
    ]:
        response = lead.client.post(url, _template_post(office, service, body))
        assert response.status_code == 200
        assert message in response.content.decode(), body
    assert not MessageTemplate.objects.exists()
    ok = _template_post(office, service, "{name}, {aktenzeichen}, {leistung}, {frist}, {behoerde}")
    assert lead.client.post(url, ok).status_code == 302
    assert MessageTemplate.objects.count() == 1


def test_lead_templates_are_scoped_to_the_leads_offices(office_setup):
    office, service = office_setup["office"], office_setup["service"]
    other = OfficeFactory(name="Nachbaramt")
    mine = MessageTemplate.objects.create(office=office, service=service, title="Meine", body="a")
    theirs = MessageTemplate.objects.create(office=other, service=service, title="Fremd", body="b")
    lead = make_staff("rf_lead3", "lead", [office])
    listing = lead.client.get("/admin/backoffice/messagetemplate/")
    assert listing.status_code == 200
    assert "Meine" in listing.content.decode() and "Fremd" not in listing.content.decode()
    base = "/admin/backoffice/messagetemplate"
    assert lead.client.get(f"{base}/{mine.pk}/change/").status_code == 200
    for url in (f"{base}/{theirs.pk}/change/", f"{base}/{theirs.pk}/delete/"):
        assert lead.client.get(url).status_code == 404
        assert lead.client.post(url, _template_post(office, service, "x")).status_code == 404
    # A forged office in the form is a form error, not a template for the other office.
    response = lead.client.post(
        f"{base}/add/", _template_post(other, service, "Hallo", title="Untergeschoben")
    )
    assert response.status_code == 200
    assert not MessageTemplate.objects.filter(title="Untergeschoben").exists()
    theirs.refresh_from_db()
    assert theirs.body == "b"
    # Clerks do not maintain templates.
    clerk = clerk_of(office, "rf_clerk_t", login=True)
    assert clerk.client.get(f"{base}/").status_code == 403


# --- The deadline job ------------------------------------------------------------


def _sweep_on(day: datetime.date):
    now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
    return info_requests_deadline_sweep(now=now)


def test_one_reminder_before_the_deadline_and_one_flag_after_it(case, office_setup, smtp_server):
    clerk = clerk_of(office_setup["office"], login=True)
    info = ask(case, clerk.user, days=10)
    _send_pending_mails(case)
    smtp_server.messages.clear()
    reminder_day = info.deadline - datetime.timedelta(days=settings.PORTAL_INFO_REMINDER_DAYS)

    assert _sweep_on(reminder_day - datetime.timedelta(days=1)).reminded == []
    assert _sweep_on(reminder_day).reminded == [info.pk]
    assert _sweep_on(reminder_day).reminded == []  # a second run sends nothing twice
    assert _sweep_on(info.deadline).reminded == []
    _send_pending_mails(case)
    (mail,) = smtp_server.messages
    assert "Erinnerung" in mail.message["Subject"]
    text = smtp_server.text_of(mail)
    assert info.question in text and re.search(r"/status/TH-[0-9A-Z-]+/zugang/", text)
    assert SubmissionEvent.objects.filter(submission=case, kind="info_reminder_sent").count() == 1

    assert _sweep_on(info.deadline).flagged == []  # the deadline day itself still counts
    after = info.deadline + datetime.timedelta(days=1)
    assert _sweep_on(after).flagged == [info.pk]
    assert _sweep_on(after + datetime.timedelta(days=3)).flagged == []
    info.refresh_from_db()
    assert info.deadline_passed_at is not None and info.reminder_sent_at is not None
    assert SubmissionEvent.objects.filter(submission=case, kind="info_deadline_passed").count() == 1
    assert len(smtp_server.messages) == 1
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "Frist abgelaufen" in page


def test_no_reminder_for_a_short_deadline_an_answered_or_a_decided_case(office_setup):
    clerk = clerk_of(office_setup["office"])
    short_case, _ = filed(office_setup)
    short = ask(short_case, clerk.user, days=2)
    answered_case, _ = filed(office_setup)
    answered = ask(answered_case, clerk.user, days=5)
    info_request_answer(submission_id=answered_case.pk, request_id=answered.pk, answer="Hier.")
    decided_case, _ = filed(office_setup)
    decided = ask(decided_case, clerk.user, days=5)
    case_transition(submission=decided_case, to_status="rejected", actor=clerk.user, comment="N")
    today = timezone.localdate()
    for day in range(0, 12):
        report = _sweep_on(today + datetime.timedelta(days=day))
        assert report.reminded == []
        assert answered.pk not in report.flagged and decided.pk not in report.flagged
    short.refresh_from_db()
    # The short one was not reminded (the question was the reminder) but is flagged.
    assert short.reminder_sent_at is None and short.deadline_passed_at is not None


def test_the_beat_job_is_scheduled_and_its_task_runs_the_sweep(case, office_setup):
    entry = settings.CELERY_BEAT_SCHEDULE["backoffice.info_request_deadlines"]
    assert entry["task"] == info_request_deadlines.name
    assert "backoffice.info_request_tasks" in settings.CELERY_IMPORTS
    clerk = clerk_of(office_setup["office"])
    info = ask(case, clerk.user, days=3)
    InfoRequest.objects.filter(pk=info.pk).update(deadline=in_days(-1))
    assert info_request_deadlines() == {"reminded": 0, "flagged": 1, "answers_renotified": 0}
    assert info_request_deadlines() == {"reminded": 0, "flagged": 0, "answers_renotified": 0}


def test_an_answer_whose_office_mail_was_lost_is_enqueued_again(case, office_setup):
    clerk = clerk_of(office_setup["office"])
    info = ask(case, clerk.user)
    info_request_answer(submission_id=case.pk, request_id=info.pk, answer="Erledigt.")
    assert info_requests_deadline_sweep().answers_renotified == 0  # too fresh to be lost
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert info_requests_deadline_sweep(now=later).answers_renotified == 1


def test_a_new_client_sees_the_case_page_only_after_login(case):
    assert Client().get(f"{BASE}/{case.pk}/rueckfrage/").status_code == 302
