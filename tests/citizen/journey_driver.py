"""A small driver for citizen journeys in a real browser (Playwright, sync API).

A step is filled from a table {field name: value} by the kind of input it finds
on the page (radios, checkboxes, select, date parts, file, text), so each
journey states only its data. The driver records what it typed with the label
the page showed for it, so a test can compare typed → checked → stored.

Real small files are generated here (a valid one-page PDF, a valid PNG): the
portal checks uploads by their first bytes, so a file must be what it claims.
Also here: the `live_portal` and `pipeline_worker` fixtures (registered in the
citizen conftest) and `Sweep`, which runs axe on each page and reports all at once.
"""

from __future__ import annotations

import datetime
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import redis
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from tests.municipalities.conftest import GV100AD, ORTSTEILE, POSTCODES

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()

NEXT = re.compile(r"^(Weiter|Continue)$")
SEARCH_LABEL = re.compile("Gemeinde oder Postleitzahl|municipality or postcode")
SEARCH_BUTTON = re.compile("Gemeinde suchen|Find")
START = re.compile("Antrag starten|Start application")
SUBMIT = re.compile("Antrag verbindlich absenden|Submit")
DECLARATION = re.compile("Ich versichere, dass meine Angaben|I confirm that")


def rate_limits_reset() -> None:
    """Remove every rate-limit count (not FLUSHDB: a running worker's queue bindings may
    live in the same Redis database)."""
    client = redis.Redis.from_url(settings.CACHES["default"].get("LOCATION") or settings.REDIS_URL)
    for key in client.scan_iter(match="*ratelimit:*"):
        client.delete(key)


