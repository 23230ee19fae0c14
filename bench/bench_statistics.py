"""Statewide statistics and the office overview at 1,000,000 submissions, uncached.

Uses the kept database of bench_case_list.py (`<DATABASE name>_bench_cases`,
generated once with INSERT ... SELECT generate_series; `--rebuild` starts
over). The generated rows are written around the services, so the tallies
are rebuilt from them when their sum differs from COUNT(*) (`--tallies`
rebuilds them anyway; its time is printed). Figures only: nothing passes or
fails on time. Goal: each page under 200 ms as a whole request, uncached.

1. The statewide statistics page (Kompetenzzentrum): the selector
   `statewide_statistics` (from the tallies, no cache in front of it), the
   page with the Kreise (default), one Kreis's Gemeinden, sorted by count,
   the CSV of every Gemeinde, and the same figures by grouped scans of the
   submissions (how they were computed before the tallies) for the ratio.
2. The office overview of the busiest office's lead (68,000 cases): the
   selector `office_overview` (index-only counts) against the grouped scan it
   replaced (tests/backoffice/overview_reference.py, whose figures the
   selector's must equal: checked here too), the whole page, and the
   platform administrator's overview of every office.

Each line shows wall time (p50, max), the CPU time of this process (the
web process's share: Python, template rendering) and the SQL time (wall
time of the queries as Django saw them). The machine is shared: the CPU
figures move least with load. EXPLAIN (ANALYZE, BUFFERS) of the overview's
queries follows.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_statistics.py [--rebuild] [--tallies]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Sets Django up on the kept 1M database and parses --rows/--rebuild/--repeat.
import bench_case_list
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.case_selectors import (
    Median,
    _aware,
    month_start,
    office_overview,
    statewide_statistics,
)
from backoffice.staff import staff_create, staff_password_change
from submissions.models import Submission, SubmissionTally
from submissions.tallies import tallies_rebuild
from tests.backoffice.overview_reference import office_overview_scanned
from tests.support.staff import otp_force_login

parser = argparse.ArgumentParser()
parser.add_argument("--tallies", action="store_true", help="rebuild the tallies in any case")
parser.add_argument("--rounds", type=int, default=10)
parser.add_argument(
    "--no-vacuum", action="store_true", help="measure the overview before any VACUUM"
)
args, _unknown = parser.parse_known_args()
ROUNDS = args.rounds


def timed(function, rounds: int = ROUNDS) -> tuple[float, float, float, float, int]:
    """Median and max wall-clock ms, median CPU ms of this process, median SQL ms and the
    number of queries of one call, over ``rounds`` calls."""
    walls, cpus, sqls = [], [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            function()
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu_started) * 1000)
        sqls.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    return (
        statistics.median(walls),
        max(walls),
        statistics.median(cpus),
        statistics.median(sqls),
        len(queries),
    )


def scanned_statistics() -> None:
    """The figures of the page as they were computed before the tallies: grouped scans."""
    today = timezone.localdate()
    start = _aware(month_start(today, 11))
    selected = month_start(today)
    list(
        Submission.objects.filter(submitted_at__gte=start)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month", "service__name_de")
        .annotate(n=Count("id"))
        .order_by()
    )
    list(
        Submission.objects.filter(
            submitted_at__gte=_aware(selected), submitted_at__lt=_aware(month_start(selected, -1))
        )
        .values("gemeinde__ags", "gemeinde__name", "service__name_de")
        .annotate(n=Count("id"))
        .order_by("gemeinde__name", "service__name_de")
    )
    duration = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    list(
        Submission.objects.filter(decided_at__gte=start, decided_at__isnull=False)
        .exclude(status=Submission.Status.WITHDRAWN)
        .values("service__name_de")
        .annotate(n=Count("id"), median=Median(duration, output_field=DurationField()))
        .order_by("service__name_de")
    )


def staff_client(username: str, role: str, office_ids: list[int]) -> tuple[Client, object]:
    call_command("setup_roles", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        credentials = staff_create(username=username, role=role, office_ids=office_ids)
        user = User.objects.get(username=username)
        staff_password_change(user=user, password=f"{credentials.password}-eigenes")
    client = Client()
    otp_force_login(client, user)
    return client, user


def getter(client: Client, url: str, content_type: str = "text/html"):
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith(content_type), response["Content-Type"]

    return get


def show(rows: list[tuple[str, tuple]]) -> None:
    print(f"{'uncached, ms':52} {'p50':>7} {'max':>7} {'CPU p50':>8} {'SQL p50':>8} {'queries':>7}")
    for label, (p50, worst, cpu, sql, queries) in rows:
        print(f"{label:52} {p50:7.1f} {worst:7.1f} {cpu:8.1f} {sql:8.1f} {queries:7d}")


def _all_visible(cursor, table: str = "submissions_submission") -> float:
    """The share of `table`'s pages the visibility map marks all-visible."""
    cursor.execute(
        "SELECT relallvisible::float / greatest(relpages, 1) FROM pg_class WHERE relname = %s",
        [table],
    )
    return cursor.fetchone()[0]


