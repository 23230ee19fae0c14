"""The office-copy PDF against a bare WeasyPrint render of the same HTML, as a ratio.

For each of the five catalogue forms: the portal's `render_office_copy` (tagged
PDF/A-3b with the answers embedded as JSON, one FontConfiguration and one parsed
stylesheet per process) and, alternating with it in the same process, a bare
WeasyPrint render of the very same HTML with the same options (PDF/A-3b, tags,
the same JSON attachment, the same stylesheet) but nothing reused: a new
FontConfiguration, the stylesheet read and parsed again. Prints ms per document and per page (wall
clock and CPU), the ratios and, independent of the machine's load, the Python
function calls of one portal render (cProfile). Then what the requirements cost: the same HTML
rendered bare without options, with tags only and with PDF/A-3b only.

Figures only: nothing passes or fails. Uses a kept benchmark database
(`<DATABASE name>_bench_pdf`, the catalogue loaded once; `--rebuild` starts
over) and hashed static files collected into a temporary STATIC_ROOT, as
deployed.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_pdf.py
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FORMS = ["gewerbe-anmeldung", "wohngeld-mietzuschuss", "hundeanmeldung", "bauantrag", "reisepass"]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rounds", type=int, default=7, help="renders per form and variant")
parser.add_argument("--rebuild", action="store_true")
args, _unknown = parser.parse_known_args()

STATIC_ROOT = Path(tempfile.mkdtemp(prefix="portal-bench-pdf-static-"))
os.environ.update(
    PORTAL_MANIFEST_STATIC="true",
    PORTAL_STATIC_ROOT=str(STATIC_ROOT),
    PORTAL_STORAGE_BACKEND="local",
    EMAIL_HOST="",
    CELERY_BROKER_URL="memory://",
)

from bench_database import bench_django_setup  # noqa: E402

bench_django_setup(suffix="bench_pdf", rebuild=args.rebuild)

import pypdf  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from forms_catalog.models import Service  # noqa: E402
from forms_catalog.selectors import published_version  # noqa: E402
from municipalities.models import Gemeinde, Gemeindeverband, Kreis, Office  # noqa: E402
from submissions import pdf  # noqa: E402
from submissions.models import Submission  # noqa: E402
from tests.factories import GemeindeFactory, OfficeFactory, SubmissionFactory  # noqa: E402

SAMPLE_VALUES = {
    "email": "erika.mustermann@example.org",
    "phone": "0361 1234567",
    "date": "1980-05-17",
    "number": 2,
    "money": "25.00",
    "yesno": True,
    "consent": True,
    "iban": "DE02120300000000202051",
    "steuer_id": "12345678995",
    "postcode": "99084",
}


class PdfProblems(logging.Handler):
    """Keeps the errors of the PDF renderer (a stylesheet it could not load, for one)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def sample_value(field: dict):
    """A plausible answer for one field of a catalogue definition (display only)."""
    kind = field["type"]
    if kind in SAMPLE_VALUES:
        return SAMPLE_VALUES[kind]
    if kind in {"choice", "multichoice"}:
        options = field.get("options") or [{"value": "x"}]
        return [options[0]["value"]] if kind == "multichoice" else options[0]["value"]
    if kind == "file":
        return None
    if kind == "textarea":
        return "Ausführliche Beschreibung des Anliegens. " * 8
    return "Beispielangabe"


def sample_answers(definition: dict) -> dict:
    answers: dict = {}

    def fill(fields: list, target: dict) -> None:
        for field in fields:
            if field.get("type") == "group":
                if field.get("repeatable"):
                    target[field["id"]] = [{} for _ in range(2)]
                    for item in target[field["id"]]:
                        fill(field["fields"], item)
                else:
                    fill(field["fields"], target)
                continue
            value = sample_value(field)
            if value is not None:
                target[field["id"]] = value

    for step in definition.get("steps", []):
        fill(step.get("fields", []), answers)
    return answers


