"""Issue 13 (problem 12): the receipt PDF and the receipt e-mail tell the citizen how to reach
the responsible office (address, phone, e-mail, web, opening hours), in their language."""

from __future__ import annotations

import copy
import io

import pypdf
import pytest

from submissions.pipeline import (
    Step,
    pipeline_notify_citizen,
    pipeline_render_pdfs,
    pipeline_resolve_office,
)
from submissions.services import submission_submit
from tests.factories import FormVersionFactory
from tests.submissions.conftest import make_answers, make_draft

pytestmark = pytest.mark.django_db

CONTACT = {
    "street": "Rathausplatz 2",
    "postcode": "98634",
    "city": "Teststadt",
    "phone": "036946 123-0",
    "email": "buergerbuero@vg-teststadt.example",
    "website": "https://www.vg-teststadt.example/buergerbuero",
    "opening_hours": "Mo, Di, Do 9–12 Uhr\nDi 14–18 Uhr",
}


def filed(office_setup, *, language: str):
    office = office_setup["office"]
    for name, value in CONTACT.items():
        setattr(office, name, value)
    office.save()
    submission, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language=language
    )
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    submission.refresh_from_db()
    return submission


def receipt_text(submission) -> str:
    with submission.receipt_pdf.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("de", ("Telefon: ", "E-Mail: ", "Web: ", "Öffnungszeiten:", "Zuständige Behörde:")),
        ("en", ("Phone: ", "E-mail: ", "Web: ", "Opening hours:", "Responsible office:")),
    ],
)
def test_receipt_pdf_and_mail_carry_the_office_contact(office_setup, smtp_server, language, labels):
    submission = filed(office_setup, language=language)
    pdf = receipt_text(submission)
    for expected in (
        "VG Teststadt",
        "Rathausplatz 2",
        "98634 Teststadt",
        f"{labels[0]}036946 123-0",
        "buergerbuero@vg-teststadt.example",
        "https://www.vg-teststadt.example/buergerbuero",
        "Mo, Di, Do 9–12 Uhr",
        "Di 14–18 Uhr",
    ):
        assert expected in pdf, (expected, pdf)
    assert labels[3] in pdf
    assert pipeline_notify_citizen(submission_id=submission.pk) is Step.DONE
    (mail,) = smtp_server.messages
    body = smtp_server.text_of(mail).replace("\r\n", "\n")
    assert (
        f"{labels[4]}\nVG Teststadt\nRathausplatz 2\n98634 Teststadt\n"
        f"{labels[0]}036946 123-0\n{labels[1]}buergerbuero@vg-teststadt.example\n"
        f"{labels[2]}https://www.vg-teststadt.example/buergerbuero\n"
        f"{labels[3]}\nMo, Di, Do 9–12 Uhr\nDi 14–18 Uhr\n"
    ) in body, body


def test_office_without_contact_data_gives_just_its_name(office_setup, smtp_server):
    office = office_setup["office"]
    office.street = office.postcode = office.city = office.email = ""
    office.save()
    submission, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    pipeline_resolve_office(submission_id=submission.pk)
    pipeline_render_pdfs(submission_id=submission.pk)
    assert pipeline_notify_citizen(submission_id=submission.pk) is Step.DONE
    body = smtp_server.text_of(smtp_server.messages[0]).replace("\r\n", "\n")
    assert "Zuständige Behörde:\nVG Teststadt\n\n" in body
    assert "Telefon" not in body and "Öffnungszeiten" not in body


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "Steuer 120,00 € (jährlich). Sie erhalten einen schriftlichen Bescheid"),
        ("en", "Tax 120.00 € (every year). You receive a written notice"),
    ],
)
def test_receipt_names_a_tax_a_tax_with_its_period(office_setup, language, expected):
    """Regression: the receipt called the yearly dog tax a one-off "Gebühr"."""
    definition = copy.deepcopy(office_setup["version"].definition)
    definition["fees"] = {
        "kind": "steuer",
        "period": "jaehrlich",
        "payment": "bescheid",
        "lines": [{"id": "dog", "label": {"de": "Hund", "en": "Dog"}, "amount": 120}],
    }
    setup = {
        **office_setup,
        "version": FormVersionFactory(service=office_setup["service"], definition=definition),
    }
    submission = filed(setup, language=language)
    assert submission.fee_amount == 120
    text = " ".join(receipt_text(submission).split())
    assert expected in text, text
    assert "Gebühr" not in text
