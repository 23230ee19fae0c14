"""PDFs of a submission: the office copy and the citizen's receipt (WeasyPrint).

Tagged PDF/A-3b, A4, "Seite x von y" in the footer. The office copy carries
the answers also as an embedded JSON file (`export_answers`), so office systems
can read them without parsing text. WeasyPrint is imported lazily (its import
is slow and only PDF workers need it), one FontConfiguration is reused per
process, and its URL fetcher serves the project's static files only: a
rendered document can never make the worker fetch anything from a network.

The stylesheet is named by ``static()``, which gives the hashed name
(``pdf.3f2a….css``) when the manifest storage of production is on and the
plain name otherwise; the fetcher resolves either through the staticfiles
storage (the collected STATIC_ROOT) and falls back to the source folders, so
the PDFs look the same in every configuration. It is parsed once per process
(`pdf_stylesheet`) and handed to WeasyPrint with every document, instead of
being linked from the templates and fetched and parsed for each one.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone, translation

from forms_catalog.selectors import export_answers, fee_statement, summarize

from .links import status_link_url, status_page_url
from .models import Submission
from .office_contact import office_contact_lines

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-3b"
# The prefix of URLs the fetcher will serve; anything else is refused.
STATIC_BASE = "https://portal-static.invalid/"

_font_config = None
_fetcher = None
_html_class = None


def _weasyprint():
    import weasyprint

    # Its per-step progress messages would drown the worker log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    return weasyprint


def font_configuration():
    """One FontConfiguration per process (building it scans the system fonts)."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


class RefusedURL(ValueError):
    pass


def _collected_static_file(relative: str) -> Path | None:
    """The file in the staticfiles storage's folder (STATIC_ROOT), if it is there and local.

    With manifest storage this is where the hashed names exist; the source
    folders only hold the unhashed originals.
    """
    try:
        path = Path(staticfiles_storage.path(relative))
    except (NotImplementedError, ImproperlyConfigured):
        # A remote storage, or no STATIC_ROOT: only the source folders are read.
        return None
    except SuspiciousFileOperation as exc:
        raise RefusedURL(f"refused to fetch {relative[:200]!r}") from exc
    return path if path.is_file() else None


def static_file_for(url: str) -> Path:
    """The static file a URL of the PDF templates names; RefusedURL for anything else.

    Hashed names (manifest storage) are found in the collected STATIC_ROOT,
    plain names there or in the source folders (no collectstatic needed in
    development and tests). Nothing outside them is ever read.
    """
    prefix = STATIC_BASE + settings.STATIC_URL.lstrip("/")
    if not url.startswith(prefix):
        raise RefusedURL(f"refused to fetch {url[:200]!r}: only static files are served")
    relative = url[len(prefix) :].split("?")[0].split("#")[0]
    if (
        not relative
        or ".." in relative.split("/")
        or relative.startswith("/")
        or "\\" in relative
        or "\x00" in relative
    ):
        raise RefusedURL(f"refused to fetch {url[:200]!r}")
    found = _collected_static_file(relative) or finders.find(relative)
    if not found:
        raise RefusedURL(f"no such static file: {relative[:200]!r}")
    return Path(found)


def url_fetcher():
    """A WeasyPrint URL fetcher that serves only the project's static files."""
    global _fetcher
    if _fetcher is None:
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class StaticOnlyFetcher(URLFetcher):
            def fetch(self, url, headers=None):
                try:
                    path = static_file_for(url)
                except RefusedURL as exc:
                    # WeasyPrint goes on without the resource: the PDF is still
                    # complete, but unstyled, so say so loudly where operators look.
                    logger.error("PDF resource not loaded, the document lacks it: %s", exc)
                    raise
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": content_type}
                )

        _fetcher = StaticOnlyFetcher(allowed_protocols=["https"], allow_redirects=False)
    return _fetcher


STYLESHEET = "submissions/pdf.css"
# The parsed stylesheet, per process, with the file it was parsed from: reused while
# that file is unchanged (static files change only with a deployment).
_stylesheet: tuple[tuple[str, int, int], Any] | None = None


def stylesheet_url() -> str:
    """The stylesheet's URL as the fetcher sees it (hashed name with manifest storage)."""
    return STATIC_BASE + static(STYLESHEET).lstrip("/")


def pdf_stylesheet():
    """The PDF stylesheet, parsed once per process; None (logged as an error) when its
    file cannot be found, so the PDF is still complete, but unstyled.

    Resolved through the same URL and fetcher rules as any resource of the
    templates, so a missing hashed file is noticed exactly as before; only the
    parsing is not repeated for every document.
    """
    global _stylesheet
    url = stylesheet_url()
    try:
        path = static_file_for(url)
        stat = path.stat()
    except (RefusedURL, OSError) as exc:
        logger.error("PDF resource not loaded, the document lacks it: %s", exc)
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if _stylesheet is None or _stylesheet[0] != key:
        css = _weasyprint().CSS(
            string=path.read_text(encoding="utf-8"),
            base_url=url,
            url_fetcher=url_fetcher(),
            font_config=font_configuration(),
        )
        _stylesheet = (key, css)
    return _stylesheet[1]


# Rules of WeasyPrint's user-agent stylesheet for pseudo-elements our PDFs never have.
# ``::marker`` there matches every element, and so does each footnote and note rule:
# WeasyPrint computed six styles per element that no box ever used (about 5 % of the
# instructions of an office copy). Only list items have markers here; no template
# uses footnotes or notes (``float: footnote``).
_UA_UNUSED_PSEUDO_RULES = (
    "::footnote-call {",
    "::footnote-marker {",
    "::note-call {",
    "::note-marker {",
    "::note-callback {",
)


