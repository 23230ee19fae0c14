"""Decisions: confirmation, message rules, the Bescheid, reopening and correcting, and scoping."""

from __future__ import annotations

import io

import pypdf
import pytest

from backoffice.casework import case_transition
from backoffice.decisions import (
    DEFAULT_LEGAL_REMEDY,
    case_decide,
    case_reopen,
    decision_correct,
    decision_letter_issue,
    decision_prepare,
)
from backoffice.models import AuditEntry, DecisionTemplate, StatusNotification
from backoffice.notifications import _notification_text
from backoffice.texts import MAX_TEXT_LENGTH, CaseWorkError
from submissions.models import DecisionLetter, Submission, SubmissionEvent
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices

pytestmark = pytest.mark.django_db

BASE = "/admin/submissions/submission"


def letter_text(letter: DecisionLetter) -> str:
    with letter.file.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def world():
    office_a, office_b = two_offices()
    office_a.street, office_a.postcode, office_a.city = "Marktplatz 1", "99084", "Erfurt"
    office_a.phone = "0361 655-0"
    office_a.save()
    case = make_case(office=office_a, reference="TH-2026-DECI-0001")
    foreign_case = make_case(office=office_b, reference="TH-2026-DECI-0002")
    clerk = make_staff("dec_clerk", "clerk", [office_a])
    lead = make_staff("dec_lead", "lead", [office_a])
    foreign = make_staff("dec_foreign", "clerk", [office_b])
    foreign_lead = make_staff("dec_foreign_lead", "lead", [office_b])
    case_transition(submission=case, to_status="in_progress", actor=clerk.user)
    case_transition(submission=foreign_case, to_status="in_progress", actor=foreign.user)
    return {
        "office": office_a,
        "other_office": office_b,
        "case": case,
        "foreign_case": foreign_case,
        "clerk": clerk,
        "lead": lead,
        "foreign": foreign,
        "foreign_lead": foreign_lead,
    }


# --- the services -----------------------------------------------------------------


def test_rejection_needs_a_message_and_approval_does_not(world):
    case, clerk = world["case"], world["clerk"].user
    for message in ("", "   ", "\x00\x01\x02"):
        with pytest.raises(CaseWorkError, match="begründen"):
            case_decide(submission=case, actor=clerk, outcome="rejected", message=message)
    case.refresh_from_db()
    assert case.status == "in_progress" and not case.decision_letters.exists()
    result = case_decide(submission=case, actor=clerk, outcome="approved", with_letter=False)
    case.refresh_from_db()
    assert case.status == "approved" and case.decided_at is not None
    assert result.letter is None and result.event.comment == ""


def test_unknown_outcome_huge_text_and_wrong_types_are_refused_and_change_nothing(world):
    case, clerk = world["case"], world["clerk"].user
    for outcome in ("withdrawn", "in_progress", "", "<b>", "approved " * 3):
        with pytest.raises(CaseWorkError):
            case_decide(submission=case, actor=clerk, outcome=outcome, message="x")
    with pytest.raises(CaseWorkError, match="zu lang"):
        case_decide(
            submission=case, actor=clerk, outcome="rejected", message="x" * (MAX_TEXT_LENGTH + 1)
        )
    with pytest.raises(CaseWorkError):
        case_decide(submission=case, actor=clerk, outcome="rejected", message=["a", "b"])
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert not SubmissionEvent.objects.filter(submission=case, to_status="rejected").exists()


def test_deciding_twice_is_refused(world):
    case, clerk = world["case"], world["clerk"].user
    case_decide(submission=case, actor=clerk, outcome="approved", message="Gute Nachricht.")
    for outcome in ("approved", "rejected"):
        with pytest.raises(CaseWorkError, match="bereits entschieden"):
            case_decide(submission=case, actor=clerk, outcome=outcome, message="Nochmal.")
    assert case.decision_letters.count() == 1
    assert SubmissionEvent.objects.filter(submission=case, kind="status_changed").count() == 2