def vacuumed(table: str) -> None:
    """VACUUM (ANALYZE) a table that autovacuum has not reached yet (generated or rebuilt
    rows): what it would do. Without it, an index-only scan still reads the table's pages
    to check visibility (--no-vacuum measures that)."""
    with connection.cursor() as cursor:
        visible = _all_visible(cursor, table)
        if visible >= 0.5 or args.no_vacuum:
            print(f"{table}: {visible:.0%} of its pages marked all-visible")
            return
        started = time.perf_counter()
        cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(
            f"VACUUM (ANALYZE) {table}: {time.perf_counter() - started:.1f} s "
            f"(all-visible pages {visible:.0%} before, {_all_visible(cursor, table):.0%} after)"
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    bench_case_list.reference_data()
    bench_case_list.generate(bench_case_list.args.rows)
    total = Submission.objects.count()
    print(f"database: {bench_case_list.bench_db}; submissions: {total:,}")
    print(f"{os.cpu_count()} CPUs; load average {load()} at the start")
    tallied = SubmissionTally.objects.aggregate(n=Sum("count"))["n"] or 0
    if args.tallies or tallied != total:
        started = time.perf_counter()
        rows = tallies_rebuild()
        print(
            f"tallies rebuilt from the submissions in {time.perf_counter() - started:.1f} s: "
            f"{rows['submission_tallies']:,} per-Gemeinde rows, {rows['service_tallies']:,} "
            f"per-service rows, {rows['decision_tallies']:,} decision rows"
        )
        tallied = SubmissionTally.objects.aggregate(n=Sum("count"))["n"]
    print(f"tallied submissions {tallied:,} = COUNT(*) {total:,}: {tallied == total}")
    vacuumed("submissions_submissiontally")

    # 1. Statewide statistics.
    client, _user = staff_client("bench_stats_kz", "kompetenzzentrum", [])
    kreis = (
        SubmissionTally.objects.values("gemeinde__kreis__key")
        .annotate(n=Sum("count"))
        .order_by("-n")
        .values_list("gemeinde__kreis__key", flat=True)
        .first()
    )
    base = "/admin/backoffice/statistik/"
    pages = [
        ("page: Kreise (default)", base),
        ("page: Gemeinden of the busiest Kreis", f"{base}?kreis={kreis}"),
        ("page: Kreise sorted by count", f"{base}?sortierung=anzahl"),
    ]
    for _label, url in pages:
        getter(client, url)()  # warm-up
    csv_get = getter(client, f"{base}gemeinden.csv", "text/csv")
    csv_get()
    rows = [
        ("selector statewide_statistics (Kreise)", timed(lambda: statewide_statistics())),
        (
            "selector statewide_statistics (one Kreis)",
            timed(lambda: statewide_statistics(kreis_key=kreis)),
        ),
        *((label, timed(getter(client, url))) for label, url in pages),
        ("CSV of every Gemeinde (605 rows)", timed(csv_get)),
        ("same figures by scanning submissions (before)", timed(scanned_statistics, rounds=3)),
    ]
    print("\n1. Statewide statistics (Kompetenzzentrum)")
    show(rows)
    print(f"selector: {rows[-1][1][0] / rows[0][1][0]:.0f} × faster than the scan")

    # 2. Office overview.
    office, office_cases = bench_case_list.busiest_office()
    lead_client, lead = staff_client("bench_stats_lead", "lead", [office.pk])
    with connection.cursor() as cursor:
        # As bench_case_list's clerk: a fifth of the office's cases assigned to someone.
        cursor.execute(
            "UPDATE submissions_submission SET assigned_to_id = %s "
            "WHERE office_id = %s AND id %% 5 = 0 AND assigned_to_id IS NULL",
            [lead.pk, office.pk],
        )
    vacuumed("submissions_submission")
    print(f"\n2. Office overview of '{office.name}' ({office_cases:,} cases, the busiest office)")
    now = timezone.now()
    same = office_overview(office_ids={office.pk}, now=now) == office_overview_scanned(
        office_ids={office.pk}, now=now
    )
    every = office_overview(office_ids=None, now=now) == office_overview_scanned(
        office_ids=None, now=now
    )
    print(f"figures equal to the scan's: busiest office {same}, every office {every}")
    _client, admin = staff_client("bench_stats_root", "kompetenzzentrum", [])
    if not admin.is_superuser:
        get_user_model().objects.filter(pk=admin.pk).update(is_superuser=True)
    root_client = Client()
    otp_force_login(root_client, get_user_model().objects.get(pk=admin.pk))
    overview_url = "/admin/backoffice/uebersicht/"
    getter(lead_client, overview_url)()
    getter(root_client, overview_url)()
    rows = [
        (
            "selector office_overview (index-only counts)",
            timed(lambda: office_overview(office_ids={office.pk})),
        ),
        (
            "same figures by the grouped scan (before)",
            timed(lambda: office_overview_scanned(office_ids={office.pk})),
        ),
        ("page /admin/backoffice/uebersicht/ (lead)", timed(getter(lead_client, overview_url))),
        (
            "selector, every office (platform admin)",
            timed(lambda: office_overview(office_ids=None), rounds=3),
        ),
        (
            "grouped scan, every office (before)",
            timed(lambda: office_overview_scanned(office_ids=None), rounds=3),
        ),
        ("page, every office (platform admin)", timed(getter(root_client, overview_url), 3)),
    ]
    show(rows)
    print(f"selector: {rows[1][1][0] / rows[0][1][0]:.1f} × faster than the scan (busiest office)")
    print(f"load average {load()} at the end")

    if os.environ.get("BENCH_EXPLAIN", "1") != "0":
        explain(
            "the statewide statistics' read of the month's tallies (Kreise)",
            lambda: statewide_statistics(),
            "submissions_submissiontally",
        )
        explain(
            "the overview's counts (busiest office)",
            lambda: office_overview(office_ids={office.pk}),
            "submissions_submission",
        )


def explain(label: str, function, table: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the queries of `function` that read `table`."""
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of {label}:")
    with CaptureQueriesContext(connection) as queries:
        function()
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if f'"{table}"' not in query["sql"]:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")


if __name__ == "__main__":
    main()
