#!/usr/bin/env python3
"""Benchmark of the submission pipeline (prints figures; never passes or fails on time).

1. PDF render time per page of the office copy, for each of the five catalogue forms,
   and its ratio to a bare WeasyPrint render of the same HTML (wall clock and CPU).
2. Submit-to-delivered latency (p50/p95) with 2 worker processes.
3. Drain rate of a backlog of submissions queued while no worker ran (default 10,000;
   ``--backlog N`` for a smaller run, e.g. 300), the workers' CPU seconds per submission
   (their own accounting in /proc), the bound that implies (cores ÷ CPU seconds per
   submission), the drain rate as a fraction of it, and the task hand-offs per
   submission (tasks the workers received, from their logs).

``--skip-render`` leaves out part 1 (the PDF benchmark of its own).

Prints the load average, since other work on the machine slows every figure.

Runs against a fresh PostgreSQL database created for the run (like the tests),
a throwaway redis-server on a random port, a local SMTP server and a local
webhook receiver, so it touches no other data. Needs DATABASE_URL (PostgreSQL)
and REDIS_URL set as for `make test`; `make bench` does that.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMS = ["gewerbe-anmeldung", "wohngeld-mietzuschuss", "hundeanmeldung", "bauantrag", "reisepass"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=10_000, help="submissions in the backlog")
    parser.add_argument("--latency-samples", type=int, default=60)
    parser.add_argument("--render-rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--skip-render", action="store_true", help="leave out part 1")
    return parser.parse_args()


class PdfProblems(logging.Handler):
    """Keeps the errors of the PDF renderer (a stylesheet it could not load, for one)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes and all their descendants have used.

    Read from the kernel's own accounting (/proc/<pid>/stat): utime and stime of
    every live process in the trees, plus cutime and cstime (the children a
    process has already reaped, such as a replaced Celery pool process).
    """
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        # The command name may contain spaces: the fields start after its ")".
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = fields
        parents[int(entry.name)] = int(fields[1])
    tree = set(pids)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    ticks = 0
    for pid in tree & stats.keys():
        # Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 here.
        ticks += sum(int(value) for value in stats[pid][11:15])
    return ticks / CLOCK_TICKS


TASK_RECEIVED = re.compile(r"Task (submissions\.tasks\.\w+)\[[^\]]+\] received")


def tasks_received(logs: list[Path]) -> dict[str, int]:
    """How many tasks of each pipeline task the workers writing ``logs`` received."""
    counts: dict[str, int] = {}
    for log in logs:
        for name in TASK_RECEIVED.findall(log.read_text(errors="replace")):
            short = name.rsplit(".", 1)[-1]
            counts[short] = counts.get(short, 0) + 1
    return counts


def cores() -> int:
    return len(os.sched_getaffinity(0))


def load_note() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def generated_definition(slug: str, fields: int) -> dict:
    """A stand-in definition with the form's size, used when no catalogue file is loaded."""
    steps = []
    per_step = 6
    for s in range(0, fields, per_step):
        steps.append(
            {
                "id": f"step{s // per_step + 1}",
                "title": {
                    "de": f"Abschnitt {s // per_step + 1}",
                    "en": f"Part {s // per_step + 1}",
                },
                "fields": [
                    {
                        "id": f"f{i}",
                        "type": "text",
                        "label": {"de": f"Angabe {i} zu {slug}", "en": f"Field {i}"},
                    }
                    for i in range(s, min(s + per_step, fields))
                ],
            }
        )
    return {"steps": steps}


FIELD_COUNTS = {
    "gewerbe-anmeldung": 33,
    "wohngeld-mietzuschuss": 45,
    "hundeanmeldung": 20,
    "bauantrag": 32,
    "reisepass": 20,
}


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
                    items = []
                    for _ in range(2):
                        item: dict = {}
                        fill(field["fields"], item)
                        items.append(item)
                    target[field["id"]] = items
                else:
                    fill(field["fields"], target)
                continue
            value = sample_value(field)
            if value is not None:
                target[field["id"]] = value

    for step in definition.get("steps", []):
        fill(step.get("fields", []), answers)
    return answers


