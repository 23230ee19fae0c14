"""What the cheaper office-copy layout must keep: every row, its structure, the same pages.

The answers are a definition list (question, answer) and WeasyPrint gets a user-agent
stylesheet without the rules for pseudo-elements our PDFs never have (submissions.pdf);
these tests pin that nothing is lost by either.
"""

from __future__ import annotations

import hashlib
import io

import pypdf
import pytest
import weasyprint
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import html as weasyprint_html

from submissions import pdf
from submissions.models import Attachment
from tests.factories import FormVersionFactory, SubmissionFactory

ROWS = 70

# One step with many short answers: the shape of the long Wohngeld copy, four pages and more.
LONG_DEFINITION = {
    "schema_version": 1,
    "steps": [
        {
            "id": "income",
            "title": {"de": "Einkommen", "en": "Income"},
            "fields": [
                {
                    "id": f"item{i}",
                    "type": "text",
                    "required": False,
                    "label": {"de": f"Frage Nummer {i}", "en": f"Question {i}"},
                }
                for i in range(ROWS)
            ],
        }
    ],
}


@pytest.fixture
def long_submission(office_setup):
    version = FormVersionFactory(service=office_setup["service"], definition=LONG_DEFINITION)
    submission = SubmissionFactory(
        form_version=version,
        gemeinde=office_setup["gemeinde"],
        office=office_setup["office"],
        answers={f"item{i}": f"Antwortwert {i}" for i in range(ROWS)},
        reference="TH-2026-LONG-ROWS",
        submitted_at=timezone.now(),
    )
    content = b"%PDF-1.4 proof"
    Attachment.objects.create(
        submission=submission,
        field_path="item0",
        file=ContentFile(content, name="upload"),
        original_name="Einkommensnachweis.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return submission


def layout_lines(document: bytes) -> list[list[str]]:
    """Per page, the visual lines as laid out (pypdf's layout mode), spaces normalised."""
    reader = pypdf.PdfReader(io.BytesIO(document))
    texts = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    return [[" ".join(line.split()) for line in text.splitlines()] for text in texts]


def structure_types(document: bytes) -> list[str]:
    """The structure element types of the tagged PDF, in tree order."""
    reader = pypdf.PdfReader(io.BytesIO(document))
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for child in node:
                walk(child)
            return
        if not isinstance(node, pypdf.generic.DictionaryObject):
            return  # a marked-content id
        if "/S" in node:
            found.append(str(node["/S"]))
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_every_row_of_a_long_office_copy_is_printed_as_question_then_answer(long_submission):
    pages = layout_lines(pdf.render_office_copy(submission=long_submission))
    assert len(pages) >= 3
    lines = [line for page in pages for line in page if line]
    for i in range(ROWS):
        # Question and answer each on a line of their own, the answer right below.
        assert f"Frage Nummer {i}" in lines, i
        assert lines[lines.index(f"Frage Nummer {i}") + 1] == f"Antwortwert {i}", i
    assert f"Seite {len(pages)} von {len(pages)}" in pages[-1]


def test_a_question_is_never_left_alone_at_the_bottom_of_a_page(long_submission):
    pages = layout_lines(pdf.render_office_copy(submission=long_submission))
    for page in pages[:-1]:
        body = [line for line in page if line and not line.startswith("Seite ")]
        body = [line for line in body if line != "TH-2026-LONG-ROWS"]
        assert not body[-1].startswith("Frage Nummer"), body[-3:]


def test_answers_are_tagged_as_list_items_with_bodies(long_submission):
    types = structure_types(pdf.render_office_copy(submission=long_submission))
    # dl -> L; every dt and dd -> LI with an LBody (the four facts of the head, too).
    assert types.count("/L") >= 2
    assert types.count("/LI") >= 2 * ROWS
    assert types.count("/LBody") >= 2 * ROWS
    assert "/H1" in types and "/H2" in types


def test_the_user_agent_stylesheet_of_this_weasyprint_is_trimmed():
    trimmed = pdf.trimmed_user_agent_css(weasyprint_html.UA)
    assert trimmed is not None, "WeasyPrint's UA stylesheet changed: the trimming is off"
    assert "\nli::marker {" in trimmed and "\n::marker {" not in trimmed
    assert "::footnote-call" not in trimmed and "::note-callback" not in trimmed
    assert pdf.html_class() is not weasyprint.HTML


def test_an_unexpected_user_agent_stylesheet_is_used_as_it_is():
    """Negative control: a WeasyPrint whose rules differ gets no guessed trimming."""
    changed = weasyprint_html.UA.replace("::note-callback {", "::note-back-link {")
    assert pdf.trimmed_user_agent_css(changed) is None
    assert pdf.trimmed_user_agent_css(weasyprint_html.UA + "\n::marker { color: red }\n") is None


def test_trimmed_user_agent_stylesheet_lays_out_exactly_like_the_stock_one(long_submission):
    with translation.override("de"):
        html = render_to_string(
            "submissions/pdf/office_copy.html", pdf._context(long_submission, language="de")
        )
    options = {
        "stylesheets": [pdf.pdf_stylesheet()],
        "font_config": pdf.font_configuration(),
        "pdf_tags": True,
        "pdf_variant": pdf.PDF_VARIANT,
    }
    renders = []
    for html_class in (weasyprint.HTML, pdf.html_class()):
        document = html_class(
            string=html, base_url=pdf.STATIC_BASE, url_fetcher=pdf.url_fetcher()
        ).write_pdf(**options)
        renders.append((layout_lines(document), structure_types(document)))
    assert renders[0] == renders[1]
    # The attachment list keeps its bullets (li::marker stays in the trimmed sheet).
    assert any(line.startswith("• Einkommensnachweis.pdf") for line in renders[1][0][-1])
