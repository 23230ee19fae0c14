"""A /metrics scrape at many submissions: time of the figures read from PostgreSQL.

Uses a dedicated benchmark database (`<DATABASE name>_bench_metrics`, never the
test database), fills it once with generated submissions and deliveries
(INSERT ... SELECT generate_series) and keeps it (`--rebuild` starts over).
Then measures `operations_figures()` (the aggregate queries, run at most every
PORTAL_METRICS_FIGURES_SECONDS) and a whole authorised `/metrics` request
in-process while the figures are cached (queue depths are read every time).
Figures only: nothing passes or fails.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_metrics.py [--rows N] [--rebuild]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=1_000_000)
parser.add_argument("--rebuild", action="store_true")
parser.add_argument("--repeat", type=int, default=20)
args, _unknown = parser.parse_known_args()

from bench_database import bench_django_setup  # noqa: E402

bench_db = bench_django_setup(
    suffix="bench_metrics",
    rebuild=args.rebuild,
    env={"PORTAL_METRICS_TOKEN": "bench-metrics-token"},
)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from backoffice.operations_selectors import operations_figures  # noqa: E402
from forms_catalog.models import FormVersion, Service  # noqa: E402
from municipalities.models import Gemeinde, Gemeindeverband, Kreis, Land  # noqa: E402
from submissions.models import Submission  # noqa: E402


def reference_data() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    if Gemeinde.objects.exists():
        return
    land = Land.objects.create(key="16", name="Thüringen")
    kreis = Kreis.objects.create(key="16051", name="Erfurt", kind="41", land=land)
    verband = Gemeindeverband.objects.create(key="160510000", name="Erfurt", kind="50", kreis=kreis)
    Gemeinde.objects.create(
        ags="16051000", ars="160510000000", name="Erfurt", kind="61", kreis=kreis, verband=verband
    )
    for n, slug in enumerate(["gewerbe-anmeldung", "wohngeld", "hundeanmeldung", "bauantrag"]):
        service = Service.objects.create(slug=slug, name_de=slug, name_en=slug, sort_order=n)
        FormVersion.objects.create(service=service, number=1, status="published", definition={})


def generate(rows: int) -> None:
    present = Submission.objects.count()
    if present >= rows:
        print(f"{present:,} submissions present (kept; --rebuild to regenerate)")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Most pipelines finished; some wait at a step, a few stopped visibly.
        cursor.execute(
            """
            WITH v AS (SELECT array_agg(id ORDER BY id) AS ids,
                              array_agg(service_id ORDER BY id) AS services
                       FROM forms_catalog_formversion),
                 g AS (SELECT min(id) AS id FROM municipalities_gemeinde)
            INSERT INTO submissions_submission (
                reference, access_secret_hash, service_id, form_version_id, gemeinde_id,
                answers, language, applicant_name, applicant_email, status, submitted_at,
                office_resolved_at, pdfs_rendered_at, delivered_at, citizen_notified_at,
                pipeline_failed_at, pipeline_error, office_pdf, receipt_pdf)
            SELECT 'TH-B-' || lpad(to_hex(i), 10, '0'), md5(i::text),
                v.services[1 + i %% 4], v.ids[1 + i %% 4], g.id,
                '{}'::jsonb, 'de', '', '', 'forwarded', now(),
                CASE WHEN r > 0.002 THEN now() END,
                CASE WHEN r > 0.004 THEN now() END,
                CASE WHEN r > 0.01 THEN now() END,
                CASE WHEN r > 0.01 THEN now() END,
                CASE WHEN r <= 0.002 THEN now() END, '', '', ''
            FROM generate_series(%s::bigint, %s::bigint) AS i
            CROSS JOIN v CROSS JOIN g CROSS JOIN LATERAL (SELECT random() AS r) AS x
            """,
            [present + 1, rows],
        )
        cursor.execute(
            """
            INSERT INTO submissions_delivery (submission_id, channel, status, attempts,
                last_error, created_at)
            SELECT s.id, c.channel,
                CASE WHEN s.delivered_at IS NOT NULL THEN 'delivered' ELSE 'pending' END,
                1 + (s.id %% 3) * (c.channel = 'webhook')::int, '', now()
            FROM submissions_submission s
            CROSS JOIN (VALUES ('inbox'), ('email'), ('webhook')) AS c(channel)
            WHERE s.id > %s AND (c.channel <> 'webhook' OR s.id %% 3 = 0)
            """,
            [present],
        )
        cursor.execute("ANALYZE submissions_submission")
        cursor.execute("ANALYZE submissions_delivery")
    print(f"generated {rows - present:,} submissions in {time.perf_counter() - started:.1f} s")


def timings(function, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


if __name__ == "__main__":
    reference_data()
    generate(args.rows)
    count = Submission.objects.count()
    client = Client()
    headers = {"Authorization": "Bearer bench-metrics-token"}
    assert client.get("/metrics", headers=headers).status_code == 200
    p50, p95 = timings(operations_figures, args.repeat)
    print(f"operations_figures at {count:,} submissions: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    p50, p95 = timings(lambda: client.get("/metrics", headers=headers), args.repeat)
    print(f"whole /metrics scrape, figures cached: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
