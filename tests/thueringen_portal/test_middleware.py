"""Request bodies over PORTAL_MAX_REQUEST_BYTES are refused before they are read.

Real servers, real sockets: Django's live server for a declared Content-Length,
gunicorn (what the image runs) for a chunked body without one.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from submissions.models import Draft
from tests.citizen.citizen_support import municipal_rule, municipality, publish
from tests.support import worker as worker_support

ROOT = Path(__file__).resolve().parents[2]
SIXTY_MB = 60 * 1024 * 1024
CHUNK = b"0" * 65536


def start_path(gemeinde) -> str:
    # Starting an application creates a draft: the view's trace in the database.
    return f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/"


@pytest.fixture
def service_setup(transactional_db):
    version = publish()
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    return gemeinde


class BodySender(threading.Thread):
    """Sends a request body in the background and counts what went out."""

    def __init__(self, sock: socket.socket, *, total: int, chunked: bool):
        super().__init__(daemon=True)
        self.sock, self.total, self.chunked, self.sent = sock, total, chunked, 0

    def run(self) -> None:
        try:
            while self.sent < self.total:
                data = CHUNK[: min(len(CHUNK), self.total - self.sent)]
                frame = b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data
                self.sock.sendall(frame)
                self.sent += len(data)
            if self.chunked:
                self.sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection: it did not want the rest


def read_response(sock: socket.socket, on_head=None) -> tuple[int, dict[str, str], str]:
    """Status, headers and page; `on_head()` is called as soon as the head arrived."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = sock.recv(65536)
        if not data:
            break
        raw += data
    if on_head:
        on_head()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        try:
            data = sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        body += data
    return status, headers, body.decode("utf-8", "replace")


def post_big_body(
    host: str, port: int, path: str, *, chunked: bool, language: str = "de"
) -> tuple[int, str, int, float]:
    """POST 60 MB; returns status, page, bytes sent when the answer came, seconds taken."""
    sock = socket.create_connection((host, port), timeout=60)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {SIXTY_MB}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=----grenze\r\n"
        f"{length}\r\nAccept-Language: {language}\r\n\r\n"
    )
    started = time.monotonic()
    sock.sendall(head.encode())
    sender = BodySender(sock, total=SIXTY_MB, chunked=chunked)
    sender.start()
    answered: list[tuple[int, float]] = []
    status, _headers, page = read_response(
        sock, on_head=lambda: answered.append((sender.sent, time.monotonic() - started))
    )
    answered_after, took = answered[0]
    sender.join(60)
    sock.close()
    return status, page, answered_after, took


@pytest.mark.parametrize(
    ("language", "text"),
    [("de", "Anfrage zu groß"), ("en", "Request too large")],
)
def test_sixty_megabyte_post_was_read_whole_and_is_now_refused_with_413_unread(
    live_server, service_setup, language, text
):
    server = urlparse(live_server.url)
    status, page, answered_after, took = post_big_body(
        server.hostname, server.port, start_path(service_setup), chunked=False, language=language
    )
    assert status == 413
    assert text in page and "30 MB" in page and "<title>" in page
    # The answer came while most of the body was still unsent, so it was not read.
    assert answered_after < SIXTY_MB // 2, answered_after
    assert took < 20
    assert not Draft.objects.exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn_server(service_setup, tmp_path):
    """gunicorn (as in the image) on the test database, with a 1 MB request limit."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_support.test_database_url(),
        "PORTAL_MAX_REQUEST_BYTES": str(1024 * 1024),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "thueringen_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                return b" 200 " in sock.recv(200)
        except OSError:
            return False

    try:
        worker_support.wait_until(
            healthy, timeout=60, message=(tmp_path / "gunicorn.log").read_text()
        )
        yield port
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def test_chunked_post_without_content_length_is_counted_and_refused_with_413(
    gunicorn_server, service_setup
):
    status, page, answered_after, _took = post_big_body(
        "127.0.0.1", gunicorn_server, start_path(service_setup), chunked=True
    )
    assert status == 413 and "Anfrage zu groß" in page and "1 MB" in page
    assert answered_after < SIXTY_MB // 2, answered_after
    assert not Draft.objects.exists()


def test_small_chunked_post_is_still_read_and_parsed(gunicorn_server):
    with socket.create_connection(("127.0.0.1", gunicorn_server), timeout=30) as sock:
        sock.sendall(b"GET /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        _status, headers, page = read_response(sock)
    cookie = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&reference=TH-2026-7K3M-Q9XD&secret=falsch".encode()
    with socket.create_connection(("127.0.0.1", gunicorn_server), timeout=30) as sock:
        sock.sendall(
            b"POST /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Cookie: csrftoken=%s\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n%s\r\n0\r\n\r\n" % (cookie.encode(), len(body), body)
        )
        status, _headers, page = read_response(sock)
    # Parsed like any form: the lookup ran and the typed reference is shown again.
    assert status == 200 and "keinen Antrag" in page
    assert 'value="TH-2026-7K3M-Q9XD"' in page
