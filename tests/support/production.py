"""The portal as operators deploy it, started by the tests.

nginx (TLS, the forwarded headers of `docs/nginx.conf`) → gunicorn (DEBUG off,
hashed static files collected into a STATIC_ROOT, S3 storage, SMTP, Redis,
the test database) plus a Celery worker process with the same environment.
Everything runs on 127.0.0.1 with free ports and files in a temporary folder;
nothing needs root-owned paths.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from requests.adapters import HTTPAdapter

from tests.support.redis_server import free_port
from tests.support.s3 import S3Server
from tests.support.smtp import SMTPServer
from tests.support.worker import ROOT, WorkerProcess, test_database_url

NGINX = "/usr/sbin/nginx"
NGINX_DOC = ROOT / "docs" / "nginx.conf"
# nginx reaches gunicorn from this loopback address (see `nginx_config`), so the
# proxy's address differs from the clients' (browsers on 127.0.0.1, the HTTP
# clients of the tests on 127.0.0.2, 127.0.0.3, ...): a test can tell them apart.
PROXY_ADDRESS = "127.0.0.5"


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited at start:\n{log.read_text()[-5000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s:\n{log.read_text()[-5000:]}")


def _stop(process: subprocess.Popen | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, as the TLS proxy presents it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "portal.crt", directory / "portal.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _replace_once(text: str, old: str, new: str) -> str:
    # The operators' file and the tested file must not drift apart silently.
    assert text.count(old) == 1, f"docs/nginx.conf no longer contains {old!r} exactly once"
    return text.replace(old, new)


def nginx_config(
    directory: Path, *, upstream_port: int, http_port: int, https_port: int, cert: Path, key: Path
) -> Path:
    """docs/nginx.conf with test addresses, inside a main config that keeps every path in tmp."""
    site = NGINX_DOC.read_text()
    site = _replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace_once(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace_once(
        site, "ssl_certificate /etc/ssl/portal/fullchain.pem;", f"ssl_certificate {cert};"
    )
    site = _replace_once(
        site, "ssl_certificate_key /etc/ssl/portal/privkey.pem;", f"ssl_certificate_key {key};"
    )
    (directory / "portal.conf").write_text(site)
    # Worker processes of a root master would otherwise run as nobody and
    # could not use the temporary folders.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    main = f"""
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    proxy_bind {PROXY_ADDRESS};
    include {directory}/portal.conf;
}}
"""
    path = directory / "nginx.conf"
    path.write_text(main)
    return path


def collect_static(static_root: Path, env: dict[str, str]) -> None:
    """`manage.py collectstatic` with manifest static files, as the image build does."""
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (static_root / "staticfiles.json").exists(), "manifest static files are not on"


@dataclass
class ProductionPortal:
    """The running stack. `url` is the TLS proxy; everything goes through it."""

    directory: Path
    s3: S3Server
    bucket: str
    smtp: SMTPServer
    env: dict[str, str]
    https_port: int = 0
    gunicorn_port: int = 0
    worker: WorkerProcess | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def log(self, name: str) -> str:
        return (self.directory / name).read_text(errors="replace")

    def worker_log(self) -> str:
        assert self.worker is not None
        return self.worker.log_path.read_text(errors="replace")

    def http(self, source: str = "127.0.0.2") -> requests.Session:
        """A plain HTTP client that connects from `source` (any 127/8 address is ours)."""
        session = requests.Session()
        adapter = _SourceAddressAdapter(source)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        # Verified against the certificate the test generated for the proxy; no
        # CA bundle or HTTP proxy from the environment may take its place.
        session.trust_env = False
        session.verify = str(self.directory / "portal.crt")
        return session


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def production_env(
    *, directory: Path, s3: S3Server, bucket: str, smtp: SMTPServer, https_port: int
) -> dict[str, str]:
    """The environment of a production deployment, pointed at the test's services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_", "EMAIL_", "AWS_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="thueringen_portal.settings",
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PORTAL_BASE_URL=f"https://127.0.0.1:{https_port}",
        DJANGO_BEHIND_PROXY="true",
        PORTAL_TRUSTED_PROXIES=PROXY_ADDRESS,
        PORTAL_MANIFEST_STATIC="true",
        PORTAL_STATIC_ROOT=str(directory / "static"),
        PORTAL_VAR_DIR=str(directory / "var"),
        EMAIL_HOST=smtp.host,
        EMAIL_PORT=str(smtp.port),
        PORTAL_LOG_LEVEL="INFO",
        **s3.env(bucket),
    )
    # Make sure none of the test suite's relaxations leaks in.
    for relaxed in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES"):
        assert relaxed not in env
    return env


@contextmanager
def production_portal(
    directory: Path, *, s3: S3Server, smtp: SMTPServer
) -> Iterator[ProductionPortal]:
    """Start collectstatic, gunicorn, nginx and a worker; stop them all on exit."""
    if not os.path.exists(NGINX):
        raise RuntimeError(f"nginx is missing at {NGINX}: run `make test` (it installs it)")
    https_port, http_port, gunicorn_port = free_port(), free_port(), free_port()
    bucket = s3.create_bucket()
    env = production_env(
        directory=directory, s3=s3, bucket=bucket, smtp=smtp, https_port=https_port
    )
    portal = ProductionPortal(
        directory=directory,
        s3=s3,
        bucket=bucket,
        smtp=smtp,
        env=env,
        https_port=https_port,
        gunicorn_port=gunicorn_port,
    )
    collect_static(directory / "static", env)
    with ExitStack() as stack:
        gunicorn_log = directory / "gunicorn.log"
        gunicorn = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "thueringen_portal.wsgi:application"),
                *("--bind", f"127.0.0.1:{gunicorn_port}", "--workers", "2"),
                *("--timeout", "60", "--access-logfile", "-", "--error-logfile", "-"),
            ],
            cwd=ROOT,
            env=env,
            stdout=gunicorn_log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(_stop, gunicorn)
        _wait_for_port(gunicorn_port, gunicorn, gunicorn_log)

        cert, key = self_signed_certificate(directory)
        config = nginx_config(
            directory,
            upstream_port=gunicorn_port,
            http_port=http_port,
            https_port=https_port,
            cert=cert,
            key=key,
        )
        nginx_log = directory / "nginx.out"
        nginx = subprocess.Popen(
            [
                *(NGINX, "-e", str(directory / "error.log"), "-p", str(directory)),
                *("-c", str(config), "-g", "daemon off;"),
            ],
            stdout=nginx_log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(_stop, nginx)
        _wait_for_port(https_port, nginx, directory / "error.log")

        worker = WorkerProcess(
            queues="default,pdf,delivery,email",
            concurrency=1,
            log_path=directory / "worker.log",
            env=env,
        )
        worker.start()
        stack.callback(worker.stop)
        portal.worker = worker
        yield portal
