"""A real local HTTP server that plays an office's webhook receiver in tests.

It records every request, answers with a scripted status (e.g. 503 while
"down"), can hold a request until released (to kill a worker mid-request),
and deduplicates by the Idempotency-Key header the way a receiver should.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None = None


@dataclass
class WebhookReceiver:
    requests: list[ReceivedRequest] = field(default_factory=list)
    status: int = 200
    # While set, a request waits (up to hold_timeout) before it is answered.
    hold: threading.Event | None = None
    hold_timeout: float = 60
    held: threading.Event = field(default_factory=threading.Event)
    processed_keys: list[str] = field(default_factory=list)
    # Seconds every request takes before it is answered (a slow office server).
    delay: float = 0

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = ReceivedRequest(self.path, dict(self.headers), self.rfile.read(length))
                receiver.requests.append(request)
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.hold is not None:
                    receiver.held.set()
                    receiver.hold.wait(receiver.hold_timeout)
                status = receiver.status
                key = self.headers.get("Idempotency-Key", "")
                if 200 <= status < 300 and key not in receiver.processed_keys:
                    receiver.processed_keys.append(key)
                request.answered = status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def acknowledged(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.answered is not None and 200 <= r.answered < 300]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
