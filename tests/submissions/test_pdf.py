"""The PDFs read back with pypdf: text, pages, tags, PDF/A, the embedded JSON."""

from __future__ import annotations

import hashlib
import io
import json

import pypdf
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from forms_catalog.selectors import summarize
from submissions.models import Attachment
from submissions.pdf import RefusedURL, render_office_copy, render_receipt, static_file_for
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers


def read(pdf: bytes) -> pypdf.PdfReader:
    assert pdf.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(pdf))


def text_of(reader: pypdf.PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def submission(office_setup):
    submission = SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office_setup["office"],
        answers=make_answers(),
        reference="TH-2026-7K3M-Q9XD",
        submitted_at=timezone.now(),
    )
    content = b"%PDF-1.4 proof"
    Attachment.objects.create(
        submission=submission,
        field_path="proof",
        file=ContentFile(content, name="upload"),
        original_name="Mietbescheinigung.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return submission


def test_office_copy_has_header_reference_answers_attachments_and_footer(submission):
    reader = read(render_office_copy(submission=submission))
    text = text_of(reader)
    assert "Rhönblick" in text  # municipality header
    assert "VG Teststadt" in text
    assert "TH-2026-7K3M-Q9XD" in text
    assert "Hundeanmeldung, Version" in text
    assert "Angaben zur Person" in text and "Angaben zum Anliegen" in text  # grouped by step
    assert "Erika Mustermann" in text
    assert "Ein Hund namens Bello" in text
    assert "Mietbescheinigung.pdf" in text
    assert "Seite 1 von 1" in text
    assert timezone.localtime(submission.submitted_at).strftime("%d.%m.%Y") in text
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=1)


def test_office_copy_is_tagged_pdf_a_3b(submission):
    pdf = render_office_copy(submission=submission)
    reader = read(pdf)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "de"
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp
    assert b"pdfaid:conformance" in xmp and b"B" in xmp


def test_office_copy_embeds_the_answers_as_json(submission):
    reader = read(render_office_copy(submission=submission))
    files = reader.attachments
    assert list(files) == ["antrag-TH-2026-7K3M-Q9XD.json"]
    document = json.loads(files["antrag-TH-2026-7K3M-Q9XD.json"][0])
    assert document["reference"] == "TH-2026-7K3M-Q9XD"
    assert document["gemeinde_ags"] == submission.gemeinde.ags
    assert document["form_version"] == submission.form_version.number
    assert "Erika Mustermann" in json.dumps(document["answers"], ensure_ascii=False)


def test_long_answer_renders_on_several_pages_without_losing_text(submission):
    long_text = ("Sehrlangeswortohneleerzeichen" * 400)[:10_000]
    submission.answers = make_answers(description=long_text)
    reader = read(render_office_copy(submission=submission))
    assert len(reader.pages) >= 2
    # Everything the summary shows for the answer is printed (it wraps, nothing is cut off).
    shown = next(
        row.value
        for section in summarize(
            version=submission.form_version, answers=submission.answers, language="de"
        )
        for row in section.rows
        if row.path == "description"
    )
    text = "".join(text_of(reader).split())
    assert shown.count("Sehrlangeswortohneleerzeichen") >= 150
    assert text.count("Sehrlangeswortohneleerzeichen") == shown.count(
        "Sehrlangeswortohneleerzeichen"
    )
    assert f"Seite 1 von {len(reader.pages)}" in text_of(reader)


def test_markup_in_answers_is_printed_as_text_not_interpreted(submission):
    submission.answers = make_answers(
        description='<img src="http://127.0.0.1:9/x.png"><b>fett</b> <script>x()</script>'
    )
    text = text_of(read(render_office_copy(submission=submission)))
    assert "<b>fett</b>" in text
    assert "<script>x()</script>" in text


def test_receipt_names_reference_office_next_steps_and_status_link_without_secret(submission):
    text = text_of(read(render_receipt(submission=submission)))
    assert "Eingangsbestätigung" in text
    assert "TH-2026-7K3M-Q9XD" in text
    assert "VG Teststadt" in text
    assert "Wie geht es weiter?" in text
    assert "/status" in text
    # The receipt may travel by e-mail: it carries no answers.
    assert "Ein Hund namens Bello" not in text
    assert "Seite 1 von 1" in text


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.css",
        "https://portal-static.invalid/static/../settings.py",
        "https://portal-static.invalid/static/submissions/../../../../etc/passwd",
        "file:///etc/passwd",
        "https://portal-static.invalid/media/attachments/x",
        "https://portal-static.invalid/static/does-not-exist.css",
        "data:text/css,body{}",
    ],
)
def test_url_fetcher_refuses_everything_but_static_files(url):
    with pytest.raises(RefusedURL):
        static_file_for(url)


def test_url_fetcher_serves_the_pdf_stylesheet():
    path = static_file_for("https://portal-static.invalid/static/submissions/pdf.css")
    assert path.read_text().startswith("/* PDFs of submissions")


def test_receipt_is_in_the_citizens_language(submission):
    submission.language = "en"
    text = text_of(read(render_receipt(submission=submission)))
    assert "Confirmation of receipt" in text
    assert "What happens next?" in text
    assert "Page 1 of 1" in text
    assert "TH-2026-7K3M-Q9XD" in text
    # The office copy stays German whatever the citizen's language.
    assert "Seite 1 von 1" in text_of(read(render_office_copy(submission=submission)))
