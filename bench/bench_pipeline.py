#!/usr/bin/env python3
"""Benchmark of the submission pipeline (prints figures; never passes or fails on time).

1. Submit-to-delivered latency (p50/p95), one submission per second.
2. Drain rate of a backlog of submissions queued while no worker ran (default 10,000;
   ``--backlog N`` for a smaller run, e.g. 300), the workers' CPU seconds per submission
   (their own accounting in /proc), the bound that implies (cores ÷ CPU seconds per
   submission), the drain rate as a fraction of it, and the task hand-offs per
   submission (tasks the workers received, from their logs). Next to it, where the
   rest of the machine went: the workers' time off the CPU (blocked on I/O, or
   runnable but waiting for a core, from /proc/<pid>/schedstat) and the CPU of
   PostgreSQL (this run's connections), Redis and this process (the local SMTP and
   webhook stand-ins run here as threads) per submission.

Workers run as deployed: ``--workers`` Celery worker nodes (default 2), each with
``--concurrency`` prefork pool processes (default: the deployment default,
``CELERY_WORKER_CONCURRENCY``, split over the nodes: 2 pool processes per core in
all), so one process's wait for PostgreSQL, Redis or a mail server is filled by
another's work. The PDFs themselves are measured by ``bench/bench_pdf.py``.

Prints the load average, since other work on the machine slows every figure.

Runs against a fresh PostgreSQL database created for the run (like the tests),
a throwaway redis-server on a random port (append-only, fsync every second, as
in docker-compose.yml), a local SMTP server and a local webhook receiver, so it
touches no other data. Needs DATABASE_URL (PostgreSQL) and REDIS_URL set as for
`make test`; `make bench` does that.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
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
    parser.add_argument("--workers", type=int, default=2, help="Celery worker nodes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="pool processes per node (default: the deployment default split over the nodes)",
    )
    return parser.parse_args()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> tuple[dict[int, int], dict[int, list[str]]]:
    """Parent and stat fields of every process (the fields after the command name)."""
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
    return parents, stats


def process_tree(pids: list[int]) -> set[int]:
    """The processes and all their live descendants."""
    parents, _ = _proc_table()
    tree = set(pids)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def process_cpu_seconds(pids: list[int], *, descendants: bool = True) -> float:
    """CPU seconds (user + system) the processes (and all their descendants) have used.

    Read from the kernel's own accounting (/proc/<pid>/stat): utime and stime of
    every live process in the trees, plus cutime and cstime (the children a
    process has already reaped, such as a replaced Celery pool process).
    """
    if descendants:
        _, stats = _proc_table()
        tree = process_tree(pids)
    else:
        # Only these processes: no scan of every process (this runs on each poll).
        stats = {}
        for pid in pids:
            try:
                raw = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            stats[pid] = raw[raw.rindex(")") + 2 :].split()
        tree = set(pids)
    ticks = 0
    for pid in tree & stats.keys():
        # Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 here.
        ticks += sum(int(value) for value in stats[pid][11:15])
    return ticks / CLOCK_TICKS


def run_and_wait_seconds(pids: set[int]) -> tuple[float, float]:
    """Seconds on a CPU and seconds runnable but waiting for one, summed over all threads.

    From /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU, nanoseconds
    waiting on a run queue, time slices). Whatever else of the wall clock a
    process did not spend in these two, it was blocked: waiting for PostgreSQL,
    Redis, a server, or for work.
    """
    running = waiting = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                on_cpu, on_queue, _ = (task / "schedstat").read_text().split()
            except (OSError, ValueError):
                continue
            running += int(on_cpu)
            waiting += int(on_queue)
    return running / 1e9, waiting / 1e9


def database_counters(database: str) -> tuple[int, int, float]:
    """Sessions opened, transactions committed, and milliseconds spent in statements so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sessions, xact_commit, active_time FROM pg_stat_database WHERE datname = %s",
            [database],
        )
        sessions, commits, active = cursor.fetchone()
    return int(sessions), int(commits), float(active)