def test_a_received_case_must_be_in_progress_before_a_decision(world):
    received = make_case(office=world["office"], reference="TH-2026-DECI-0003")
    with pytest.raises(CaseWorkError, match="in Bearbeitung"):
        case_decide(submission=received, actor=world["clerk"].user, outcome="approved")


def test_decision_with_letter_records_history_audit_and_one_notification(world):
    case, clerk = world["case"], world["clerk"].user
    result = case_decide(
        submission=case,
        actor=clerk,
        outcome="rejected",
        message="Der Nachweis fehlt.",
        ip_address="192.0.2.7",
    )
    letter = result.letter
    assert letter.outcome == "rejected" and letter.issued_by == clerk
    assert letter.message == "Der Nachweis fehlt." and letter.superseded_at is None
    kinds = list(case.events.order_by("id").values_list("kind", "to_status", "visible_to_citizen"))
    assert kinds[-2:] == [
        ("status_changed", "rejected", True),
        ("decision_letter_issued", "", True),
    ]
    actions = list(
        AuditEntry.objects.filter(submission=case).order_by("id").values_list("action", "detail")
    )
    assert ("transition", "in_progress -> rejected") in actions
    assert ("issue_decision_letter", f"letter {letter.pk}") in actions
    # One e-mail for the decision; the letter issued with it needs no second one.
    assert StatusNotification.objects.filter(event__submission=case).count() == 2


def test_the_bescheid_pdf_carries_reference_office_address_text_and_legal_remedy(world):
    case, clerk = world["case"], world["clerk"].user
    letter = case_decide(
        submission=case,
        actor=clerk,
        outcome="rejected",
        message="<script>alert(1)</script> Der Nachweis fehlt.",
    ).letter
    text = letter_text(letter)
    assert "TH-2026-DECI-0001" in text
    assert "Stadtverwaltung A" in text and "Marktplatz 1" in text and "99084 Erfurt" in text
    assert "Bescheid" in text and "abgelehnt" in text
    assert "Rechtsbehelfsbelehrung" in text
    assert "innerhalb eines Monats" in text and "Widerspruch" in text
    # The address in the legal remedy comes from the office's contact data.
    assert "bei Stadtverwaltung A, Marktplatz 1, 99084 Erfurt" in " ".join(text.split())
    assert "Erika Mustermann" in text
    assert "<script>alert(1)</script> Der Nachweis fehlt." in text  # printed as text
    assert "{aktenzeichen}" not in text and "{behoerde}" not in text


def test_the_bescheid_is_tagged_pdf_a_like_the_other_pdfs(world):
    letter = case_decide(
        submission=world["case"], actor=world["clerk"].user, outcome="approved"
    ).letter
    with letter.file.open("rb") as handle:
        pdf = handle.read()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "de"
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp
    assert b"pdfaid:conformance" in xmp
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4


def test_office_template_wins_over_the_statewide_one_and_placeholders_are_filled(world):
    case = world["case"]
    DecisionTemplate.objects.create(
        service=case.service,
        outcome="approved",
        body="Landesweit: {leistung} bewilligt.",
    )
    DecisionTemplate.objects.create(
        service=case.service,
        outcome="approved",
        office=world["other_office"],
        body="Andere Behörde.",
    )
    texts = decision_prepare(submission=case, actor=world["clerk"].user, outcome="approved")
    assert texts.body == f"Landesweit: {case.service.name_de} bewilligt."
    assert texts.legal_remedy.startswith(DEFAULT_LEGAL_REMEDY[:40])
    DecisionTemplate.objects.create(
        service=case.service,
        outcome="approved",
        office=world["office"],
        body="Eigene: {aktenzeichen} für {name}, Antrag vom {eingang}, {datum}. {unbekannt} "
        "{leistung.__class__}",
        legal_remedy="Widerspruch bei {behoerde} ({anschrift}).",
    )
    texts = decision_prepare(submission=case, actor=world["clerk"].user, outcome="approved")
    assert texts.body.startswith("Eigene: TH-2026-DECI-0001 für Erika Mustermann, Antrag vom ")
    # Unknown names stay as written; nothing reaches attributes of the values.
    assert "{unbekannt}" in texts.body and "{leistung.__class__}" in texts.body
    assert texts.legal_remedy == "Widerspruch bei Stadtverwaltung A (Marktplatz 1, 99084 Erfurt)."


