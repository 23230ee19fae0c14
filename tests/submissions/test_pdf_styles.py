"""The PDFs carry their stylesheet in every static-files configuration.

Production runs whitenoise's manifest storage over a collected STATIC_ROOT, so
``{% static %}`` names the stylesheet by its hashed name; development and most
tests use the plain storage and the source folders. A PDF rendered without its
stylesheet is still complete but unreadable ("NameErika Mustermann"), so each
test checks both that WeasyPrint reported no error and that label and value
are laid out apart.
"""

from __future__ import annotations

import io
import logging
import re
import shutil

import pypdf
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.templatetags.static import static
from django.test import override_settings
from django.utils import timezone

from submissions.pdf import RefusedURL, render_office_copy, render_receipt, static_file_for
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers

MANIFEST = "whitenoise.storage.CompressedManifestStaticFilesStorage"
PLAIN = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """STATIC_ROOT as `collectstatic` leaves it in production (once per module: it is slow)."""
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {**django_settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def manifest_static(settings, collected_static):
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    hashed = static("submissions/pdf.css")
    assert re.search(r"/submissions/pdf\.[0-9a-f]{12}\.css$", hashed), hashed
    return collected_static


@pytest.fixture
def plain_static(settings, tmp_path):
    # An empty STATIC_ROOT: nothing collected, the source folders are all there is.
    settings.STATIC_ROOT = tmp_path / "not-collected"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN}}
    assert static("submissions/pdf.css") == "/static/submissions/pdf.css"


@pytest.fixture
def submission(office_setup):
    return SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office_setup["office"],
        answers=make_answers(name="Becker"),
        reference="TH-2026-7K3M-Q9XD",
        submitted_at=timezone.now(),
    )


@pytest.fixture
def weasyprint_errors(caplog):
    """Every WARNING or worse that WeasyPrint or our renderer logged while the test ran."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    caplog.set_level(logging.WARNING, logger="submissions.pdf")

    def errors() -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in caplog.records
            if r.name.startswith(("weasyprint", "submissions.pdf")) and r.levelno >= logging.WARNING
        ]

    return errors


def layout_lines(pdf: bytes) -> list[str]:
    """The text as laid out on the page, one visual line per item (pypdf's layout mode)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def assert_styled(pdf: bytes, errors: list[str]) -> None:
    assert errors == [], f"the PDF renderer reported problems: {errors}"
    lines = layout_lines(pdf)
    # Label and value are blocks of their own: never glued into one word.
    assert not any("NameBecker" in line.replace(" ", "") for line in lines), lines
    assert "Name" in lines and "Becker" in lines, lines
    # The facts of the head stand beside their terms (one visual line each), the reference
    # also in the page head: both come from the stylesheet only.
    assert "Aktenzeichen TH-2026-7K3M-Q9XD" in lines, lines
    assert lines[0] == "TH-2026-7K3M-Q9XD", lines
    # The letterhead's municipality is set large and bold on its own line.
    assert "Gemeinde Rhönblick" in lines, lines


@pytest.mark.parametrize("render", [render_office_copy, render_receipt])
def test_pdf_with_manifest_static_files_is_rendered_with_its_stylesheet(
    manifest_static, submission, weasyprint_errors, render
):
    pdf = render(submission=submission)
    if render is render_office_copy:
        assert_styled(pdf, weasyprint_errors())
    else:
        assert weasyprint_errors() == []
        assert "Gemeinde Rhönblick" in layout_lines(pdf)


@pytest.mark.parametrize("render", [render_office_copy, render_receipt])
def test_pdf_with_plain_static_files_is_rendered_with_its_stylesheet(
    plain_static, submission, weasyprint_errors, render
):
    pdf = render(submission=submission)
    if render is render_office_copy:
        assert_styled(pdf, weasyprint_errors())
    else:
        assert weasyprint_errors() == []
        assert "Gemeinde Rhönblick" in layout_lines(pdf)


def test_hashed_stylesheet_name_is_served_from_the_collected_static_root(manifest_static):
    hashed = static("submissions/pdf.css").removeprefix("/static/")
    path = static_file_for(f"https://portal-static.invalid/static/{hashed}")
    assert path.parent.parent == manifest_static
    assert path.read_text().startswith("/* PDFs of submissions")


@pytest.mark.parametrize(
    "relative",
    [
        "../../../../etc/passwd",
        "submissions/../../manage.py",
        "..%2f..%2fmanage.py",
        "staticfiles.json/../../x",
        "submissions\\..\\..\\manage.py",
        "submissions/pdf.css\x00.png",
    ],
)
def test_fetcher_with_manifest_static_refuses_paths_outside_the_static_files(
    manifest_static, relative
):
    with pytest.raises(RefusedURL):
        static_file_for(f"https://portal-static.invalid/static/{relative}")


def test_missing_stylesheet_is_logged_as_error_and_the_pdf_still_rendered(
    settings, tmp_path, collected_static, submission, caplog
):
    """Negative control: a manifest entry whose file is gone must not pass unnoticed."""
    root = tmp_path / "staticfiles"
    shutil.copytree(collected_static, root)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST}}
    settings.STATIC_ROOT = root
    hashed = static("submissions/pdf.css").removeprefix("/static/")
    (root / hashed).unlink()
    caplog.set_level(logging.WARNING)
    pdf = render_office_copy(submission=submission)
    assert pdf.startswith(b"%PDF-")
    ours = [r for r in caplog.records if r.name == "submissions.pdf"]
    assert ours and all(r.levelno == logging.ERROR for r in ours)
    assert hashed in ours[0].getMessage()
    # And the layout check above would have caught it: unstyled, a term stands above its
    # value and no page head repeats the reference.
    lines = layout_lines(pdf)
    assert "Aktenzeichen TH-2026-7K3M-Q9XD" not in lines, lines
    assert lines[0] != "TH-2026-7K3M-Q9XD", lines
