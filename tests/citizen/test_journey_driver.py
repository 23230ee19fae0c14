"""The journey driver's own checks: its files are real, its axe sweep finds a broken page."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.citizen.journey_driver import Sweep, check_page_pairs, make_file, pdf_bytes, png_bytes


def test_generated_pdf_and_png_are_real_files(tmp_path):
    reader = PdfReader(io.BytesIO(pdf_bytes("Mietbescheinigung (Kopie)")))
    assert len(reader.pages) == 1
    assert "Mietbescheinigung [Kopie]" in reader.pages[0].extract_text()
    image = Image.open(io.BytesIO(png_bytes(40, 30)))
    image.verify()
    assert image.size == (40, 30) and image.format == "PNG"
    assert make_file(tmp_path, "Lageplan.png").read_bytes().startswith(b"\x89PNG")
    assert make_file(tmp_path, "Antrag.pdf").read_bytes().startswith(b"%PDF-1.4")


@pytest.mark.browser
def test_the_sweep_reports_a_page_with_a_violation_and_pairs_are_read_in_order(page):
    """Negative control: an image without a text alternative must be found."""
    page.set_content(
        '<html lang="de"><head><title>Prüfen</title></head><body><main><h1>Prüfen</h1>'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<section class="portal-check-section"><h2>Halter/in</h2><table><tbody>'
        "<tr><th>Familienname</th><td>Schäfer</td></tr>"
        "<tr><th>Anschrift</th><td>Markt 1<br>99084   Erfurt</td></tr>"
        "</tbody></table></section></main></body></html>"
    )
    sweep = Sweep(page, "de")
    sweep.check("broken page")
    assert sweep.findings and "image-alt" in sweep.findings[0]
    assert check_page_pairs(page) == [
        ("Halter/in", "Familienname", "Schäfer"),
        ("Halter/in", "Anschrift", "Markt 1 99084 Erfurt"),
    ]
