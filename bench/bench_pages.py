"""Server time of every citizen page type (Django test client), p50/p95.

Creates a throw-away test database (test_<DATABASE name>), imports the
official municipalities, the responsibility seed and the catalogue, then
requests each page type many times. Figures only: nothing passes or fails.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/bench_pages.py
"""

from __future__ import annotations

import datetime
import os
import re
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thueringen_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-that-is-long-enough-for-checks")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("PORTAL_MANIFEST_STATIC", "false")
# Submitting enqueues the pipeline; no worker runs here, so keep that work in memory.
os.environ["CELERY_BROKER_URL"] = "memory://"

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))
DATA = ROOT / "municipalities" / "data"


def day(offset: int) -> dict[str, str]:
    value = datetime.date.today() + datetime.timedelta(days=offset)
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def date_fields(name: str, parts: dict[str, str]) -> dict[str, str]:
    return {f"{name}_{k}": v for k, v in parts.items()}


STEPS = {
    "halter": {
        "halter-surname": "Mustermann",
        "halter-given_names": "Erika",
        **date_fields("halter-birth_date", {"day": "12", "month": "5", "year": "1980"}),
        "halter-street": "Hauptstraße 1",
        "halter-postcode": "98634",
        "halter-city": "Rhönblick",
        "halter-email": "erika@example.org",
    },
    "hunde": {
        "hunde-dogs-count": "1",
        "hunde-dogs-0-dog_name": "Bello",
        "hunde-dogs-0-chip_number": "276098106543210",
        **date_fields("hunde-dogs-0-birth_date", {"day": "1", "month": "3", "year": "2020"}),
        "hunde-dogs-0-breed": "Mischling",
        "hunde-dogs-0-sex": "ruede",
        "hunde-dogs-0-colour": "braun",
        **date_fields("hunde-dogs-0-keeping_since", day(-3)),
        "hunde-dogs-0-dangerous": "no",
    },
    "haltung": {"haltung-other_address": "no"},
    "ermaessigung": {"ermaessigung-reduction": "keine"},
    "sepa": {"sepa-sepa_mandate": "no"},
}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms   max {ordered[-1] * 1000:6.2f} ms"


class Runner:
    def __init__(self) -> None:
        self.counter = 0

    def address(self) -> str:
        # A new address per request, so the per-IP rate limits do not distort the figures.
        self.counter += 1
        n = self.counter
        return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"

    def client(self) -> Client:
        return Client(REMOTE_ADDR=self.address())

    def timed(self, label: str, call, expect: int) -> None:
        call()  # warm-up
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = call()
            samples.append(time.perf_counter() - start)
            if response.status_code != expect:
                raise SystemExit(f"{label}: HTTP {response.status_code}, expected {expect}")
        print(f"{label:<42} {percentiles(samples)}")


def started_draft(runner: Runner, ags: str) -> tuple[Client, str]:
    client = runner.client()
    response = client.post(f"/gemeinden/{ags}/leistungen/hundeanmeldung/")
    return client, response["Location"].split("/")[2]


def completed_draft(runner: Runner, ags: str) -> tuple[Client, str]:
    client, draft = started_draft(runner, ags)
    for step, data in STEPS.items():
        response = client.post(f"/antrag/{draft}/schritt/{step}/", data)
        if response.status_code != 302:
            raise SystemExit(f"step {step} did not validate:\n{response.content.decode()[:3000]}")
    return client, draft


def main() -> None:
    from municipalities.models import Gemeinde

    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    call_command("import_gv100ad", str(DATA / "GV100AD_30112025.txt"), **quiet)
    call_command("import_postcodes", str(DATA / "thueringen_plz_gemeinde.csv"), **quiet)
    call_command("seed_responsibility", **quiet)
    call_command("load_catalogue", **quiet)
    ags = Gemeinde.objects.get(name="Rhönblick").ags
    runner = Runner()
    print(f"{REPEAT} requests per page type, server time through the Django test client\n")

    anonymous = runner.client()
    for label, url in [
        ("GET / (start page)", "/"),
        ("GET /barrierefreiheit/", "/barrierefreiheit/"),
        ("GET /impressum/", "/impressum/"),
        ("GET /datenschutz/", "/datenschutz/"),
        ("GET /status/ (form)", "/status/"),
        ("GET service page", f"/gemeinden/{ags}/leistungen/hundeanmeldung/"),
    ]:  # fmt: skip
        runner.timed(label, lambda url=url: anonymous.get(url), 200)

    runner.timed(
        "POST service page (start a draft)",
        lambda: runner.client().post(f"/gemeinden/{ags}/leistungen/hundeanmeldung/"),
        302,
    )
    client, draft = started_draft(runner, ags)
    step_url = f"/antrag/{draft}/schritt/halter/"
    runner.timed("GET wizard step (empty)", lambda: client.get(step_url), 200)
    runner.timed(
        "POST wizard step (validation errors)",
        lambda: client.post(step_url, {"halter-surname": "X", "halter-postcode": "1"}),
        200,
    )
    runner.timed(
        "POST wizard step (valid, saved)", lambda: client.post(step_url, STEPS["halter"]), 302
    )
    runner.timed("GET wizard step (saved answers)", lambda: client.get(step_url), 200)
    hunde_url = f"/antrag/{draft}/schritt/hunde/"
    runner.timed(
        "POST repeatable group step (valid)", lambda: client.post(hunde_url, STEPS["hunde"]), 302
    )

    client, draft = completed_draft(runner, ags)
    check_url = f"/antrag/{draft}/pruefen/"
    runner.timed("GET check page (revalidates all steps)", lambda: client.get(check_url), 200)
    runner.timed(
        "POST check page without declaration",
        lambda: client.post(check_url, {}, REMOTE_ADDR=runner.address()),
        200,
    )
    runner.timed(
        "POST save for later (resume link)",
        lambda: client.post(f"/antrag/{draft}/speichern/", {}),
        200,
    )

    drafts = [completed_draft(runner, ags) for _ in range(REPEAT + 1)]
    pending = iter(drafts)

    def submit():
        submit_client, submit_draft = next(pending)
        return submit_client.post(
            f"/antrag/{submit_draft}/pruefen/", {"declaration": "on"}, REMOTE_ADDR=runner.address()
        )

    runner.timed("POST submit (submission_submit)", submit, 302)
    confirmation_client, confirmed = completed_draft(runner, ags)
    response = confirmation_client.post(f"/antrag/{confirmed}/pruefen/", {"declaration": "on"})
    reference = response["Location"].rstrip("/").rsplit("/", 1)[1]
    # The access code is shown once, on the first confirmation page (never kept in the session).
    first = confirmation_client.get(f"/bestaetigung/{reference}/").content.decode()
    secret = re.search(r'data-testid="secret">([^<]+)<', first).group(1)
    runner.timed(
        "GET confirmation page",
        lambda: confirmation_client.get(f"/bestaetigung/{reference}/"),
        200,
    )
    runner.timed(
        "POST status lookup (right secret)",
        lambda: runner.client().post("/status/", {"reference": reference, "secret": secret}),
        200,
    )
    runner.timed(
        "POST status lookup (wrong secret)",
        lambda: runner.client().post("/status/", {"reference": reference, "secret": "x"}),
        200,
    )


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