def timed(render) -> tuple[float, float, bytes]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = render()
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def main() -> int:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    logging.disable(logging.WARNING)
    problems = PdfProblems()
    for name in ("weasyprint", "submissions.pdf"):
        logging.getLogger(name).addHandler(problems)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not Service.objects.filter(slug="reisepass").exists():
        call_command("load_catalogue", verbosity=0)
    # The rows of an earlier run go (this database is the benchmark's own), so the
    # factories' sequences start over without collisions.
    Submission.objects.all().delete()
    Office.objects.all().delete()
    Gemeinde.objects.all().delete()
    Gemeindeverband.objects.all().delete()
    Kreis.objects.all().delete()
    gemeinde = GemeindeFactory(name="Benchhausen")
    office = OfficeFactory(verband=gemeinde.verband)
    print(
        f"WeasyPrint {weasyprint.__version__}; {os.cpu_count()} CPUs; load average before: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; median of {args.rounds} renders each, portal and bare alternating"
    )
    submissions = {}
    for slug in FORMS:
        version = published_version(service=Service.objects.get(slug=slug))
        submissions[slug] = SubmissionFactory(
            form_version=version,
            gemeinde=gemeinde,
            office=office,
            answers=sample_answers(version.definition),
            submitted_at=timezone.now(),
        )
    pdf.render_office_copy(submission=submissions["hundeanmeldung"])  # warm-up: fonts, imports

    def bare(html: str, submission, **options) -> bytes:
        """WeasyPrint as documented, nothing reused between documents."""
        if options.pop("attachment", False):
            options["attachments"] = [
                weasyprint.Attachment(
                    string=pdf.export_json(submission),
                    name=f"antrag-{submission.reference}.json",
                    description="Angaben des Antrags (maschinenlesbar)",
                    relationship="Data",
                )
            ]
        # The stylesheet the portal hands over, read and parsed anew for each document.
        font_config = FontConfiguration()
        stylesheet = weasyprint.CSS(
            string=pdf.static_file_for(pdf.stylesheet_url()).read_text(encoding="utf-8"),
            base_url=pdf.stylesheet_url(),
            url_fetcher=pdf.url_fetcher(),
            font_config=font_config,
        )
        return weasyprint.HTML(
            string=html, base_url=pdf.STATIC_BASE, url_fetcher=pdf.url_fetcher()
        ).write_pdf(stylesheets=[stylesheet], font_config=font_config, **options)

    same_options = {"pdf_variant": pdf.PDF_VARIANT, "pdf_tags": True, "attachment": True}
    variants = {
        "no options": {},
        "tags only": {"pdf_tags": True},
        "PDF/A-3b only": {"pdf_variant": pdf.PDF_VARIANT},
        "PDF/A-3b + tags + JSON": same_options,
    }
    totals: dict[str, list[float]] = {"portal": [], "bare": [], "portal_cpu": [], "bare_cpu": []}
    print("\n1. Office copy: portal vs bare WeasyPrint, same HTML, same options")
    cost_rows = []
    for slug, submission in submissions.items():
        with translation.override("de"):
            html = render_to_string(
                "submissions/pdf/office_copy.html", pdf._context(submission, language="de")
            )
        own, own_cpu, plain, plain_cpu = [], [], [], []
        for _ in range(args.rounds):
            wall, cpu, document = timed(lambda s=submission: pdf.render_office_copy(submission=s))
            own.append(wall)
            own_cpu.append(cpu)
            wall, cpu, _ = timed(lambda h=html, s=submission: bare(h, s, **dict(same_options)))
            plain.append(wall)
            plain_cpu.append(cpu)
        pages = len(pypdf.PdfReader(io.BytesIO(document)).pages)
        # Load-independent: the Python function calls of one portal render (the machine is
        # shared, CPU time varies with it; this count changes only with the work done).
        profile = cProfile.Profile()
        profile.runcall(pdf.render_office_copy, submission=submission)
        calls = pstats.Stats(profile).total_calls
        p, b = statistics.median(own), statistics.median(plain)
        pc, bc = statistics.median(own_cpu), statistics.median(plain_cpu)
        totals["portal"].append(p / pages)
        totals["bare"].append(b / pages)
        totals["portal_cpu"].append(pc / pages)
        totals["bare_cpu"].append(bc / pages)
        print(
            f"   {slug:24s} {pages} page(s): portal {p * 1000:6.1f} ms ({pc * 1000:5.1f} ms CPU), "
            f"{p * 1000 / pages:5.1f} ms/page; bare {b * 1000:6.1f} ms ({bc * 1000:5.1f} ms CPU); "
            f"ratio {p / b:.2f} × wall, {pc / bc:.2f} × CPU; {calls:,} Python calls per render"
        )
        costs = {}
        for name, options in variants.items():
            cpu = statistics.median(
                timed(lambda h=html, s=submission, o=options: bare(h, s, **dict(o)))[1]
                for _ in range(max(3, args.rounds // 2))
            )
            costs[name] = cpu
        cost_rows.append((slug, pages, costs))
    median_ms = {key: statistics.median(values) * 1000 for key, values in totals.items()}
    print(
        f"   all forms (medians per page): portal {median_ms['portal']:.1f} ms "
        f"({median_ms['portal_cpu']:.1f} ms CPU), bare {median_ms['bare']:.1f} ms "
        f"({median_ms['bare_cpu']:.1f} ms CPU)"
    )
    print("\n2. What the requirements cost (bare WeasyPrint, CPU ms per document)")
    for slug, pages, costs in cost_rows:
        base = costs["no options"]
        print(
            f"   {slug:24s} {pages} page(s): "
            + ", ".join(
                f"{name} {cpu * 1000:.0f}" + (f" (+{(cpu / base - 1) * 100:.0f} %)" if base else "")
                for name, cpu in costs.items()
            )
        )
    print(
        "   stylesheet loaded in every render (manifest static files, collected STATIC_ROOT): "
        + (
            f"NO, these figures are of unstyled PDFs: {problems.records[0].getMessage()}"
            if problems.records
            else "yes"
        )
    )
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    shutil.rmtree(STATIC_ROOT, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
