"""Statewide statistics at 1,000,000 submissions, uncached: from the tallies, and the old scan.

Uses the kept database of bench_case_list.py (`<DATABASE name>_bench_cases`,
generated once with INSERT ... SELECT generate_series; `--rebuild` starts
over). The generated rows are written around the services, so the tallies
are rebuilt from them first (`manage.py submission_tallies_rebuild`; its time
is printed too). Then, side by side in one run: the selector
`statewide_statistics` (what the page reads, with no cache in front of it),
the whole page for a Kompetenzzentrum account, and the same figures computed
the old way (grouped scans of the submissions) for the ratio. Figures only:
nothing passes or fails on time. Goal: the page under 200 ms uncached.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_statistics.py [--rows N] [--rebuild]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Sets Django up on the kept 1M database and parses --rows/--rebuild/--repeat.
import bench_case_list
from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth
from django.test import Client
from django.utils import timezone

from backoffice.case_selectors import (
    Median,
    _aware,
    _month_start,
    statewide_statistics,
)
from submissions.models import Submission, SubmissionTally
from submissions.tallies import tallies_rebuild
from tests.support.staff import otp_force_login

ROUNDS = 10


def timed(function, rounds: int = ROUNDS) -> tuple[float, float, float]:
    """Median and max wall-clock ms, and median CPU ms of this process, over ``rounds`` calls."""
    walls, cpus = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu_started) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus)


def scanned_statistics() -> None:
    """The figures of the page as they were computed before the tallies: grouped scans."""
    today = timezone.localdate()
    start = _aware(_month_start(today, 11))
    selected = _month_start(today)
    list(
        Submission.objects.filter(submitted_at__gte=start)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month", "service__name_de")
        .annotate(n=Count("id"))
        .order_by()
    )
    list(
        Submission.objects.filter(
            submitted_at__gte=_aware(selected), submitted_at__lt=_aware(_month_start(selected, -1))
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


def kompetenzzentrum_client() -> Client:
    from django.core.management import call_command

    from backoffice.staff import staff_create, staff_password_change

    call_command("setup_roles", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    User = get_user_model()
    user = User.objects.filter(username="bench_stats_kz").first()
    if user is None:
        credentials = staff_create(username="bench_stats_kz", role="kompetenzzentrum")
        user = User.objects.get(username="bench_stats_kz")
        staff_password_change(user=user, password=f"{credentials.password}-eigenes")
    client = Client()
    otp_force_login(client, user)
    return client


def main() -> None:
    bench_case_list.reference_data()
    bench_case_list.generate(bench_case_list.args.rows)
    total = Submission.objects.count()
    print(f"database: {bench_case_list.bench_db}; submissions: {total:,}")
    print(f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    rows = tallies_rebuild()
    print(
        f"tallies rebuilt from the submissions in {time.perf_counter() - started:.1f} s: "
        f"{rows['submission_tallies']:,} per-Gemeinde rows, {rows['service_tallies']:,} "
        f"per-service rows, {rows['decision_tallies']:,} decision rows"
    )
    tallied = SubmissionTally.objects.aggregate(n=Sum("count"))["n"]
    print(f"tallied submissions {tallied:,} = COUNT(*) {total:,}: {tallied == total}")

    client = kompetenzzentrum_client()
    assert client.get("/admin/backoffice/statistik/").status_code == 200  # warm-up

    def page() -> None:
        response = client.get("/admin/backoffice/statistik/")
        assert response.status_code == 200

    selector = timed(lambda: statewide_statistics())
    page_times = timed(page)
    scan = timed(scanned_statistics, rounds=3)
    print(f"{'uncached, ms':44} {'p50':>8} {'max':>8} {'CPU p50':>8}")
    for label, (p50, worst, cpu) in [
        ("selector statewide_statistics (tallies)", selector),
        ("page /admin/backoffice/statistik/ (tallies)", page_times),
        ("same figures by scanning submissions (before)", scan),
    ]:
        print(f"{label:44} {p50:8.1f} {worst:8.1f} {cpu:8.1f}")
    print(f"selector: {scan[0] / selector[0]:.0f} × faster than the scan")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