def catalogue_versions() -> dict | None:
    """The published catalogue versions of the five forms, or None without the loader."""
    try:
        from forms_catalog.selectors import published_version
        from forms_catalog.services import catalogue_load
    except ImportError:
        return None
    from forms_catalog.models import Service

    catalogue_load()
    versions = {}
    for slug in FORMS:
        service = Service.objects.filter(slug=slug).first()
        version = published_version(service=service) if service else None
        if version is None:
            return None
        versions[slug] = version
    return versions


def main() -> int:
    args = parse_args()
    from tests.support.redis_server import ThrowawayRedis

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    (workdir / "redis").mkdir()
    broker = ThrowawayRedis(workdir / "redis")
    broker.start()
    media = workdir / "media"
    media.mkdir()
    os.environ.update(
        CELERY_BROKER_URL=broker.url,
        PORTAL_MEDIA_ROOT=str(media),
        PORTAL_STORAGE_BACKEND="local",
        DJANGO_SETTINGS_MODULE="thueringen_portal.settings",
        # As deployed: hashed static files collected into STATIC_ROOT, which is
        # the configuration in which PDFs once lost their stylesheet.
        PORTAL_MANIFEST_STATIC="true",
        PORTAL_STATIC_ROOT=str(workdir / "static"),
    )
    import django

    django.setup()
    logging.disable(logging.WARNING)
    pdf_problems = PdfProblems()
    for name in ("weasyprint", "submissions.pdf"):
        logging.getLogger(name).addHandler(pdf_problems)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    # A database of its own, so a benchmark never collides with a test run.
    default = settings.DATABASES["default"]
    default["TEST"] = {**default.get("TEST", {}), "NAME": f"bench_{default['NAME']}"}
    db_config = setup_databases(verbosity=0, interactive=False)
    workers = []
    smtp = receiver = None
    try:
        import weasyprint
        from django.template.loader import render_to_string
        from django.utils import translation

        from forms_catalog.models import FormVersion, Service
        from municipalities.models import ResponsibilityRule
        from submissions.models import Submission
        from submissions.pdf import STATIC_BASE, render_office_copy, url_fetcher
        from submissions.pdf import _context as pdf_context
        from submissions.services import submission_submit
        from tests.factories import GemeindeFactory, OfficeFactory, SubmissionFactory
        from tests.submissions.conftest import make_draft
        from tests.support.smtp import SMTPServer
        from tests.support.webhook import WebhookReceiver
        from tests.support.worker import WorkerProcess, worker_env

        smtp = SMTPServer(keep_messages=False).start()
        receiver = WebhookReceiver().start()
        gemeinde = GemeindeFactory(name="Benchhausen")
        channels = {
            "notification_email": "eingang@bench.example",
            "webhook_url": receiver.url,
            "webhook_secret": "bench-secret",  # a local test receiver
        }
        # Offices at both levels, so every form routes whichever level its rule names.
        office = OfficeFactory(verband=gemeinde.verband, **channels)
        OfficeFactory(kreis=gemeinde.kreis, kind="kreis", **channels)
        versions = catalogue_versions()
        from_catalogue = versions is not None
        if not from_catalogue:
            versions = {}
            for slug in FORMS:
                service, _ = Service.objects.get_or_create(
                    slug=slug, defaults={"name_de": slug, "name_en": slug}
                )
                versions[slug] = FormVersion.objects.create(
                    service=service,
                    number=1,
                    status="published",
                    definition=generated_definition(slug, FIELD_COUNTS[slug]),
                    published_at=timezone.now(),
                )
        for version in versions.values():
            ResponsibilityRule.objects.create(service=version.service, level="municipal")

        def answers_for(slug: str) -> dict:
            if from_catalogue:
                return sample_answers(versions[slug].definition)
            answers = {
                f"f{i}": f"Beispielangabe {i} für {slug}, etwas länger formuliert."
                for i in range(FIELD_COUNTS[slug])
            }
            answers.update(name="Erika Mustermann", email="erika@bench.example")
            return answers

        print(
            "Definitions: the catalogue files (forms_catalog/catalogue)"
            if from_catalogue
            else "Definitions: generated stand-ins with each form's field count "
            "(the catalogue is not loaded)"
        )
        print(
            f"{cores()} CPUs; {load_note()} at the start "
            "(other work on the machine slows every figure)"
        )
        print(
            "\n1. PDF render time of the office copy (WeasyPrint, this process), and a bare "
            "WeasyPrint render of the same HTML (default options: no PDF/A-3b, no tags, no "
            "attachment, no shared font configuration)"
        )
        render_office_copy(
            submission=SubmissionFactory(
                form_version=versions["hundeanmeldung"], gemeinde=gemeinde, office=office
            )
        )  # warm-up: fonts, imports
        for slug in [] if args.skip_render else FORMS:
            submission = SubmissionFactory(
                form_version=versions[slug],
                gemeinde=gemeinde,
                office=office,
                answers=answers_for(slug),
            )
            timings, bare_timings, cpu, bare_cpu = [], [], [], []
            with translation.override("de"):
                html = render_to_string(
                    "submissions/pdf/office_copy.html", pdf_context(submission, language="de")
                )
            for _ in range(args.render_rounds):
                start, start_cpu = time.perf_counter(), time.process_time()
                pdf = render_office_copy(submission=submission)
                timings.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                start, start_cpu = time.perf_counter(), time.process_time()
                weasyprint.HTML(
                    string=html, base_url=STATIC_BASE, url_fetcher=url_fetcher()
                ).write_pdf()
                bare_timings.append(time.perf_counter() - start)
                bare_cpu.append(time.process_time() - start_cpu)
            import io

            import pypdf

            pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
            best = statistics.median(timings)
            bare = statistics.median(bare_timings)
            own_cpu, plain_cpu = statistics.median(cpu), statistics.median(bare_cpu)
            # CPU time as well: on a shared machine it varies less than the wall clock.
            print(
                f"   {slug:24s} {pages} page(s), {best * 1000:6.1f} ms per document "
                f"({own_cpu * 1000:.0f} ms CPU), {best * 1000 / pages:5.1f} ms per page; "
                f"bare WeasyPrint {bare * 1000:6.1f} ms ({plain_cpu * 1000:.0f} ms CPU): "
                f"ratio {best / bare:.2f} × wall clock, {own_cpu / plain_cpu:.2f} × CPU"
            )
        problems = [record.getMessage() for record in pdf_problems.records]
        print(
            "   stylesheet loaded in every render (manifest static files, collected STATIC_ROOT): "
            + (f"NO, these figures are of unstyled PDFs: {problems[0]}" if problems else "yes")
        )

        env = worker_env(
            {
                "CELERY_BROKER_URL": broker.url,
                "PORTAL_MEDIA_ROOT": str(media),
                "EMAIL_HOST": smtp.host,
                "EMAIL_PORT": str(smtp.port),
            }
        )

        def start_workers() -> None:
            for n in range(args.workers):
                worker = WorkerProcess(
                    queues="default,pdf,delivery,email",
                    concurrency=1,
                    log_path=workdir / f"worker-{time.monotonic_ns()}-{n}.log",
                    env=env,
                )
                workers.append(worker.start())

        def stop_workers() -> None:
            while workers:
                workers.pop().stop()

        def submit(slug: str) -> Submission:
            draft = make_draft(
                {
                    "service": versions[slug].service,
                    "version": versions[slug],
                    "gemeinde": gemeinde,
                },
                data={},
            )
            submission, _ = submission_submit(draft=draft, answers=answers_for(slug), language="de")
            return submission

        def wait_delivered(ids: list[int], timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                done = Submission.objects.filter(
                    pk__in=ids, delivered_at__isnull=False, citizen_notified_at__isnull=False
                ).count()
                if done == len(ids):
                    return True
                time.sleep(0.2)
            return False

        print(
            f"\n2. Submit-to-delivered latency, {args.workers} worker processes (concurrency 1), "
            "one submission per second"
        )
        start_workers()
        ids = []
        for i in range(args.latency_samples):
            ids.append(submit(FORMS[i % len(FORMS)]).pk)
            time.sleep(1.0)  # light load: one submission per second
        wait_delivered(ids, timeout=600)
        latencies = [
            (s.delivered_at - s.submitted_at).total_seconds()
            for s in Submission.objects.filter(pk__in=ids, delivered_at__isnull=False)
        ]
        print(
            f"   {len(latencies)}/{len(ids)} delivered; p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s "
            "(all channels: inbox, office e-mail, webhook)"
        )
        stop_workers()

        print(f"\n3. Draining a backlog of {args.backlog} submissions, {args.workers} workers")
        start = time.perf_counter()
        backlog = [submit(FORMS[i % len(FORMS)]).pk for i in range(args.backlog)]
        print(f"   queued in {time.perf_counter() - start:.1f} s (submit service, this process)")
        start = time.perf_counter()
        start_workers()
        # From here on the workers' CPU time is the pipeline's work (their start-up,
        # Django and Celery imports, is behind them once they report ready).
        ready = time.perf_counter()
        worker_pids = [worker.pid for worker in workers]
        drain_logs = [worker.log_path for worker in workers]
        cpu_before = process_cpu_seconds(worker_pids)
        done_before = Submission.objects.filter(
            pk__in=backlog, delivered_at__isnull=False, citizen_notified_at__isnull=False
        ).count()
        finished = wait_delivered(backlog, timeout=max(600, args.backlog * 2))
        cpu_used = process_cpu_seconds(worker_pids) - cpu_before
        end = time.perf_counter()
        elapsed = end - start
        done = Submission.objects.filter(pk__in=backlog, delivered_at__isnull=False).count()
        print(
            f"   {done}/{len(backlog)} delivered in {elapsed:.1f} s: "
            f"{done / elapsed:.1f} submissions/s ({done / elapsed * 3600:.0f}/h)"
            + ("" if finished else " (timed out)")
        )
        measured = done - done_before
        if measured > 0 and cpu_used > 0:
            per_submission = cpu_used / measured
            bound = cores() / per_submission
            rate = measured / (end - ready)
            print(
                f"   worker CPU (their own accounting, /proc): {cpu_used:.1f} s for {measured} "
                f"submissions = {per_submission:.3f} CPU-s per submission"
            )
            print(
                f"   bound on {cores()} cores: {bound:.1f} submissions/s; drain rate once the "
                f"workers were ready {rate:.2f}/s = {rate / bound:.2f} of the bound"
            )
            # On a shared machine the workers get less than the cores: how much they
            # got, and the drain rate against what that share allows.
            share = cpu_used / (end - ready)
            print(
                f"   the workers were on CPU {share:.2f} of {cores()} cores on average; "
                f"drain rate / (that share ÷ CPU-s per submission) = "
                f"{rate / (share / per_submission):.2f}"
            )
        received = tasks_received(drain_logs)
        if done:
            print(
                f"   task hand-offs: {sum(received.values()) / done:.2f} tasks per submission ("
                + ", ".join(f"{name} {n}" for name, n in sorted(received.items()))
                + ")"
            )
        print(f"   {load_note()} at the end of the drain")
        print(
            f"   SMTP messages received: {smtp.received}; webhook posts: {len(receiver.requests)}"
        )
        stop_workers()
    finally:
        for worker in workers:
            worker.stop()
        if smtp:
            smtp.stop()
        if receiver:
            receiver.stop()
        from django.db import connections

        connections.close_all()
        teardown_databases(db_config, verbosity=0)
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
