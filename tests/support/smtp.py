"""A small real SMTP server for tests (asyncio streams, in a thread, on 127.0.0.1).

Speaks enough SMTP for smtplib/Django: EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT. Every accepted message is kept as an ``email.message.Message``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_to: list[str]
    message: email.message.EmailMessage


@dataclass
class SMTPServer:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMail] = field(default_factory=list)
    # When set, every transaction is refused with 451 (a temporarily broken mail server).
    refuse: bool = False
    # Benchmarks send thousands of mails: count them only.
    keep_messages: bool = True
    received: int = 0
    # While set, the answer to QUIT waits for it (a slow goodbye after a message was
    # accepted); `quit_held` tells a test that a client is waiting there.
    hold_quit: threading.Event | None = None
    quit_held: threading.Event = field(default_factory=threading.Event)

    def start(self) -> SMTPServer:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def main() -> None:
            self._server = await asyncio.start_server(self._handle, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(main())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        def shutdown() -> None:
            self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(shutdown)
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        mail_from, rcpt_to = "", []
        await reply("220 localhost test SMTP")
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    break
                command = raw.decode("utf-8", "replace").strip()
                verb = command[:4].upper()
                if verb == "EHLO":
                    await reply("250-localhost")
                    await reply("250 8BITMIME")
                elif verb == "HELO":
                    await reply("250 localhost")
                elif verb == "MAIL":
                    if self.refuse:
                        await reply("451 try again later")
                        continue
                    mail_from, rcpt_to = command.split(":", 1)[1].strip(" <>"), []
                    await reply("250 OK")
                elif verb == "RCPT":
                    rcpt_to.append(command.split(":", 1)[1].strip(" <>"))
                    await reply("250 OK")
                elif verb == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while True:
                        line = await reader.readline()
                        if line in (b".\r\n", b".\n", b""):
                            break
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    self.received += 1
                    if self.keep_messages:
                        message = email.message_from_bytes(
                            b"".join(lines), policy=email.policy.default
                        )
                        self.messages.append(ReceivedMail(mail_from, rcpt_to, message))
                    await reply("250 OK queued")
                elif verb == "RSET":
                    mail_from, rcpt_to = "", []
                    await reply("250 OK")
                elif verb == "NOOP":
                    await reply("250 OK")
                elif verb == "QUIT":
                    if self.hold_quit is not None:
                        self.quit_held.set()
                        await asyncio.get_running_loop().run_in_executor(
                            None, self.hold_quit.wait, 120
                        )
                    await reply("221 bye")
                    break
                else:
                    await reply("502 not implemented")
        finally:
            writer.close()

    def text_of(self, mail: ReceivedMail) -> str:
        """The plain-text body of a received message."""
        return mail.message.get_body(("plain",)).get_content()


@pytest.fixture(scope="session")
def session_smtp_server() -> Iterator[SMTPServer]:
    """One server for the whole run; every e-mail of the suite goes through it."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(session_smtp_server: SMTPServer) -> SMTPServer:
    """The suite's SMTP server, emptied and accepting again for this test."""
    session_smtp_server.messages.clear()
    session_smtp_server.refuse = False
    session_smtp_server.keep_messages = True
    return session_smtp_server