def test_clerk_of_another_office_gets_does_not_exist_from_every_service(world):
    case, foreign = world["case"], world["foreign"].user
    foreign_lead = world["foreign_lead"].user
    with pytest.raises(Submission.DoesNotExist):
        decision_prepare(submission=case, actor=foreign, outcome="approved")
    with pytest.raises(Submission.DoesNotExist):
        case_decide(submission=case, actor=foreign, outcome="approved")
    case_decide(submission=case, actor=world["clerk"].user, outcome="approved", with_letter=False)
    with pytest.raises(Submission.DoesNotExist):
        decision_letter_issue(submission=case, actor=foreign)
    with pytest.raises(Submission.DoesNotExist):
        case_reopen(submission=case, actor=foreign_lead, reason="x")
    decision_letter_issue(submission=case, actor=world["clerk"].user)
    with pytest.raises(Submission.DoesNotExist):
        decision_correct(submission=case, actor=foreign_lead, reason="x", body="y")
    case.refresh_from_db()
    assert case.status == "approved" and case.decision_letters.count() == 1


def test_letter_later_is_issued_once_and_tells_the_citizen(world):
    case, clerk = world["case"], world["clerk"].user
    with pytest.raises(CaseWorkError, match="nach der Entscheidung"):
        decision_letter_issue(submission=case, actor=clerk)
    case_decide(
        submission=case, actor=clerk, outcome="approved", message="Hinweis.", with_letter=False
    )
    letter = decision_letter_issue(submission=case, actor=clerk)
    assert letter.message == "Hinweis."
    event = case.events.get(kind="decision_letter_issued")
    assert StatusNotification.objects.filter(event=event).exists()
    with pytest.raises(CaseWorkError, match="bereits einen Bescheid"):
        decision_letter_issue(submission=case, actor=clerk)


def test_clerk_cannot_reopen_or_correct_and_the_lead_needs_a_reason(world):
    case, clerk, lead = world["case"], world["clerk"].user, world["lead"].user
    case_decide(submission=case, actor=clerk, outcome="approved")
    with pytest.raises(CaseWorkError, match="Amtsleitung"):
        case_reopen(submission=case, actor=clerk, reason="Ich will.")
    with pytest.raises(CaseWorkError, match="Amtsleitung"):
        decision_correct(submission=case, actor=clerk, reason="Ich will.", body="Neu")
    for reason in ("", "  ", "\x00"):
        with pytest.raises(CaseWorkError, match="Grund"):
            case_reopen(submission=case, actor=lead, reason=reason)
    with pytest.raises(CaseWorkError, match="zu lang"):
        case_reopen(submission=case, actor=lead, reason="x" * (MAX_TEXT_LENGTH + 1))
    case.refresh_from_db()
    assert case.status == "approved"
    assert not AuditEntry.objects.filter(submission=case, action="reopen").exists()


