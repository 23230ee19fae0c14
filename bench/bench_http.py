"""Form pages over HTTP: the portal against a bare Django page, as a ratio.

Serves the portal (gunicorn -w 2, DEBUG off, hashed static files collected)
and the bare-Django baseline in bench/baseline/ (gunicorn -w 2, the same
middleware a form page needs, a 12-field Django form, sessions in PostgreSQL)
on free local ports, warms both, then alternates wrk runs:

- GET: the Hundeanmeldung's first wizard step with an existing session
  against the baseline's form page with an existing session;
- POST: a valid first step that saves the draft against the baseline's valid
  POST that validates its 12 fields and inserts one JSON row.

Each wrk run spreads its requests over several sessions (one draft each), so
no two connections wait for the same row lock. Prints requests/s of each run
and the ratios portal ÷ baseline. Figures only: nothing passes or fails.

Requests/s move with whatever else runs on the machine, so each run also
reports the CPU time per request the server spent: its gunicorn workers' own
accounting (/proc/<pid>/stat, user + system) and that of the PostgreSQL
backends connected to the benchmark database (where /proc shows them: same
machine, permission to read). The CPU ratio (baseline CPU ÷ portal CPU per
request) is what the throughput ratio tends to when the CPU is the bound, and
it moves far less with load.

Uses a kept benchmark database (`<DATABASE name>_bench_http`, the official
Gemeinden and the catalogue loaded once; `--rebuild` starts over) and REDIS_URL
as the portal's cache. Needs `wrk` (Debian package; installed with apt-get when
missing and run as root).

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/bench_http.py
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measure")
parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
parser.add_argument("--connections", type=int, default=4)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--sessions", type=int, default=8, help="sessions the requests rotate over")
parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
parser.add_argument("--rebuild", action="store_true")
args, _unknown = parser.parse_known_args()

STATIC_ROOT = Path(tempfile.mkdtemp(prefix="portal-bench-http-static-"))
SERVER_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-that-is-long-enough-for-checks",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_COOKIES": "false",
    "PORTAL_MANIFEST_STATIC": "true",
    "PORTAL_STATIC_ROOT": str(STATIC_ROOT),
    "EMAIL_HOST": "",
    "PORTAL_STORAGE_BACKEND": "local",
}
os.environ.update(SERVER_ENV)

from bench_database import bench_django_setup  # noqa: E402

bench_db = bench_django_setup(suffix="bench_http", rebuild=args.rebuild)

from baseline.views import TABLE_SQL  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from municipalities.models import Gemeinde  # noqa: E402

DATA = ROOT / "municipalities" / "data"

# The first step of the Hundeanmeldung, valid (as in bench_pages.py).
HALTER = {
    "halter-surname": "Mustermann",
    "halter-given_names": "Erika",
    "halter-birth_date_day": "12",
    "halter-birth_date_month": "5",
    "halter-birth_date_year": "1980",
    "halter-street": "Hauptstraße 1",
    "halter-postcode": "98634",
    "halter-city": "Rhönblick",
    "halter-email": "erika@example.org",
}
BASELINE = {
    "surname": "Mustermann",
    "given_names": "Erika",
    "birth_date": "12.05.1980",
    "street": "Hauptstraße 1",
    "postcode": "98634",
    "city": "Rhönblick",
    "email": "erika@example.org",
    "phone": "0361 1234567",
    "dog_name": "Bello",
    "breed": "Mischling",
    "sex": "ruede",
    "dangerous": "no",
}


def load_reference_data() -> str:
    """Migrate the kept database and load what bench_pages.py loads, once."""
    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    call_command("migrate", interactive=False, verbosity=0)
    if not Gemeinde.objects.filter(name="Rhönblick").exists():
        call_command("import_gv100ad", str(DATA / "GV100AD_30112025.txt"), **quiet)
        call_command("import_postcodes", str(DATA / "thueringen_plz_gemeinde.csv"), **quiet)
        call_command("seed_responsibility", **quiet)
        call_command("load_catalogue", **quiet)
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
    call_command("collectstatic", interactive=False, verbosity=0)
    return Gemeinde.objects.get(name="Rhönblick").ags


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench_http.py needs wrk: install it with `apt-get install wrk` (Debian).")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, *, name: str, app: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, app, "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(args.workers), "--pythonpath", str(HERE)]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.log = log

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                Browser(self.base).request(path)
                return
            except OSError:  # refused, reset or timed out while the workers boot
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not answer in {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


class Browser:
    """One visitor with its own cookies; redirects are returned, not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            response = self.opener.open(self.base + path, data=body, timeout=30)
            return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers.get("Location")

    def token(self, html: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not found:
            raise SystemExit(f"no CSRF token in the page of {self.base}")
        return found.group(1)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def expect(what: str, status: int, wanted: int, body: str) -> None:
    if status != wanted:
        raise SystemExit(f"{what}: HTTP {status}, expected {wanted}\n{body[:2000]}")


def portal_session(base: str, ags: str) -> tuple[str, str, str]:
    """A visitor with a started Hundeanmeldung: (cookie header, step path, valid POST body)."""
    browser = Browser(base)
    service = f"/gemeinden/{ags}/leistungen/hundeanmeldung/"
    status, html, _ = browser.request(service)
    expect("GET service page", status, 200, html)
    status, html, location = browser.request(service, {"csrfmiddlewaretoken": browser.token(html)})
    expect("POST service page (start a draft)", status, 302, html)
    step = urllib.parse.urlsplit(location).path
    status, html, location = browser.request(step)
    if status == 302:  # the draft's entry sends on to its first step
        step = urllib.parse.urlsplit(location).path
        status, html, _ = browser.request(step)
    expect("GET first wizard step", status, 200, html)
    body = {"csrfmiddlewaretoken": browser.token(html), **HALTER}
    status, html, _ = browser.request(step, body)
    expect("POST first wizard step (valid)", status, 302, html)
    return browser.cookie_header(), step, urllib.parse.urlencode(body)


def baseline_session(base: str) -> tuple[str, str, str]:
    browser = Browser(base)
    status, html, _ = browser.request("/formular/")
    expect("GET baseline form", status, 200, html)
    body = {"csrfmiddlewaretoken": browser.token(html), **BASELINE}
    status, html, _ = browser.request("/formular/", body)
    expect("POST baseline form (valid)", status, 302, html)
    return browser.cookie_header(), "/formular/", urllib.parse.urlencode(body)


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(path: Path, sessions: list[tuple[str, str, str]], method: str) -> Path:
    """A wrk script that rotates over the sessions (cookie, path, body) request by request."""
    rows = ",\n".join(
        "  {" + ", ".join(lua_string(part) for part in session) + "}" for session in sessions
    )
    body_part = "s[3]" if method == "POST" else "nil"
    expected = 302 if method == "POST" else 200
    content_type = (
        'headers["Content-Type"] = "application/x-www-form-urlencoded"\n  '
        if method == "POST"
        else ""
    )
    path.write_text(
        f"local sessions = {{\n{rows}\n}}\n"
        "local n = 0\n"
        "function request()\n"
        "  n = n + 1\n"
        "  local s = sessions[(n % #sessions) + 1]\n"
        "  local headers = {}\n"
        '  headers["Cookie"] = s[1]\n'
        f"  {content_type}"
        f'return wrk.format("{method}", s[2], headers, {body_part})\n'
        "end\n"
        # Any other status than the expected one (a CSRF refusal, a form
        # re-shown with errors, a lost session) is counted and makes the run fail.
        "local threads = {}\n"
        "function setup(thread) table.insert(threads, thread) end\n"
        "wrong = 0\n"
        "function response(status, headers, body)\n"
        f"  if status ~= {expected} then wrong = wrong + 1 end\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local total = 0\n"
        '  for _, t in ipairs(threads) do total = total + t:get("wrong") end\n'
        '  io.write(string.format("Unexpected status: %d\\n", total))\n'
        "end\n"
    )
    return path


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, from /proc; None when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_pids(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            children.append(int(entry.name))
    return children


def database_backend_pids(database: str) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the benchmark database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()  # not one of the servers' backends: keep it out of the next sample
    return pids


class CpuMeter:
    """CPU seconds of a server's workers and of the database backends during one run."""

    def __init__(self, server: Server, database: str) -> None:
        self.server = server
        self.database = database

    def sample(self) -> dict[str, dict[int, float]]:
        groups = {
            "web": child_pids(self.server.process.pid),
            "db": database_backend_pids(self.database),
        }
        return {
            name: {pid: cpu for pid in pids if (cpu := process_cpu_seconds(pid)) is not None}
            for name, pids in groups.items()
        }

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float | None:
        """CPU spent between two samples; a process new in `after` counts from zero (a
        backend that ended in between is missed: the connections are kept for 60 s)."""
        if not after:
            return None
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# The tables the measured requests write: the portal's drafts, the baseline's rows
# and the sessions both servers share.
WRITTEN_TABLES = ("submissions_draft", "bench_baseline_entry", "django_session")


def autovacuum_on() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "on"


def vacuum_written_tables() -> None:
    """VACUUM what the requests write, before each run, so no run inherits the dead rows
    of the runs before it.

    A step POST updates its draft in place, and the draft's indexed columns change
    with every save (its expiry, the funnel's updated_at), so each POST leaves a dead
    row and an entry in each of the draft's indexes; the baseline only appends.
    Deployed, autovacuum clears them (PostgreSQL's default); a server with autovacuum
    off (as test servers often are) would let later runs wade through the debris of
    earlier ones, and the portal's figures would sink with the run's position.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(WRITTEN_TABLES)}")
    connection.close()


def run_wrk(wrk: str, base: str, script: Path, duration: int) -> tuple[float, int]:
    """(requests/s, requests) of one wrk run."""
    result = subprocess.run(
        [
            wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{duration}s",
            "-s",
            str(script),
            base + "/",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if result.returncode != 0 or not rate:
        raise SystemExit(f"wrk failed:\n{output}")
    wrong = re.search(r"Unexpected status: (\d+)", output)
    errors = re.search(r"Socket errors: .*", output)
    if not wrong or wrong.group(1) != "0":
        raise SystemExit(f"requests were not answered as expected:\n{output}")
    if errors:
        print(f"      ({errors.group(0)})")
    total = re.search(r"(\d+) requests in", output)
    return float(rate.group(1)), int(total.group(1)) if total else 0


def main() -> int:
    wrk = wrk_binary()
    ags = load_reference_data()
    connection.close()
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-http-"))
    portal = Server(
        name="portal",
        app="thueringen_portal.wsgi:application",
        env={},
        log=workdir / "portal.log",
    )
    baseline = Server(
        name="baseline",
        app="baseline.wsgi:application",
        env={"DJANGO_SETTINGS_MODULE": "baseline.settings"},
        log=workdir / "baseline.log",
    )
    try:
        portal.wait_ready("/")
        baseline.wait_ready("/formular/")
        portal_sessions = [portal_session(portal.base, ags) for _ in range(args.sessions)]
        baseline_sessions = [baseline_session(baseline.base) for _ in range(args.sessions)]
        scripts = {
            ("portal", "GET"): wrk_script(workdir / "portal-get.lua", portal_sessions, "GET"),
            ("portal", "POST"): wrk_script(workdir / "portal-post.lua", portal_sessions, "POST"),
            ("baseline", "GET"): wrk_script(workdir / "base-get.lua", baseline_sessions, "GET"),
            ("baseline", "POST"): wrk_script(workdir / "base-post.lua", baseline_sessions, "POST"),
        }
        bases = {"portal": portal.base, "baseline": baseline.base}
        print(
            "autovacuum is "
            + ("on" if autovacuum_on() else "OFF on this server")
            + f"; {', '.join(WRITTEN_TABLES)} are vacuumed before each run",
            flush=True,
        )
        print(
            f"gunicorn -w {args.workers} each, wrk -t{args.threads} -c{args.connections}, "
            f"{args.rounds} alternating rounds of {args.duration} s, requests over "
            f"{args.sessions} sessions; {os.cpu_count()} CPUs; load average before: "
            + " ".join(f"{x:.2f}" for x in os.getloadavg()),
            flush=True,
        )
        for key, script in scripts.items():  # warm-up: imports, caches, connections
            vacuum_written_tables()
            run_wrk(wrk, bases[key[0]], script, 2)
        meters = {"portal": CpuMeter(portal, bench_db), "baseline": CpuMeter(baseline, bench_db)}
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in scripts}
        # CPU milliseconds per request: {(server, method): {"web": [...], "db": [...]}}
        cpu: dict[tuple[str, str], dict[str, list[float]]] = {
            key: {"web": [], "db": []} for key in scripts
        }
        for method in ("GET", "POST"):
            for n in range(args.rounds):
                for server in ("portal", "baseline"):
                    vacuum_written_tables()
                    before = meters[server].sample()
                    rate, requests = run_wrk(
                        wrk, bases[server], scripts[(server, method)], args.duration
                    )
                    after = meters[server].sample()
                    rates[(server, method)].append(rate)
                    line = f"   round {n + 1} {method:4s} {server:8s} {rate:8.1f} requests/s"
                    for part in ("web", "db"):
                        spent = CpuMeter.spent(before[part], after[part])
                        if spent is not None and requests:
                            cpu[(server, method)][part].append(spent * 1000 / requests)
                            line += f"   {part} CPU {spent * 1000 / requests:5.2f} ms/request"
                    print(line, flush=True)
        labels = {
            "GET": "wizard step GET (Hundeanmeldung, first step, existing session)",
            "POST": "valid step POST saving the draft vs POST inserting one JSON row",
        }
        print()
        for method in ("GET", "POST"):
            portal_rate = statistics.median(rates[("portal", method)])
            baseline_rate = statistics.median(rates[("baseline", method)])
            per_round = [
                p / b
                for p, b in zip(rates[("portal", method)], rates[("baseline", method)], strict=True)
            ]
            print(
                f"{labels[method]}:\n   portal {portal_rate:.1f}/s, baseline {baseline_rate:.1f}/s,"
                f" ratio {portal_rate / baseline_rate:.2f} × (per round "
                + ", ".join(f"{r:.2f}" for r in per_round)
                + ")"
            )
            portal_cpu, baseline_cpu = cpu[("portal", method)], cpu[("baseline", method)]
            if portal_cpu["web"] and baseline_cpu["web"]:
                totals = {}
                for name, figures in (("portal", portal_cpu), ("baseline", baseline_cpu)):
                    web = statistics.median(figures["web"])
                    db = statistics.median(figures["db"]) if figures["db"] else None
                    totals[name] = web + (db or 0.0)
                    print(
                        f"   {name} CPU per request (median): web {web:.2f} ms"
                        + (f" + database {db:.2f} ms" if db is not None else "")
                    )
                web_ratio = statistics.median(baseline_cpu["web"]) / statistics.median(
                    portal_cpu["web"]
                )
                print(
                    f"   CPU ratio baseline ÷ portal: web {web_ratio:.2f} ×"
                    + (
                        f", web + database {totals['baseline'] / totals['portal']:.2f} ×"
                        if portal_cpu["db"] and baseline_cpu["db"]
                        else ""
                    )
                )
        print(
            "load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
            flush=True,
        )
    finally:
        portal.stop()
        baseline.stop()
        shutil.rmtree(STATIC_ROOT, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
