"""Funnel statistics at 1,000,000 drafts: the selector and the whole page, p50/p95 per filter,
computed from the raw draft rows and with the roll-up of the closed days (funnel_rollup.py).

Uses a dedicated benchmark database (`<DATABASE name>_bench_funnel`, never the
test database), fills it once through PostgreSQL (INSERT ... SELECT
generate_series: six services with two versions of five steps each, drafts
over two years, most of them purged, a third with refused fields) and keeps it
for later runs (`--rebuild` starts over). A Kompetenzzentrum user then opens
the funnel page with each filter; the timings are in-process server times
(selector, audit entry, rendering). The page reads the roll-up (refreshed
first, timed: the first refresh rolls up two years, later ones only the days
closed since); the selector runs both ways, from the raw rows
(`rolled_up=False`) and with the roll-up. Figures only: nothing passes or
fails on time. Goal: under 200 ms.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_funnel.py [--rows N] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime
import os
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
    suffix="bench_funnel", rebuild=args.rebuild, env={"AXES_ENABLED": "false"}
)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from backoffice.funnel_rollup import funnel_rollup_refresh  # noqa: E402
from backoffice.funnel_selectors import FunnelFilter, funnel_versions  # noqa: E402
from backoffice.models import FunnelRollup  # noqa: E402
from backoffice.staff import staff_create, staff_password_change  # noqa: E402
from forms_catalog.models import FormVersion, Service  # noqa: E402
from forms_catalog.services import definition_checksum  # noqa: E402
from municipalities.models import Gemeinde, Gemeindeverband, Kreis, Land  # noqa: E402
from submissions.models import Draft  # noqa: E402
from tests.support.staff import otp_force_login  # noqa: E402

STEPS, FIELDS = 5, 4
SERVICES = [
    "gewerbe-anmeldung",
    "wohngeld-mietzuschuss",
    "hundeanmeldung",
    "bauantrag",
    "reisepass",
    "veranstaltungsanmeldung",
]


def definition() -> dict:
    """Five steps of four required text fields each ("s<step>f<field>")."""
    steps = []
    for s in range(STEPS):
        fields = [
            {
                "id": f"s{s}f{f}",
                "type": "text",
                "label": {"de": f"Feld {s}.{f}", "en": f"Field {s}.{f}"},
                "required": True,
            }
            for f in range(FIELDS)
        ]
        steps.append(
            {
                "id": f"schritt{s}",
                "title": {"de": f"Schritt {s}", "en": f"Step {s}"},
                "fields": fields,
            }
        )
    return {"schema_version": 1, "steps": steps}


def reference_data() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    if Gemeinde.objects.exists():
        return
    land = Land.objects.create(key="16", name="Thüringen")
    kreise = [
        Kreis.objects.create(key=f"16{n:03d}", name=f"Kreis {n}", kind="44", land=land)
        for n in range(1, 24)
    ]
    verbaende = [
        Gemeindeverband.objects.create(
            key=f"{kreise[n % 23].key}{n:04d}", name=f"Verband {n}", kind="54", kreis=kreise[n % 23]
        )
        for n in range(189)
    ]
    Gemeinde.objects.bulk_create(
        Gemeinde(
            ags=f"{verbaende[n % 189].kreis.key}{n:03d}",
            ars=f"{verbaende[n % 189].key}{n:03d}",
            name=f"Gemeinde {n}",
            kind="64",
            kreis=verbaende[n % 189].kreis,
            verband=verbaende[n % 189],
        )
        for n in range(605)
    )
    for n, slug in enumerate(SERVICES):
        service = Service.objects.create(slug=slug, name_de=slug, name_en=slug, sort_order=n)
        for number in (1, 2):
            FormVersion.objects.create(
                service=service,
                number=number,
                status="published",
                definition=definition(),
                checksum=definition_checksum(definition()),
                published_at=timezone.now(),
            )


def generate(rows: int) -> None:
    present = Draft.objects.count()
    funnel_indexes = [i for i in Draft._meta.indexes if i.name.startswith("draft_funnel")]
    if present >= rows:
        print(f"{present:,} drafts present (kept; --rebuild to regenerate)")
        with connection.schema_editor() as editor:
            for index in funnel_indexes:  # any index added since
                editor.execute(
                    str(index.create_sql(Draft, editor)).replace(
                        "CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1
                    )
                )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE submissions_draft")
        return
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        # Build the funnel indexes once after loading instead of row by row.
        for index in funnel_indexes:
            editor.remove_index(Draft, index)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH g AS (SELECT array_agg(id ORDER BY id) AS ids FROM municipalities_gemeinde),
                 v AS (SELECT array_agg(id ORDER BY id) AS ids,
                              array_agg(service_id ORDER BY id) AS services
                       FROM forms_catalog_formversion)
            INSERT INTO submissions_draft (
                id, token_hash, service_id, form_version_id, gemeinde_id, data, current_step,
                language, email, created_at, updated_at, expires_at, submitted_at,
                steps_reached, furthest_step, field_errors)
            SELECT
                md5(i::text)::uuid,
                CASE WHEN touched < now() - interval '30 days'
                     THEN 'purged-' || md5(i::text) ELSE md5('t' || i::text) END,
                v.services[vi], v.ids[vi],
                -- Skewed: the first Gemeinden are much busier (like the big towns).
                g.ids[1 + floor(power(random(), 2) * array_length(g.ids, 1))::int],
                CASE WHEN touched < now() - interval '30 days' THEN '{}'::jsonb
                     ELSE jsonb_build_object('answers', jsonb_build_object(
                          's0f0', 'Anna', 's0f1', 'Müller', 'bemerkung', repeat('x', 500))) END,
                '', 'de', '', created, touched, touched + interval '30 days', submitted,
                (1::bigint << (furthest + 1)) - 1, furthest,
                CASE WHEN random() < 0.3
                     THEN jsonb_build_object(
                          's' || floor(random() * (least(furthest, %s) + 1))::int || 'f'
                              || floor(random() * %s)::int,
                          1 + floor(random() * 3)::int)
                     ELSE '{}'::jsonb END
            FROM generate_series(%s::bigint, %s::bigint) AS i
            CROSS JOIN g CROSS JOIN v
            CROSS JOIN LATERAL (SELECT
                1 + (i %% array_length(v.ids, 1))::int AS vi,
                now() - interval '1 day' * random() * 730 AS created,
                -- Most get to the end (position 5 = the check page), fewer stop early.
                least(%s, floor(power(random(), 0.5) * (%s + 1)))::smallint AS furthest) AS x
            CROSS JOIN LATERAL (SELECT
                CASE WHEN furthest = %s AND random() < 0.9
                     THEN created + interval '1 minute' * (3 + random() * 120)
                END AS submitted) AS y
            CROSS JOIN LATERAL (SELECT
                least(now(), coalesce(submitted, created + interval '1 minute' * random() * 90))
                    AS touched) AS z
            """,
            [STEPS - 1, FIELDS, present + 1, rows, STEPS, STEPS, STEPS],
        )
    inserted = time.perf_counter() - started
    with connection.schema_editor() as editor:
        for index in funnel_indexes:
            editor.add_index(Draft, index)
    with connection.cursor() as cursor:
        # Index-only scans need the visibility map that VACUUM writes.
        cursor.execute("VACUUM ANALYZE submissions_draft")
    print(
        f"generated {rows - present:,} drafts in {inserted:.1f} s, "
        f"index and VACUUM ANALYZE in {time.perf_counter() - started - inserted:.1f} s"
    )


