"""The clerk's start page and case list at 1,000,000 submissions: server time p50/p95 per
filter and search.

Uses a dedicated benchmark database (`<DATABASE name>_bench_cases`, never the
test database), fills it once with generated data through PostgreSQL
(INSERT ... SELECT generate_series) and keeps it for later runs
(`--rebuild` starts over). Then a clerk of the busiest office (about 7 % of
all cases) opens the start page "Meine Fälle" (`/admin/`: four sections with
counts and the ten newest cases each) and the admin case list with each filter
and search; the
timings are in-process server times (query, audit entry, rendering).
Figures only: nothing passes or fails on time. Target: under 150 ms.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_case_list.py [--rows N] [--rebuild]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=1_000_000)
parser.add_argument("--rebuild", action="store_true")
parser.add_argument("--repeat", type=int, default=30)
args, _unknown = parser.parse_known_args()

from bench_database import bench_django_setup  # noqa: E402

bench_db = bench_django_setup(
    suffix="bench_cases", rebuild=args.rebuild, env={"AXES_ENABLED": "false"}
)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from forms_catalog.models import FormVersion, Service  # noqa: E402
from municipalities.models import Gemeinde, Gemeindeverband, Kreis, Land, Office  # noqa: E402
from submissions.models import Submission  # noqa: E402
from submissions.tallies import tallies_rebuild  # noqa: E402
from tests.support.staff import otp_force_login  # noqa: E402

_case_list_indexes = importlib.import_module("submissions.migrations.0004_case_list_indexes")

FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hans",
    "Ida",
    "Jonas",
    "Karla",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Rita",
    "Sven",
    "Tina",
    "Uwe",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
]


def reference_data() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    if Office.objects.exists():
        return
    land = Land.objects.create(key="16", name="Thüringen")
    kreise = [
        Kreis.objects.create(key=f"16{n:03d}", name=f"Kreis {n}", kind="44", land=land)
        for n in range(1, 24)
    ]
    verbaende = [
        Gemeindeverband.objects.create(
            key=f"{kreise[n % 23].key}{n:04d}",
            name=f"Verband {n}",
            kind="54",
            kreis=kreise[n % 23],
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
    Office.objects.bulk_create(
        [Office(name=f"Verwaltung {v.name}", kind="municipal", verband=v) for v in verbaende]
        + [Office(name=f"Landratsamt {k.name}", kind="kreis", kreis=k) for k in kreise]
    )
    for n, slug in enumerate(
        [
            "gewerbe-anmeldung",
            "wohngeld-mietzuschuss",
            "hundeanmeldung",
            "bauantrag",
            "reisepass",
            "veranstaltungsanmeldung",
        ]
    ):
        service, _ = Service.objects.get_or_create(
            slug=slug, defaults={"name_de": slug, "name_en": slug, "sort_order": n}
        )
        FormVersion.objects.create(service=service, number=1, status="published", definition={})


def generate(rows: int) -> None:
    present = Submission.objects.count()
    if present >= rows:
        print(f"{present:,} submissions present (kept; --rebuild to regenerate)")
        with connection.schema_editor() as editor:
            _case_list_indexes.create(None, editor)  # any index added since
        return
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        # Build the list indexes once after loading instead of row by row.
        _case_list_indexes.drop(None, editor)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH o AS (SELECT array_agg(id ORDER BY id) AS ids FROM municipalities_office),
                 g AS (SELECT array_agg(id ORDER BY id) AS ids FROM municipalities_gemeinde),
                 v AS (SELECT array_agg(id ORDER BY id) AS ids,
                              array_agg(service_id ORDER BY id) AS services
                       FROM forms_catalog_formversion)
            INSERT INTO submissions_submission (
                reference, access_secret_hash, service_id, form_version_id, gemeinde_id,
                office_id, answers, language, applicant_name, applicant_email, status,
                submitted_at, decided_at, pipeline_error, office_pdf, receipt_pdf,
                claimed_by, handed_over_reference, resubmission_note)
            SELECT
                'TH-2026-' || substr(h, 1, 4) || '-' || substr(h, 5, 4),
                md5(i::text),
                v.services[vi], v.ids[vi],
                g.ids[1 + (i * 7919) %% array_length(g.ids, 1)],
                -- Skewed: the first offices are much busier (like the big cities).
                o.ids[1 + floor(power(random(), 2) * array_length(o.ids, 1))::int],
                jsonb_build_object('vorname', fn, 'nachname', ln, 'strasse', 'Hauptstr. 1',
                                   'plz', '99084', 'bemerkung', repeat('x', 200)),
                'de', fn || ' ' || ln, lower(fn) || '@example.org', st,
                sub,
                CASE WHEN st IN ('approved', 'rejected', 'withdrawn')
                     THEN sub + interval '1 day' * (1 + random() * 60) END,
                '', '', '', '', '', ''
            FROM generate_series(%s::bigint, %s::bigint) AS i
            CROSS JOIN o CROSS JOIN g CROSS JOIN v
            CROSS JOIN LATERAL (SELECT
                upper(lpad(to_hex(i), 8, '0')) AS h,
                1 + (i %% 6) AS vi,
                (%s::text[])[1 + (i * 31) %% 20] AS fn,
                (%s::text[])[1 + (i * 17 + i / 20) %% 20] AS ln,
                (ARRAY['received', 'forwarded', 'in_progress', 'info_requested',
                       'approved', 'rejected', 'withdrawn'])[1 + floor(random() * 7)::int] AS st,
                now() - interval '1 day' * random() * 730 AS sub) AS x
            """,
            [present + 1, rows, FIRST, LAST],
        )
    inserted = time.perf_counter() - started
    with connection.schema_editor() as editor:
        _case_list_indexes.create(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE submissions_submission")
    # Generated around the services: the statistics' tallies are recounted.
    tallies_rebuild()
    print(
        f"generated {rows - present:,} submissions in {inserted:.1f} s, "
        f"indexes and ANALYZE in {time.perf_counter() - started - inserted:.1f} s"
    )


def busiest_office() -> tuple[Office, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT office_id, count(*) FROM submissions_submission "
            "GROUP BY office_id ORDER BY 2 DESC LIMIT 1"
        )
        office_id, count = cursor.fetchone()
    return Office.objects.get(pk=office_id), count


def clerk_client(office: Office) -> tuple[Client, object]:
    from backoffice.staff import staff_create, staff_password_change

    call_command("setup_roles", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    credentials = staff_create(username="bench_clerk", role="clerk", office_ids=[office.pk])
    user = get_user_model().objects.get(username="bench_clerk")
    # Past the first login: the initial password would only open the password change page.
    staff_password_change(user=user, password=f"{credentials.password}-eigenes")
    # A fifth of the office's open cases are assigned to this clerk.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE submissions_submission SET assigned_to_id = %s "
            "WHERE office_id = %s AND id %% 5 = 0 AND assigned_to_id IS NULL",
            [user.pk, office.pk],
        )
        # Wiedervorlage on about 1 % of the office's cases, a third of them due.
        cursor.execute(
            "UPDATE submissions_submission "
            "SET resubmission_on = current_date + (id %% 30 - 10)::int "
            "WHERE office_id = %s AND id %% 97 = 0 AND resubmission_on IS NULL",
            [office.pk],
        )
        cursor.execute("ANALYZE submissions_submission")
    client = Client()
    otp_force_login(client, user)
    return client, user


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    # No setup_test_environment(): its instrumented template rendering would be timed too.
    reference_data()
    generate(args.rows)
    total = Submission.objects.count()
    office, office_cases = busiest_office()
    client, _user = clerk_client(office)
    gemeinde_id = (
        Submission.objects.filter(office=office).values_list("gemeinde_id", flat=True).first()
    )
    service_id = Service.objects.get(slug="hundeanmeldung").pk
    sample_reference = (
        Submission.objects.filter(office=office).values_list("reference", flat=True).first()
    )
    scenarios = [
        ("start page Meine Fälle (/admin/)", "/admin/"),
        ("newest first (default)", ""),
        ("status = in Bearbeitung", "?status__exact=in_progress"),
        ("service = Hundeanmeldung", f"?service__id__exact={service_id}"),
        ("Gemeinde", f"?gemeinde={gemeinde_id}"),
        ("assigned to me", "?bearbeitung=mir"),
        ("unassigned", "?bearbeitung=niemand"),
        ("Wiedervorlage due", "?faellig=ja"),
        ("age 31–90 days", "?alter=2"),
        ("oldest first (sort by age)", "?o=-6"),
        ("page 40 (last counted page)", "?p=39"),
        ("search reference (full)", f"?q={sample_reference}"),
        ("search reference prefix", f"?q={sample_reference[:10]}"),
        ("search applicant name", "?q=Schr%C3%B6der"),
        ("search name without match", "?q=Zzyzx"),
        (
            "search name + status + service",
            f"?q=Anna&status__exact=received&service__id__exact={service_id}",
        ),
    ]
    print(f"database: {bench_db}; submissions: {total:,}; load average: {os.getloadavg()}")
    print(f"clerk of '{office.name}' ({office_cases:,} cases, the busiest office)")
    print(
        f"{'scenario':38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'SQL p50':>8} {'CPU p50':>8}"
    )
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    for label, query in scenarios:
        url = query if query.startswith("/") else f"/admin/submissions/submission/{query}"
        response = client.get(url)  # warm-up
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        sql_timings = []
        # CPU time of the app process: what the request costs without waiting
        # for a busy machine (with the SQL time, the load-independent figure).
        cpu_timings = []
        for _ in range(args.repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                cpu_started = time.process_time()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_timings.append((time.process_time() - cpu_started) * 1000)
            sql_timings.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for q in queries.captured_queries:
                print("   ", q["time"], q["sql"][:300])
        print(
            f"{label:38} {statistics.median(timings):8.1f} {percentile(timings, 0.95):8.1f} "
            f"{len(queries):8d} {statistics.median(sql_timings):8.1f} "
            f"{statistics.median(cpu_timings):8.1f}"
        )
    # Overview pages (aggregates over the whole table; not the 150 ms goal).
    from backoffice.staff import staff_create, staff_password_change

    for username, role, office_ids in [
        ("bench_lead", "lead", [office.pk]),
        ("bench_kz", "kompetenzzentrum", []),
    ]:
        credentials = staff_create(username=username, role=role, office_ids=office_ids)
        staff_password_change(
            user=get_user_model().objects.get(username=username),
            password=f"{credentials.password}-eigenes",
        )
    for label, username, url in [
        ("start page Meine Fälle (lead, busiest office)", "bench_lead", "/admin/"),
        ("office overview (lead, busiest office)", "bench_lead", "/admin/backoffice/uebersicht/"),
        ("statewide statistics (Kompetenzzentrum)", "bench_kz", "/admin/backoffice/statistik/"),
    ]:
        page_client = Client()
        otp_force_login(page_client, get_user_model().objects.get(username=username))
        timings = []
        for _ in range(20 if url == "/admin/" else 5):
            started = time.perf_counter()
            response = page_client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:42} p50 {statistics.median(timings):8.1f} ms  max {max(timings):8.1f} ms")

    print(f"load average after the run: {os.getloadavg()}")
    # The plan of the default list query, for the record.
    queryset = Submission.objects.filter(office_id=office.pk).order_by("-submitted_at", "-pk")[:51]
    print("\nEXPLAIN (default list):")
    print(queryset.explain(analyze=True))
    searched = Submission.objects.filter(
        office_id=office.pk, applicant_name__icontains="Schröder"
    ).order_by("-submitted_at", "-pk")[:51]
    print("\nEXPLAIN (search applicant name):")
    print(searched.explain(analyze=True))


if __name__ == "__main__":
    main()