def test_lead_reopens_with_a_reason_and_a_new_decision_replaces_the_letter(world):
    case, clerk, lead = world["case"], world["clerk"].user, world["lead"].user
    first = case_decide(submission=case, actor=clerk, outcome="approved").letter
    event = case_reopen(
        submission=case, actor=lead, reason="Falsche Gebühr berechnet.", ip_address="192.0.2.9"
    )
    case.refresh_from_db()
    assert case.status == "in_progress" and case.decided_at is None
    assert (event.kind, event.from_status, event.to_status) == (
        "case_reopened",
        "approved",
        "in_progress",
    )
    assert event.visible_to_citizen and event.comment == "Falsche Gebühr berechnet."
    assert StatusNotification.objects.filter(event=event, recipient="erika@example.org").exists()
    entry = AuditEntry.objects.get(submission=case, action="reopen")
    assert entry.actor == lead and entry.ip_address == "192.0.2.9"
    assert "Falsche Gebühr berechnet." in entry.detail
    first.refresh_from_db()
    assert first.superseded_at is not None and first.superseded_by is None
    with pytest.raises(CaseWorkError):
        case_reopen(submission=case, actor=lead, reason="nochmal")  # not decided now
    second = case_decide(
        submission=case, actor=clerk, outcome="rejected", message="Nachweis fehlt."
    ).letter
    first.refresh_from_db()
    assert first.superseded_by == second
    assert "ersetzt den Bescheid vom" in letter_text(second)


def test_lead_corrects_the_letter_and_the_earlier_stays_marked_replaced(world):
    case, clerk, lead = world["case"], world["clerk"].user, world["lead"].user
    first = case_decide(
        submission=case, actor=clerk, outcome="rejected", message="Alte Begründung."
    ).letter
    with pytest.raises(CaseWorkError, match="Entscheidungstext"):
        decision_correct(submission=case, actor=lead, reason="Tippfehler", body="  ")
    with pytest.raises(CaseWorkError, match="begründen"):
        decision_correct(submission=case, actor=lead, reason="Tippfehler", body="Neu", message="")
    corrected = decision_correct(
        submission=case,
        actor=lead,
        reason="Tippfehler im Datum",
        body="Ihr Antrag wird abgelehnt (berichtigt).",
        message="Neue Begründung.",
    )
    first.refresh_from_db()
    assert first.superseded_by == corrected and first.superseded_at is not None
    assert corrected.outcome == "rejected" and corrected.correction_reason == "Tippfehler im Datum"
    case.refresh_from_db()
    assert case.status == "rejected"
    event = case.events.get(kind="decision_corrected")
    assert event.visible_to_citizen and event.comment == "Tippfehler im Datum"
    assert StatusNotification.objects.filter(event=event).exists()
    assert AuditEntry.objects.filter(submission=case, action="correct_decision").count() == 1
    text = letter_text(corrected)
    assert "Berichtigter Bescheid" in text and "berichtigt" in text and "Neue Begründung." in text
    # Only the current letter can be corrected.
    second = decision_correct(submission=case, actor=lead, reason="noch einer", body="Neu 2")
    corrected.refresh_from_db()
    assert corrected.superseded_by == second


# --- the pages ----------------------------------------------------------------------


def new_urls(case: Submission, letter_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"{BASE}/{case.pk}/decision/", {}),
        ("post", f"{BASE}/{case.pk}/decision/", {"step": "review", "outcome": "approved"}),
        (
            "post",
            f"{BASE}/{case.pk}/decision/",
            {"step": "confirm", "outcome": "rejected", "message": "weg", "with_letter": "1"},
        ),
        ("post", f"{BASE}/{case.pk}/decision/letter/", {}),
        ("get", f"{BASE}/{case.pk}/decision/letter/{letter_id}/", {}),
        ("get", f"{BASE}/{case.pk}/decision/reopen/", {}),
        ("post", f"{BASE}/{case.pk}/decision/reopen/", {"reason": "x"}),
        ("get", f"{BASE}/{case.pk}/decision/correct/", {}),
        ("post", f"{BASE}/{case.pk}/decision/correct/", {"reason": "x", "body": "y"}),
    ]


