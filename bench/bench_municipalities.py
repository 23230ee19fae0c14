"""Municipality search and responsibility resolver at Thüringen's 605 Gemeinden.

Creates a throw-away test database (test_<DATABASE name>), imports the shipped
GV100AD file, postcodes and responsibility seed, then prints server-side
timings. Figures only: nothing passes or fails on time.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_municipalities.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thueringen_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-that-is-long-enough-for-checks")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("PORTAL_MANIFEST_STATIC", "false")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)

DATA = ROOT / "municipalities" / "data"
QUERIES = [
    "Erfurt",
    "Jena",
    "Gößnitz",
    "Gossnitz",
    "Muehlhausen",
    "Stadt Gera",
    "Salzungen",
    "Ilmenua",
    "Weimr",
    "Eisenacch",
    "Rudolstdt",
    "Saalfeld Saale",
    "Bad",
    "Neu",
    "Sch",
    "Ober",
    "07646",
    "99084",
    "076",
    "9",
    "Meinigen",
    "Heilbad Heiligenstadt",
    "Nordhausn",
    "Atlantis",
    "Leinefelde",
]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms"


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    elapsed = time.perf_counter() - start
    status = getattr(result, "status_code", 200)
    if status != 200:
        raise SystemExit(f"{args}: HTTP {status}, figures would be meaningless")
    return elapsed


def main() -> None:
    from forms_catalog.models import Service
    from municipalities.models import Gemeinde
    from municipalities.selectors import responsible_office, search_gemeinden

    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    start = time.perf_counter()
    call_command("import_gv100ad", str(DATA / "GV100AD_30112025.txt"), **quiet)
    first = time.perf_counter() - start
    start = time.perf_counter()
    call_command("import_gv100ad", str(DATA / "GV100AD_30112025.txt"), **quiet)
    again = time.perf_counter() - start
    call_command("import_postcodes", str(DATA / "thueringen_plz_gemeinde.csv"), **quiet)
    call_command("import_ortsteile", str(DATA / "thueringen_ortsteile.csv"), **quiet)
    call_command("seed_responsibility", **quiet)
    gemeinden = list(Gemeinde.objects.current())
    services = list(Service.objects.filter(is_active=True))
    print(f"data: {len(gemeinden)} current Gemeinden, {len(services)} active services")
    print(f"import_gv100ad: first {first:.2f} s, idempotent re-run {again:.2f} s")

    random.seed(3)
    search_gemeinden(query="warm-up")
    samples = [timed(search_gemeinden, query=q) for q in QUERIES * 40]
    print(f"search_gemeinden (selector, {len(samples)} queries): {percentiles(samples)}")
    with CaptureQueriesContext(connection) as ctx:
        search_gemeinden(query="Erfurt")
    print(f"search_gemeinden queries per call (index warm): {len(ctx.captured_queries)}")

    client = Client()
    client.get("/gemeinden/", {"q": "Erfurt"})
    samples = [timed(client.get, "/gemeinden/", {"q": q}) for q in QUERIES * 10]
    print(f"GET /gemeinden/?q= (full request, {len(samples)} requests): {percentiles(samples)}")

    pairs = [(s, g) for g in gemeinden for s in services]
    samples = []
    max_queries = 0
    for service, gemeinde in pairs:
        with CaptureQueriesContext(connection) as ctx:
            samples.append(timed(responsible_office, service=service, gemeinde=gemeinde))
        max_queries = max(max_queries, len(ctx.captured_queries))
    print(f"responsible_office ({len(samples)} Gemeinde × service): {percentiles(samples)}")
    print(f"responsible_office queries per call: max {max_queries}")

    sample = random.sample(gemeinden, 50)
    samples = [timed(client.get, f"/gemeinden/{g.ags}/") for g in sample]
    print(f"GET /gemeinden/<ags>/ ({len(samples)} pages): {percentiles(samples)}")

    start = time.perf_counter()
    call_command("check_routing", **quiet)
    print(f"check_routing (all pairs): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        connection.settings_dict["DEBUG"] = False
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