def backend_cpu_ms() -> float:
    """CPU time (user + system) the database process of this connection has used so far.

    PostgreSQL runs on this machine; its process's /proc entry is readable. With
    10 ms clock ticks, the medians over --repeat runs are what to read.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def kz_client() -> Client:
    call_command("setup_roles", verbosity=0)
    user = get_user_model().objects.filter(username="bench_kz").first()
    if user is None:
        credentials = staff_create(username="bench_kz", role="kompetenzzentrum", office_ids=[])
        user = get_user_model().objects.get(username="bench_kz")
        staff_password_change(user=user, password=f"{credentials.password}-eigenes")
    client = Client()
    otp_force_login(client, user)
    return client


def main() -> None:
    # No setup_test_environment(): its instrumented template rendering would be timed too.
    reference_data()
    generate(args.rows)
    total = Draft.objects.count()
    started = time.perf_counter()
    horizon = funnel_rollup_refresh(rebuild=True)
    rebuild_seconds = time.perf_counter() - started
    started = time.perf_counter()
    funnel_rollup_refresh()
    print(
        f"roll-up: rebuild of every closed day {rebuild_seconds:.1f} s, a later refresh "
        f"{time.perf_counter() - started:.2f} s; closed before {horizon} "
        f"({FunnelRollup.objects.count():,} rows)"
    )
    client = kz_client()
    service = Service.objects.get(slug="hundeanmeldung")
    version = service.versions.order_by("-number").first()
    kreis = Kreis.objects.order_by("key").first()
    today = timezone.localdate()
    two_years = (today - datetime.timedelta(days=730)).isoformat()
    month = (today - datetime.timedelta(days=30)).isoformat()
    scenarios = [
        (
            "overview, last 90 days (default)",
            {},
            FunnelFilter(date_from=today - datetime.timedelta(days=90)),
        ),
        (
            "overview, two years",
            {"von": two_years},
            FunnelFilter(date_from=today - datetime.timedelta(days=730)),
        ),
        (
            "one service, last 90 days",
            {"leistung": service.pk},
            FunnelFilter(date_from=today - datetime.timedelta(days=90), service_id=service.pk),
        ),
        (
            "one service, two years",
            {"leistung": service.pk, "von": two_years},
            FunnelFilter(date_from=today - datetime.timedelta(days=730), service_id=service.pk),
        ),
        (
            "one service + Kreis, two years",
            {"leistung": service.pk, "kreis": kreis.pk, "von": two_years},
            FunnelFilter(
                date_from=today - datetime.timedelta(days=730),
                service_id=service.pk,
                kreis_id=kreis.pk,
            ),
        ),
        (
            "one version, last 30 days",
            {"version": version.pk, "von": month},
            FunnelFilter(date_from=today - datetime.timedelta(days=30), version_id=version.pk),
        ),
    ]
    print(f"database: {bench_db}; drafts: {total:,}; load average {os.getloadavg()[0]:.1f}")
    print(
        "page: whole request in-process with the roll-up (wall); SQL: its queries (wall); "
        "raw / rolled: funnel_versions alone from the raw rows / with the roll-up, serial (no "
        "parallel workers), wall and CPU time of the database process; app CPU: CPU time of "
        "this process for the page"
    )
    print(
        f"{'scenario':34} {'drafts':>9} {'page p50':>9} {'page p95':>9} {'SQL p50':>8} "
        f"{'raw p50':>8} {'raw DB CPU':>11} {'rolled p50':>11} {'rolled DB CPU':>14} "
        f"{'app CPU p50':>12}"
    )
    url = "/admin/backoffice/statistik/formulare/"
    for label, query, flt in scenarios:
        response = client.get(url, query)  # warm-up
        assert response.status_code == 200, (label, response.status_code)
        assert response.context is None or response.context.get("funnels") is not None, label
        timings, sql_timings, cpu_timings = [], [], []
        for _ in range(args.repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                cpu_started = time.process_time()
                response = client.get(url, query)
                timings.append((time.perf_counter() - started) * 1000)
                # CPU time of this process: the request's cost without waiting for a busy machine.
                cpu_timings.append((time.process_time() - cpu_started) * 1000)
            sql_timings.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        selector = {True: ([], []), False: ([], [])}
        with connection.cursor() as cursor:
            # Serial, so that the database process's CPU time is all the work.
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        for rolled_up, (wall, cpu) in selector.items():
            for _ in range(args.repeat):
                cpu_before = backend_cpu_ms()
                started = time.perf_counter()
                funnels = funnel_versions(flt=flt, rolled_up=rolled_up)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(backend_cpu_ms() - cpu_before)
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
        drafts = sum(f.started for f in funnels)
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for q in queries.captured_queries:
                print("   ", q["time"], q["sql"][:200])
        print(
            f"{label:34} {drafts:9,d} {statistics.median(timings):9.1f} "
            f"{percentile(timings, 0.95):9.1f} {statistics.median(sql_timings):8.1f} "
            f"{statistics.median(selector[False][0]):8.1f} "
            f"{statistics.median(selector[False][1]):11.1f} "
            f"{statistics.median(selector[True][0]):11.1f} "
            f"{statistics.median(selector[True][1]):14.1f} {statistics.median(cpu_timings):12.1f}"
        )
    # The plan of the counting query of the heaviest detailed scenario, for the record.
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT form_version_id, furthest_step, count(*) "
            "FROM submissions_draft d WHERE d.service_id = %s AND d.created_at >= %s "
            "GROUP BY 1, 2",
            [service.pk, timezone.now() - datetime.timedelta(days=730)],
        )
        print("\nEXPLAIN (one service, two years, counts):")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