def postgres_backends(database: str) -> list[int]:
    """The server processes of the connections to ``database`` other than this one's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


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
    # As docker-compose.yml runs Redis: append-only, fsync once a second (the
    # throwaway server's default, fsync on every write, is for the restart tests).
    import redis

    redis.Redis.from_url(broker.url).config_set("appendfsync", "everysec")
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
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    # A database of its own, so a benchmark never collides with a test run.
    default = settings.DATABASES["default"]
    default["TEST"] = {**default.get("TEST", {}), "NAME": f"bench_{default['NAME']}"}
    db_config = setup_databases(verbosity=0, interactive=False)
    workers = []
    smtp = receiver = None
    try:
        from forms_catalog.models import FormVersion, Service
        from municipalities.models import ResponsibilityRule
        from submissions.models import Submission
        from submissions.services import submission_submit
        from tests.factories import GemeindeFactory, OfficeFactory
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
        OfficeFactory(verband=gemeinde.verband, **channels)
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
        env = worker_env(
            {
                "CELERY_BROKER_URL": broker.url,
                "PORTAL_MEDIA_ROOT": str(media),
                "EMAIL_HOST": smtp.host,
                "EMAIL_PORT": str(smtp.port),
            }
        )

        # As deployed: the pool processes a node gets by default on this machine
        # (CELERY_WORKER_CONCURRENCY), shared out over the nodes started here.
        concurrency = args.concurrency or max(
            1, settings.CELERY_WORKER_CONCURRENCY // max(1, args.workers)
        )
        pool = f"{args.workers} worker nodes × {concurrency} pool processes on {cores()} cores"

        def start_workers() -> None:
            for n in range(args.workers):
                worker = WorkerProcess(
                    queues="default,pdf,delivery,email",
                    concurrency=concurrency,
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

        def wait_delivered(ids: list[int], timeout: float, on_poll=None) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if on_poll is not None:
                    on_poll()
                done = Submission.objects.filter(
                    pk__in=ids, delivered_at__isnull=False, citizen_notified_at__isnull=False
                ).count()
                if done == len(ids):
                    return True
                # The figures come from the rows' timestamps, not from this loop,
                # so it polls gently: its CPU competes with the workers'.
                time.sleep(0.5)
            return False

        print(f"\n1. Submit-to-delivered latency, {pool}, one submission per second")
        start_workers()
        ids = []
        for i in range(args.latency_samples):
            ids.append(submit(FORMS[i % len(FORMS)]).pk)
            time.sleep(1.0)  # light load: one submission per second
        wait_delivered(ids, timeout=600)
        delivered = list(Submission.objects.filter(pk__in=ids, delivered_at__isnull=False))
        latencies = [(s.delivered_at - s.submitted_at).total_seconds() for s in delivered]
        # Where the time goes: up to the PDFs (queue wait, render, the inbox in the
        # same transaction), and from them to the last outside channel.
        to_pdfs = [(s.pdfs_rendered_at - s.submitted_at).total_seconds() for s in delivered]
        to_channels = [(s.delivered_at - s.pdfs_rendered_at).total_seconds() for s in delivered]
        print(
            f"   {len(latencies)}/{len(ids)} delivered; p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s "
            "(all channels: inbox, office e-mail, webhook)"
        )
        print(
            f"   of which submit → PDFs and inbox recorded p50 {percentile(to_pdfs, 0.5):.2f} s, "
            f"p95 {percentile(to_pdfs, 0.95):.2f} s; → last outside channel recorded "
            f"p50 {percentile(to_channels, 0.5):.2f} s, p95 {percentile(to_channels, 0.95):.2f} s"
        )
        stop_workers()

        print(f"\n2. Draining a backlog of {args.backlog} submissions, {pool}")
        start = time.perf_counter()
        backlog = [submit(FORMS[i % len(FORMS)]).pk for i in range(args.backlog)]
        print(f"   queued in {time.perf_counter() - start:.1f} s (submit service, this process)")
        start = time.perf_counter()
        start_workers()
        # From here on the workers' CPU time is the pipeline's work (their start-up,
        # Django and Celery imports, is behind them once they report ready).
        ready = time.perf_counter()
        ready_wall = time.time()
        worker_pids = [worker.pid for worker in workers]
        drain_logs = [worker.log_path for worker in workers]
        pool_pids = process_tree(worker_pids) - set(worker_pids)
        cpu_before = process_cpu_seconds(worker_pids)
        pool_before = run_and_wait_seconds(pool_pids)
        own_before = process_cpu_seconds([os.getpid()], descendants=False)
        redis_before = process_cpu_seconds([broker.process.pid])
        database = connection.settings_dict["NAME"]
        # PostgreSQL's CPU for this run: its server processes for the workers'
        # connections, read on every poll (a connection may close in between).
        backend_cpu: dict[int, float] = dict.fromkeys(postgres_backends(database), 0.0)
        backend_start = {pid: process_cpu_seconds([pid], descendants=False) for pid in backend_cpu}

        polls = 0
        counters_before = database_counters(database)

        def sample_backends() -> None:
            nonlocal polls
            polls += 1
            for pid in postgres_backends(database):
                used = process_cpu_seconds([pid], descendants=False)
                if used:
                    backend_cpu[pid] = used - backend_start.get(pid, 0.0)

        done_before = Submission.objects.filter(
            pk__in=backlog, delivered_at__isnull=False, citizen_notified_at__isnull=False
        ).count()
        finished = wait_delivered(
            backlog, timeout=max(600, args.backlog * 2), on_poll=sample_backends
        )
        cpu_used = process_cpu_seconds(worker_pids) - cpu_before
        end = time.perf_counter()
        sample_backends()
        pool_after = run_and_wait_seconds(pool_pids)
        own_cpu = process_cpu_seconds([os.getpid()], descendants=False) - own_before
        redis_cpu = process_cpu_seconds([broker.process.pid]) - redis_before
        postgres_cpu = sum(backend_cpu.values())
        time.sleep(1.5)  # PostgreSQL publishes its statistics about once a second
        counters_after = database_counters(database)
        # This process's own transactions: two per poll (the list of connections,
        # the count; the last reading lists only), the count before the drain and
        # the first reading of the counters.
        own_commits = 2 * polls + 1
        # The drain ends with the last completion the workers recorded (not when
        # the polling loop above noticed it).
        last = max(
            max(s.delivered_at, s.citizen_notified_at)
            for s in Submission.objects.filter(
                pk__in=backlog, delivered_at__isnull=False, citizen_notified_at__isnull=False
            )
        )
        drain_seconds = min(end - ready, last.timestamp() - ready_wall)
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
            rate = measured / drain_seconds
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
            share = cpu_used / drain_seconds
            print(
                f"   the workers were on CPU {share:.2f} of {cores()} cores on average; "
                f"drain rate / (that share ÷ CPU-s per submission) = "
                f"{rate / (share / per_submission):.2f}"
            )
            # Where the pool processes' wall clock went, per submission: on a CPU,
            # runnable but waiting for one (other work on the machine), or blocked
            # (PostgreSQL, Redis, the stand-in servers, or no work to take).
            span = (end - ready) * len(pool_pids)  # the span the schedstat figures cover
            on_cpu = pool_after[0] - pool_before[0]
            queued = pool_after[1] - pool_before[1]
            print(
                f"   {len(pool_pids)} pool processes, per submission: on a CPU "
                f"{on_cpu / measured:.3f} s, waiting for a CPU {queued / measured:.3f} s, "
                f"blocked {(span - on_cpu - queued) / measured:.3f} s"
            )
            sessions = counters_after[0] - counters_before[0]
            commits = counters_after[1] - counters_before[1] - own_commits
            active = (counters_after[2] - counters_before[2]) / 1000
            print(
                f"   PostgreSQL per submission: {sessions / measured:.2f} connections opened, "
                f"{commits / measured:.1f} transactions committed, "
                f"{active / measured * 1000:.1f} ms executing statements (pg_stat_database)"
            )
            print(
                f"   other CPU per submission: PostgreSQL (this run's connections) "
                f"{postgres_cpu / measured:.3f} s, Redis {redis_cpu / measured:.3f} s, "
                f"this process (SMTP and webhook stand-ins, polling) {own_cpu / measured:.3f} s"
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