def test_every_decision_url_is_404_for_another_office_and_the_attempt_audited(world):
    case, foreign_case = world["case"], world["foreign_case"]
    foreign_letter = case_decide(
        submission=foreign_case, actor=world["foreign"].user, outcome="approved"
    ).letter
    before = Submission.objects.values().get(pk=foreign_case.pk)
    for staff in (world["clerk"], world["lead"]):
        for method, url, data in new_urls(foreign_case, foreign_letter.pk):
            response = getattr(staff.client, method)(url, data)
            assert response.status_code == 404, (staff.user.username, method, url)
            assert foreign_case.reference.encode() not in response.content
    assert Submission.objects.values().get(pk=foreign_case.pk) == before
    assert foreign_case.decision_letters.count() == 1
    refused = AuditEntry.objects.filter(submission=foreign_case, actor=world["lead"].user)
    assert set(refused.values_list("action", flat=True)) == {"refused"}
    # The other office's letter under the own case's URL, and forged letter ids.
    own = world["clerk"].client
    for letter_id in (foreign_letter.pk, "abc", "-1", "9" * 30, "0"):
        response = own.get(f"{BASE}/{case.pk}/decision/letter/{letter_id}/")
        assert response.status_code == 404, letter_id


def test_deciding_takes_a_confirmation_page_and_never_one_click(world):
    case, client = world["case"], world["clerk"].client
    page = client.get(f"{BASE}/{case.pk}/change/").content.decode()
    # The generic status form no longer offers a decision.
    assert 'value="approved"' in page  # the decision panel's radio button
    assert '<option value="approved"' not in page and '<option value="rejected"' not in page
    response = client.post(
        f"{BASE}/{case.pk}/transition/", {"to_status": "approved", "comment": "x"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"

    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "review", "outcome": "rejected", "message": "", "with_letter": "1"},
    )
    assert response.status_code == 400
    assert "begründen" in response.content.decode()
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "review", "outcome": "rejected", "message": "Nachweis fehlt.", "with_letter": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Entscheidung endgültig absenden" in page and "Nachweis fehlt." in page
    assert "Rechtsbehelfsbelehrung" in page
    case.refresh_from_db()
    assert case.status == "in_progress"  # shown, not applied
    # "Ändern" goes back to the form with what was typed.
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "edit", "outcome": "rejected", "message": "Nachweis fehlt.", "with_letter": "1"},
    )
    assert response.status_code == 200 and "Nachweis fehlt.</textarea>" in response.content.decode()
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {
            "step": "confirm",
            "outcome": "rejected",
            "message": "Nachweis fehlt.",
            "with_letter": "1",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "rejected" and case.decision_letters.count() == 1
    # A second confirm (double click, back button) decides nothing more.
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "confirm", "outcome": "approved", "message": "", "with_letter": "1"},
    )
    assert response.status_code == 400 and "bereits entschieden" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "rejected" and case.decision_letters.count() == 1
    download = client.get(f"{BASE}/{case.pk}/decision/letter/{case.decision_letters.get().pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert AuditEntry.objects.filter(submission=case, action="download_decision_letter").exists()


def test_hostile_input_on_the_decision_page_keeps_what_was_typed(world):
    case, client = world["case"], world["clerk"].client
    huge = "Ä" * (MAX_TEXT_LENGTH + 5)
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "review", "outcome": "rejected", "message": huge},
    )
    assert response.status_code == 400
    assert "zu lang" in response.content.decode()
    assert huge in response.content.decode()
    response = client.post(
        f"{BASE}/{case.pk}/decision/",
        {"step": "review", "outcome": "<script>x</script>", "message": "a"},
    )
    assert response.status_code == 400 and b"<script>x</script>" not in response.content
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_clerk_gets_no_reopen_button_and_a_forged_post_is_refused(world):
    case, clerk, lead = world["case"], world["clerk"], world["lead"]
    case_decide(submission=case, actor=clerk.user, outcome="approved")
    page = clerk.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "/decision/reopen/" not in page and "/decision/correct/" not in page
    for url, data in (
        (f"{BASE}/{case.pk}/decision/reopen/", {"reason": "Ich will."}),
        (f"{BASE}/{case.pk}/decision/correct/", {"reason": "Ich will.", "body": "Neu"}),
    ):
        assert clerk.client.get(url).status_code == 403
        assert clerk.client.post(url, data).status_code == 403
    case.refresh_from_db()
    assert case.status == "approved" and case.decision_letters.count() == 1

    page = lead.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "/decision/reopen/" in page and "/decision/correct/" in page
    response = lead.client.post(f"{BASE}/{case.pk}/decision/reopen/", {"reason": ""})
    assert response.status_code == 400 and "Grund" in response.content.decode()
    response = lead.client.post(f"{BASE}/{case.pk}/decision/reopen/", {"reason": "Neu prüfen."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"
    page = lead.client.get(f"{BASE}/{case.pk}/change/").content.decode()
    assert "aufgehoben am" in page


def test_decision_template_admin_is_scoped_to_the_leads_own_offices(world):
    lead = world["lead"]
    service = world["case"].service
    statewide = DecisionTemplate.objects.create(service=service, outcome="approved", body="Land")
    other = DecisionTemplate.objects.create(
        service=service, outcome="approved", office=world["other_office"], body="Fremd"
    )
    url = "/admin/backoffice/decisiontemplate/"
    listing = lead.client.get(url)
    assert listing.status_code == 200
    assert "Fremd" not in listing.content.decode()
    assert lead.client.get(f"{url}{other.pk}/change/").status_code == 404
    # The statewide default is readable, not editable, for a lead.
    response = lead.client.post(
        f"{url}{statewide.pk}/change/",
        {"service": service.pk, "outcome": "approved", "office": "", "body": "Geändert"},
    )
    assert response.status_code in (403, 200)
    statewide.refresh_from_db()
    assert statewide.body == "Land"
    # Another office cannot be chosen, an unknown placeholder is refused with a message.
    response = lead.client.post(
        f"{url}add/",
        {
            "service": service.pk,
            "outcome": "rejected",
            "office": world["other_office"].pk,
            "body": "x",
        },
    )
    assert response.status_code == 200
    assert not DecisionTemplate.objects.filter(outcome="rejected").exists()
    response = lead.client.post(
        f"{url}add/",
        {
            "service": service.pk,
            "outcome": "rejected",
            "office": world["office"].pk,
            "body": "Abgelehnt {vorname}",
        },
    )
    assert response.status_code == 200
    assert "Unbekannte Platzhalter: {vorname}" in response.content.decode()
    response = lead.client.post(
        f"{url}add/",
        {
            "service": service.pk,
            "outcome": "rejected",
            "office": world["office"].pk,
            "body": "Abgelehnt: {aktenzeichen}",
        },
    )
    assert response.status_code == 302
    assert DecisionTemplate.objects.get(outcome="rejected").office == world["office"]
    # A clerk has no access at all.
    assert world["clerk"].client.get(url).status_code == 403


def test_the_email_for_a_later_letter_or_a_correction_names_it_in_the_citizens_language(world):
    case, clerk, lead = world["case"], world["clerk"].user, world["lead"].user
    case_decide(submission=case, actor=clerk, outcome="approved", with_letter=False)
    decision_letter_issue(submission=case, actor=clerk)
    decision_correct(submission=case, actor=lead, reason="Tippfehler", body="Neu")
    issued = case.events.get(kind="decision_letter_issued")
    subject, body = _notification_text(submission=case, event=issued)
    assert subject == f"Ihr Antrag {case.reference}: Bescheid erstellt"
    corrected = case.events.get(kind="decision_corrected")
    case.language = "en"
    subject, body = _notification_text(submission=case, event=corrected)
    assert subject == f"Your application {case.reference}: Corrected decision letter issued"
    assert "Tippfehler" in body
