"""The bare-Django baseline of bench/bench_http.py answers like a form page, under gunicorn.

The HTTP benchmark's ratios are only meaningful if the baseline does the work
it stands for: a CSRF-protected 12-field form with a PostgreSQL session, and a
valid POST that inserts one JSON row. Served as the benchmark serves it.
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

BENCH = Path(__file__).resolve().parents[2] / "bench"


def baseline_table_sql() -> str:
    spec = importlib.util.spec_from_file_location(
        "bench_baseline_views", BENCH / "baseline/views.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLE_SQL


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


def open_url(opener, url: str, data: dict | None = None) -> tuple[int, str, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        response = opener.open(url, data=body, timeout=10)
        return response.status, response.read().decode(), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Location") or ""


@pytest.fixture
def baseline_server(transactional_db, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute(baseline_table_sql())
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "baseline.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--pythonpath",
            str(BENCH),
        ],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "baseline.settings",
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(base + "/formular/", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(20)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_baseline_entry")


VALID = {
    "surname": "Mustermann",
    "given_names": "Erika",
    "birth_date": "12.05.1980",
    "street": "Hauptstraße 1",
    "postcode": "98634",
    "city": "Rhönblick",
    "email": "erika@example.org",
    "phone": "",
    "dog_name": "Bello",
    "breed": "Mischling",
    "sex": "ruede",
    "dangerous": "no",
}


def entries() -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM bench_baseline_entry ORDER BY id")
        return [json.loads(row[0]) for row in cursor.fetchall()]


def test_baseline_form_renders_twelve_fields_validates_and_inserts_one_json_row(baseline_server):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    url = baseline_server + "/formular/"

    status, html, _ = open_url(opener, url)
    assert status == 200
    assert (
        len(
            set(re.findall(r'<(?:input|select)[^>]* name="(?!csrfmiddlewaretoken)([a-z_]+)"', html))
        )
        == 12
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    # Without the CSRF token the POST is refused and nothing is stored.
    status, _, _ = open_url(opener, url, VALID)
    assert status == 403
    assert entries() == []

    # Hostile input: a huge name and a wrong postcode show the form again with what was typed.
    hostile = {**VALID, "csrfmiddlewaretoken": token, "surname": "X" * 100_000, "postcode": "1"}
    status, html, _ = open_url(opener, url, hostile)
    assert status == 200
    assert "Fünf Ziffern." in html
    assert 'value="Rhönblick"' in html
    assert entries() == []

    status, _, location = open_url(opener, url, {**VALID, "csrfmiddlewaretoken": token})
    assert status == 302
    assert location.endswith("/formular/")
    assert entries() == [{**VALID, "birth_date": "1980-05-12"}]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_session")
        assert cursor.fetchone()[0] == 1  # the session lives in PostgreSQL