@pytest.fixture
def live_portal(transactional_db, live_server) -> Iterator[str]:
    """The official municipalities with their Ortsteile, the routing and the catalogue.

    These journeys submit and look up a lot from one address: they start without the
    rate-limit counts of earlier tests and leave none to later ones."""
    rate_limits_reset()
    call_command("import_gv100ad", str(GV100AD), stdout=StringIO(), stderr=StringIO())
    call_command("import_postcodes", str(POSTCODES), stdout=StringIO())
    call_command("import_ortsteile", str(ORTSTEILE), stdout=StringIO())
    call_command("seed_responsibility", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    yield live_server.url
    rate_limits_reset()


@pytest.fixture
def pipeline_worker(start_worker, _private_media, smtp_server):
    """A real worker on every queue, reading the files this test's web process stored."""
    return start_worker(
        env={
            "PORTAL_MEDIA_ROOT": str(_private_media),
            "EMAIL_HOST": smtp_server.host,
            "EMAIL_PORT": str(smtp_server.port),
        }
    )


def assert_accessible(page, what: str) -> None:
    """axe-core on the page as it is now: no WCAG 2.1 A/AA violation."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


class Sweep:
    """Runs axe on each page visited and keeps every finding, so one run reports all."""

    def __init__(self, page, language: str):
        self.page = page
        self.language = language
        self.visited: list[str] = []
        self.findings: list[str] = []

    def check(self, what: str) -> None:
        assert self.page.locator("html").get_attribute("lang") == self.language, what
        results = AXE.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        self.visited.append(what)
        if results.violations_count:
            self.findings.append(f"{what} ({self.page.url}):\n{results.generate_report()}")

    def check_errors(self, what: str) -> None:
        # Waits for the page after the submit (the summary is on the new page).
        expect(self.page.locator("#error-summary")).to_be_visible()
        assert self.page.title().startswith(("Fehler:", "Error:")), what
        self.check(what)


# --- Real small files ------------------------------------------------------------------


def pdf_bytes(text: str) -> bytes:
    """A valid one-page PDF 1.4 showing `text` (ASCII), with a correct xref table."""
    safe = text.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 760 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    """A valid RGB PNG (a grey gradient), as a phone photo of a document would be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes((x * 6) % 256 for x in range(width) for _ in range(3))
        for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_file(folder: Path, name: str) -> Path:
    """A real file named `name` in `folder`: a PDF for .pdf, a PNG for .png."""
    path = folder / name
    if name.endswith(".png"):
        path.write_bytes(png_bytes())
    else:
        path.write_bytes(pdf_bytes(f"{path.stem} - Nachweis"))
    return path


# --- Filling steps ---------------------------------------------------------------------


@dataclass
class Typed:
    """What the driver entered, by the label the page showed next to it."""

    texts: dict[str, str] = field(default_factory=dict)  # label -> exactly typed text
    files: list[str] = field(default_factory=list)  # uploaded file names


@dataclass(frozen=True)
class Shown:
    """Type `typed`; the check page shows it as `shown` (German notation, unit added)."""

    typed: str
    shown: str


@dataclass(frozen=True)
class Add:
    """Click a repeatable group's "add" button `times` times (e.g. a household member)."""

    group: str
    times: int = 1


def _label_of(page, element_id: str) -> str:
    text = page.locator(f"label[for='{element_id}']").first.inner_text()
    return normalise(re.sub(r"\((optional)\)\s*$", "", text))


def fill_step(page, step: str, values: dict[str, Any], typed: Typed | None = None) -> None:
    """Fill the fields of `step` named in `values` (names without the step prefix).

    The kind of input is found on the page: a date (datetime.date) goes into the
    three date parts, a Path into the file input, True ticks a single checkbox,
    a list ticks checkboxes of a group, a str picks a radio or an option of a
    select when the page has one under that name, and is typed otherwise (as is
    a Shown's `typed`). Add(group) clicks the group's "add" button.
    """
    typed = typed if typed is not None else Typed()
    for name, value in values.items():
        html = f"{step}-{name}"
        if isinstance(value, Add):
            for _ in range(value.times):
                page.locator(f"button[name='{step}-{value.group}-add']").click()
            continue
        if isinstance(value, datetime.date):
            for part, number in (("day", value.day), ("month", value.month), ("year", value.year)):
                page.fill(f"[name='{html}_{part}']", str(number))
            continue
        target = page.locator(f"[name='{html}']")
        assert target.count(), f"no input named {html} on {page.url}"
        kind = target.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if isinstance(value, Path):
            assert kind == "input:file", f"{html} is {kind}, not a file input"
            target.set_input_files(str(value))
            typed.files.append(value.name)
        elif isinstance(value, list):
            for option in value:
                page.check(f"[name='{html}'][value='{option}']")
        elif value is True:
            target.check()
        elif kind == "input:radio":
            page.check(f"[name='{html}'][value='{value}']")
        elif kind.startswith("select"):
            target.select_option(value)
        else:
            text, shown = (value.typed, value.shown) if isinstance(value, Shown) else (value, value)
            target.fill(text)
            typed.texts[_label_of(page, target.get_attribute("id"))] = shown


def next_button(page):
    return page.get_by_role("button", name=NEXT)


def submit_step(page) -> None:
    """Press "Weiter" and wait for the answer: the next step, or this one with its errors."""
    with page.expect_navigation():
        next_button(page).click()


def walk(page, steps: list[tuple[str, dict[str, Any]]], typed: Typed) -> None:
    """Fill each step in order and go on; fail with the page's error summary if one stays."""
    for step, values in steps:
        assert f"/schritt/{step}/" in page.url, f"expected step {step}, at {page.url}"
        fill_step(page, step, values, typed)
        submit_step(page)
        if f"/schritt/{step}/" in page.url:
            summary = page.locator("#error-summary")
            problem = summary.inner_text() if summary.count() else page.locator("main").inner_text()
            raise AssertionError(f"step {step} was not accepted:\n{problem}")


def open_service_from_start(
    page, base_url: str, query: str, gemeinde: str | re.Pattern, service: str | re.Pattern
) -> None:
    """From "/" by the search form to the municipality's service, then start the form."""
    page.goto(base_url + "/")
    page.get_by_label(SEARCH_LABEL).fill(query)
    page.get_by_role("button", name=SEARCH_BUTTON).click()
    page.get_by_role("link", name=gemeinde, exact=True).click()
    page.get_by_role("link", name=service).click()
    page.get_by_role("button", name=START).click()


def check_page_pairs(page) -> list[tuple[str, str, str]]:
    """Every (section title, question, answer) the check page shows, in order."""
    pairs = page.evaluate(
        """() => Array.from(document.querySelectorAll('section.portal-check-section')).flatMap(
            section => Array.from(section.querySelectorAll('tbody tr')).map(row => [
                section.querySelector('h2').innerText,
                row.querySelector('th').innerText,
                row.querySelector('td').innerText,
            ]))"""
    )
    return [tuple(normalise(text) for text in pair) for pair in pairs]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def submit_from_check_page(page) -> tuple[str, str]:
    """Tick the declaration, submit; (reference, access code) from the confirmation."""
    page.get_by_label(DECLARATION).last.check()
    page.get_by_role("button", name=SUBMIT).click()
    page.wait_for_url(re.compile("/bestaetigung/"))
    return (
        page.get_by_test_id("reference").inner_text().strip(),
        page.get_by_test_id("secret").inner_text().strip(),
    )