def trimmed_user_agent_css(ua: str) -> str | None:
    """WeasyPrint's user-agent CSS with ``::marker`` limited to ``li`` and the footnote and
    note rules dropped; None when the stylesheet no longer has these rules exactly as
    expected (another WeasyPrint), so the stock one is used rather than a guess."""
    lines = ua.splitlines(keepends=True)
    markers = [i for i, line in enumerate(lines) if line.startswith("::marker {")]
    unused = [i for i, line in enumerate(lines) if line.startswith(_UA_UNUSED_PSEUDO_RULES)]
    if len(markers) != 1 or len(unused) != len(_UA_UNUSED_PSEUDO_RULES):
        return None
    lines[markers[0]] = "li" + lines[markers[0]]
    for i in unused:
        lines[i] = ""
    return "".join(lines)


def html_class():
    """``weasyprint.HTML`` with the trimmed user-agent stylesheet, built once per process.

    Lays out exactly like the stock class: only the styles of pseudo-elements that
    never generate a box are left out (tests/submissions/test_pdf_layout.py
    compares the text and pages of both).
    """
    global _html_class
    if _html_class is None:
        weasyprint = _weasyprint()
        from weasyprint import html as weasyprint_html
        from weasyprint.css.counters import CounterStyle

        trimmed = trimmed_user_agent_css(weasyprint_html.UA)
        if trimmed is None:
            logger.warning("WeasyPrint's user-agent stylesheet changed: PDFs use it untrimmed")
            _html_class = weasyprint.HTML
        else:
            # A fresh counter-style registry: the stock one already holds the UA's
            # ``@counter-style`` rules (``disc`` and ``decimal`` may be defined only once);
            # documents get those from `_ua_counter_style`, which is not overridden.
            sheet = weasyprint.CSS(string=trimmed, counter_style=CounterStyle())

            class TrimmedHTML(weasyprint.HTML):
                def _ua_stylesheets(self, forms=False):
                    return [sheet, weasyprint_html.UA_FORM_STYLESHEET] if forms else [sheet]

            _html_class = TrimmedHTML
    return _html_class


def render_html_to_pdf(html: str, *, attachments: list | None = None) -> bytes:
    """A tagged PDF/A-3b of `html` with the PDF stylesheet (the templates link none)."""
    document = html_class()(string=html, base_url=STATIC_BASE, url_fetcher=url_fetcher())
    stylesheet = pdf_stylesheet()
    return document.write_pdf(
        stylesheets=[stylesheet] if stylesheet is not None else [],
        font_config=font_configuration(),
        pdf_tags=True,
        pdf_variant=PDF_VARIANT,
        attachments=attachments or [],
        uncompressed_pdf=False,
    )


@dataclass(frozen=True)
class AttachmentLine:
    name: str
    size: int
    content_type: str


def _context(submission: Submission, *, language: str, with_answers: bool = True) -> dict[str, Any]:
    """The template context; `with_answers=False` for documents that show no answers (the
    receipt): summarising them is a good part of a one-page receipt's work."""
    version = submission.form_version
    service = submission.service
    return {
        "submission": submission,
        "language": language,
        "service_name": service.name(language),
        "version_number": version.number,
        "gemeinde": submission.gemeinde,
        "office": submission.office,
        "submitted_at": timezone.localtime(submission.submitted_at),
        "sections": (
            summarize(version=version, answers=submission.answers, language=language)
            if with_answers
            else []
        ),
        "attachments": [
            AttachmentLine(a.original_name, a.size, a.content_type)
            for a in submission.attachments.all()
        ],
        "static_base": STATIC_BASE,
    }


def export_json(submission: Submission) -> bytes:
    document = {
        "reference": submission.reference,
        "service": submission.service.slug,
        "form_version": submission.form_version.number,
        "submitted_at": submission.submitted_at.isoformat(),
        "gemeinde_ags": submission.gemeinde.ags,
        "answers": export_answers(version=submission.form_version, answers=submission.answers),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode()


def render_office_copy(*, submission: Submission) -> bytes:
    """The office's PDF: every visible answer by step, the attachments, the answers as JSON."""
    weasyprint = _weasyprint()
    with translation.override("de"):
        html = render_to_string(
            "submissions/pdf/office_copy.html", _context(submission, language="de")
        )
    data = weasyprint.Attachment(
        string=export_json(submission),
        name=f"antrag-{submission.reference}.json",
        description="Angaben des Antrags (maschinenlesbar)",
        relationship="Data",
        base_url=STATIC_BASE,
        url_fetcher=url_fetcher(),
    )
    return render_html_to_pdf(html, attachments=[data])


def render_receipt(*, submission: Submission) -> bytes:
    """The citizen's receipt, in their language: reference, office, what happens next."""
    language = submission.language if submission.language in {"de", "en"} else "de"
    with translation.override(language):
        context = _context(submission, language=language, with_answers=False)
        context["office_lines"] = office_contact_lines(office=submission.office)
        # "Steuer, jährlich" for the dog tax: the same words as the service page.
        context["fee"] = fee_statement(
            version=submission.form_version,
            configured={},
            municipality=submission.gemeinde.display_name,
            language=language,
        )
        context["status_url"] = status_page_url()
        context["status_link"] = status_link_url(
            reference=submission.reference, access_secret_hash=submission.access_secret_hash
        )
        html = render_to_string("submissions/pdf/receipt.html", context)
    return render_html_to_pdf(html)
