"""Back-office test helpers: staff accounts, real two-factor logins, a local SMTP server."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from django.core.files.base import ContentFile
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.staff import staff_create, staff_password_change
from submissions.models import Attachment, Submission
from tests.factories import FormVersionFactory, OfficeFactory, SubmissionFactory


def current_totp(user) -> str:
    """The code an authenticator app shows right now, computed from the device key."""
    device = TOTPDevice.objects.get(user=user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


@dataclass
class Staff:
    user: object
    password: str
    client: Client


def make_staff(username: str, role: str, offices=(), *, login: bool = True) -> Staff:
    """A staff account past its first login: the printed initial password already replaced."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from backoffice.roles import ROLE_GROUPS, ensure_roles

    if not Group.objects.filter(name=ROLE_GROUPS[role]).exists():
        # A transactional test flushed the groups the data migration created.
        ensure_roles(apps=apps)
    credentials = staff_create(
        username=username, role=role, office_ids=[office.pk for office in offices]
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    password = f"{credentials.password}-eigenes"
    staff_password_change(user=user, password=password)
    client = Client()
    if login:
        staff_login(client, username, password, user)
    return Staff(user=user, password=password, client=client)


def staff_login(client: Client, username: str, password: str, user) -> None:
    response = client.post(
        "/admin/login/",
        {
            "username": username,
            "password": password,
            "otp_token": current_totp(user),
            "next": "/admin/",
        },
    )
    assert response.status_code == 302, response.content.decode()[-6000:-3000]
    assert response["Location"] == "/admin/"


# A small form in the catalogue's definition format, so the case page shows
# the answers through forms_catalog's summary as on the citizen's check page.
CASE_DEFINITION = {
    "schema_version": 1,
    "steps": [
        {
            "id": "halter",
            "title": {"de": "Halterin oder Halter", "en": "Keeper"},
            "fields": [
                {
                    "id": "name",
                    "type": "text",
                    "label": {"de": "Name", "en": "Name"},
                    "required": True,
                },
                {
                    "id": "rufname",
                    "type": "text",
                    "label": {"de": "Rufname des Hundes", "en": "Dog's name"},
                    "required": True,
                },
            ],
        }
    ],
}


def make_case(*, office, reference: str, **kwargs) -> Submission:
    kwargs.setdefault("form_version", FormVersionFactory(definition=CASE_DEFINITION))
    case = SubmissionFactory(
        office=office,
        reference=reference,
        answers={"name": "Erika Mustermann", "rufname": "Bello"},
        **kwargs,
    )
    case.office_pdf.save("antrag.pdf", ContentFile(b"%PDF-1.7 office " + reference.encode()))
    case.receipt_pdf.save("eingang.pdf", ContentFile(b"%PDF-1.7 receipt " + reference.encode()))
    attachment = Attachment(
        submission=case,
        field_path="nachweis",
        original_name=f"nachweis-{reference}.pdf",
        content_type="application/pdf",
        size=20,
        sha256="0" * 64,
    )
    attachment.file.save("ignored", ContentFile(b"%PDF-1.7 attachment " + reference.encode()))
    return case


def two_offices():
    return OfficeFactory(name="Stadtverwaltung A"), OfficeFactory(name="Stadtverwaltung B")


# --- A real SMTP server on localhost ---------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _SMTPHandler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self._reply("250 localhost")
            elif command.startswith(("MAIL FROM", "RCPT TO", "RSET", "NOOP")):
                self._reply("250 OK")
            elif command == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                message = message_from_bytes(b"".join(lines), policy=policy.default)
                with self.server.mailbox.lock:
                    self.server.mailbox.messages.append(message)
                self._reply("250 queued")
            elif command == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.mailbox = Mailbox()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> SMTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
