"""A real local HTTP server that plays FIT-Connect (auth, Submission API, event log) in tests.

It does what the real service and the office's system together would see:
an OAuth token endpoint (client credentials), a destination with a
generated RSA-4096 encryption key, the submission endpoints (which decrypt
every JWE with the private key and check announced attachments, their
order and the SHA-512 hashes in the metadata), and a case event log of
Security Event Tokens signed with its own key, published as a JWKS. Errors
are RFC 7807 problem documents. Switches make it fail the way the real one
can: down (5xx), tokens revoked, destination inactive, key rotated, an
invalid or wrong-use or short key, an upload held until released.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

PROBLEM = "https://schema.fitko.de/fit-connect/submission-api/problems/"
EVENTS = "https://schema.fitko.de/fit-connect/events/"
SET_SCHEMA = "https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json"


def _private(key: RSAKey) -> RSAKey:
    # joserfc checks "decrypt" against key_ops; the stand-in keeps the bare key.
    values = {k: v for k, v in key.as_dict(private=True).items() if k not in {"key_ops", "use"}}
    return RSAKey.import_key(values)


@dataclass
class Keys:
    """Generated once per test session: RSA-4096 takes seconds."""

    encryption: RSAKey
    rotated: RSAKey
    signing: RSAKey  # the delivery service's (its JWKS)
    office: RSAKey  # the office's system's, published as a key of the destination
    forger: RSAKey


@pytest.fixture(scope="session")
def fitconnect_keys() -> Keys:
    return Keys(
        encryption=_private(RSAKey.generate_key(4096, parameters={"kid": "enc-1"})),
        rotated=_private(RSAKey.generate_key(4096, parameters={"kid": "enc-2"})),
        signing=_private(RSAKey.generate_key(4096, parameters={"kid": "set-1"})),
        office=_private(RSAKey.generate_key(4096, parameters={"kid": "office-sig-1"})),
        # Same kid as the real signing key: only the signature can tell them apart.
        forger=_private(RSAKey.generate_key(2048, parameters={"kid": "set-1"})),
    )


@dataclass
class StandInSubmission:
    submission_id: str
    case_id: str
    destination_id: str
    announced: list[str]
    service_type: dict
    uploads: list[str] = field(default_factory=list)  # attachment ids, first upload order
    attachments: dict[str, bytes] = field(default_factory=dict)  # decrypted
    attachment_kids: set[str] = field(default_factory=set)
    submitted: bool = False
    metadata: dict | None = None
    data: bytes | None = None
    events: list[str] = field(default_factory=list)


class Problem(Exception):
    def __init__(self, status: int, kind: str, title: str, detail: str = ""):
        super().__init__(title)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail


@dataclass
class FitConnectStandIn:
    keys: Keys
    client_id: str = "portal-sender"
    client_secret: str = "sender-secret-äöü"
    destination_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    destination_status: str = "active"
    services: list[str] = field(
        default_factory=lambda: ["urn:de:fim:leika:leistung:99050012104000"]
    )
    encryption_kid: str = "enc-1"
    token_lifetime: int = 1800
    # Switches
    down: int | None = None  # every API call answers this status (e.g. 503)
    fail: dict[str, int] = field(default_factory=dict)  # operation -> status
    served_key: dict | None = None  # served instead of the real public key
    created_id: Any = None  # answered as submissionId instead of the real one
    hold_upload: threading.Event | None = None
    hold_timeout: float = 60
    # Records
    held: threading.Event = field(default_factory=threading.Event)
    tokens: dict[str, float] = field(default_factory=dict)
    token_requests: int = 0
    submissions: dict[str, StandInSubmission] = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up ----------------------------------------------------------

    def start(self) -> FitConnectStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, payload, content_type = stand_in.handle(
                        method, self.path, dict(self.headers), body
                    )
                except Problem as problem:
                    status, content_type = problem.status, "application/problem+json"
                    payload = {
                        "type": PROBLEM + problem.kind,
                        "title": problem.title,
                        "status": problem.status,
                        "detail": problem.detail,
                        "instance": self.path,
                    }
                stand_in.log.append((method, self.path, status))
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def do_PUT(self) -> None:
                self._answer("PUT")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.hold_upload is not None:
            self.hold_upload.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return f"{self.api_url}/token"

    def office_settings(self) -> dict[str, str]:
        return {
            "fitconnect_destination_id": self.destination_id,
            "fitconnect_client_id": self.client_id,
            "fitconnect_client_secret": self.client_secret,
            "fitconnect_token_url": self.token_url,
            "fitconnect_submission_api_url": self.api_url,
        }

    def private_key(self, kid: str) -> RSAKey | None:
        return {key.kid: key for key in (self.keys.encryption, self.keys.rotated)}.get(kid)

    def public_jwk(self) -> dict:
        key = self.private_key(self.encryption_kid)
        public = key.as_dict(private=False)
        return {
            "kty": "RSA",
            "kid": self.encryption_kid,
            "n": public["n"],
            "e": public["e"],
            "alg": "RSA-OAEP-256",
            "key_ops": ["wrapKey"],
        }

    def revoke_tokens(self) -> None:
        """As if every token had expired on the server's side."""
        self.tokens.clear()

    # --- the event log -----------------------------------------------------

    def emit(self, submission_id: str, event: str, payload: dict | None = None, *, key=None) -> str:
        """Append a SET about ``submission_id`` to its case's log, signed with ``key``."""
        submission = self.submissions[submission_id]
        signing = key or self.keys.signing
        claims = {
            "$schema": SET_SCHEMA,
            "jti": str(uuid.uuid4()),
            "iss": self.destination_id if event != "submit-submission" else self.api_url,
            "iat": int(time.time()),
            "sub": f"submission:{submission_id}",
            "txn": f"case:{submission.case_id}",
            "events": {EVENTS + event: payload or {}},
        }
        token = jws.serialize_compact(
            {"typ": "secevent+jwt", "alg": "PS512", "kid": signing.kid},
            json.dumps(claims).encode(),
            signing,
            algorithms=["PS512"],
        )
        submission.events.append(token)
        return token

    def accept(self, submission_id: str) -> str:
        """The office's system accepts: signed with its destination's signature key."""
        return self.emit(submission_id, "accept-submission", {}, key=self.keys.office)

    def reject(self, submission_id: str, problems: list[dict]) -> str:
        return self.emit(
            submission_id, "reject-submission", {"problems": problems}, key=self.keys.office
        )

    def only_submission(self) -> StandInSubmission:
        assert len(self.submissions) == 1, list(self.submissions)
        return next(iter(self.submissions.values()))

    # --- the endpoints -------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, str]:
        if method == "GET" and path == "/.well-known/jwks.json":
            public = self.keys.signing.as_dict(private=False)
            return (
                200,
                {"keys": [{**public, "alg": "PS512", "key_ops": ["verify"]}]},
                "application/json",
            )
        if method == "POST" and path == "/token":
            return self._token(headers, body)
        if self.down:
            raise Problem(self.down, "service-unavailable", "Service Unavailable", "stand-in down")
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) < time.time():
            raise Problem(401, "unauthorized", "Unauthorized", "token missing, invalid or expired")
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            raise Problem(404, "not-found", "Not Found")
        route = parts[1:]
        if method == "GET" and len(route) == 2 and route[0] == "destinations":
            return self._destination(route[1])
        if (
            method == "GET"
            and len(route) == 4
            and route[0] == "destinations"
            and route[2] == "keys"
        ):
            return self._key(route[1], route[3])
        if method == "POST" and route == ["submissions"]:
            return self._create(body)
        if (
            method == "PUT"
            and len(route) == 4
            and route[0] == "submissions"
            and route[2] == "attachments"
        ):
            return self._upload(route[1], route[3], headers, body)
        if method == "PUT" and len(route) == 2 and route[0] == "submissions":
            return self._submit(route[1], body)
        if method == "GET" and len(route) == 3 and route[0] == "cases" and route[2] == "events":
            return self._events(route[1])
        raise Problem(404, "not-found", "Not Found")

    def _failing(self, operation: str) -> None:
        if operation in self.fail:
            status = self.fail[operation]
            titles = {401: "Unauthorized", 403: "Forbidden"}
            raise Problem(status, "failure", titles.get(status, "Server Error"), operation)

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, str]:
        self.token_requests += 1
        self._failing("token")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, "application/json"
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {"error": "invalid_client"}, "application/json"
        token = uuid.uuid4().hex
        self.tokens[token] = time.time() + self.token_lifetime
        return (
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime},
            "application/json",
        )

    def _destination(self, destination_id: str) -> tuple[int, Any, str]:
        self._failing("destination")
        if destination_id != self.destination_id:
            raise Problem(404, "destination-not-found", "Destination not found")
        return (
            200,
            {
                "destinationId": self.destination_id,
                "status": self.destination_status,
                "encryptionKid": self.encryption_kid,
                "services": [
                    {"identifier": urn, "submissionSchemas": [], "regions": []}
                    for urn in self.services
                ],
            },
            "application/json",
        )

    def _key(self, destination_id: str, kid: str) -> tuple[int, Any, str]:
        self._failing("key")
        if destination_id == self.destination_id and kid == self.keys.office.kid:
            public = self.keys.office.as_dict(private=False)
            jwk = {"kty": "RSA", "kid": kid, "n": public["n"], "e": public["e"]}
            return 200, {**jwk, "alg": "PS512", "key_ops": ["verify"]}, "application/json"
        if destination_id != self.destination_id or kid != self.encryption_kid:
            raise Problem(404, "key-not-found", "Key not found")
        return 200, self.served_key or self.public_jwk(), "application/json"

    def _create(self, body: bytes) -> tuple[int, Any, str]:
        self._failing("create")
        try:
            request = json.loads(body)
            destination_id = request["destinationId"]
            announced = [str(uuid.UUID(a)) for a in request.get("announcedAttachments", [])]
            service_type = request["serviceType"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Problem(400, "request-invalid", "Bad Request", str(exc)) from exc
        if destination_id != self.destination_id:
            raise Problem(422, "destination-not-found", "Destination not found")
        if self.destination_status != "active":
            raise Problem(422, "destination-state-invalid", "Destination not active")
        if service_type.get("identifier") not in self.services:
            raise Problem(422, "service-type-invalid", "Service not offered by destination")
        if len(set(announced)) != len(announced):
            raise Problem(422, "attachments-invalid", "Duplicate attachment ids")
        with self.lock:
            submission = StandInSubmission(
                submission_id=str(uuid.uuid4()),
                case_id=str(uuid.uuid4()),
                destination_id=destination_id,
                announced=announced,
                service_type=service_type,
            )
            self.submissions[submission.submission_id] = submission
        return (
            201,
            {
                "destinationId": destination_id,
                "submissionId": submission.submission_id
                if self.created_id is None
                else self.created_id,
                "caseId": submission.case_id,
            },
            "application/json",
        )

    def _decrypt(self, token: str) -> tuple[bytes, str]:
        try:
            segment = token.split(".", 1)[0]
            header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
            if not isinstance(header, dict):
                header = {}
        except ValueError:
            header = {}
        kid = header.get("kid", "")
        key = self.private_key(kid)
        if kid != self.encryption_kid or key is None:
            raise Problem(422, "encryption-key-invalid", "Encrypted for an unknown or old key", kid)
        if header.get("alg") != "RSA-OAEP-256" or header.get("enc") != "A256GCM":
            raise Problem(422, "encryption-invalid", "Wrong algorithm", str(header))
        try:
            return jwe.decrypt_compact(
                token, key, algorithms=["RSA-OAEP-256", "A256GCM"]
            ).plaintext, kid
        except (JoseError, ValueError) as exc:
            raise Problem(422, "encryption-invalid", "Cannot decrypt", str(exc)) from exc

    def _submission(self, submission_id: str) -> StandInSubmission:
        submission = self.submissions.get(submission_id)
        if submission is None:
            raise Problem(404, "submission-not-found", "Submission not found")
        return submission

    def _upload(
        self, submission_id: str, attachment_id: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, str]:
        submission = self._submission(submission_id)
        if self.hold_upload is not None:
            self.held.set()
            self.hold_upload.wait(self.hold_timeout)
        self._failing("upload")
        if submission.submitted:
            raise Problem(409, "submission-state-invalid", "Submission already submitted")
        if headers.get("Content-Type") != "application/jose":
            raise Problem(415, "unsupported-media-type", "Expected application/jose")
        if attachment_id not in submission.announced:
            raise Problem(422, "attachment-not-announced", "Attachment was not announced")
        content, kid = self._decrypt(body.decode())
        with self.lock:
            submission.attachments[attachment_id] = content
            submission.attachment_kids.add(kid)
            if attachment_id not in submission.uploads:  # a resumed upload repeats one
                submission.uploads.append(attachment_id)
        return 204, None, ""

    def _submit(self, submission_id: str, body: bytes) -> tuple[int, Any, str]:
        submission = self._submission(submission_id)
        self._failing("submit")
        if submission.submitted:
            raise Problem(409, "submission-state-invalid", "Submission already submitted")
        missing = [a for a in submission.announced if a not in submission.attachments]
        if missing:
            raise Problem(422, "missing-attachments", "Announced attachments missing", str(missing))
        try:
            request = json.loads(body)
            metadata_raw, _ = self._decrypt(request["encryptedMetadata"])
            data, _ = self._decrypt(request["encryptedData"])
            metadata = json.loads(metadata_raw)
            structure = metadata["contentStructure"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Problem(400, "request-invalid", "Bad Request", str(exc)) from exc
        if structure["data"]["hash"] != {
            "type": "sha512",
            "content": hashlib.sha512(data).hexdigest(),
        }:
            raise Problem(422, "hash-mismatch", "Data hash does not match")
        for entry in structure.get("attachments", []):
            if entry.get("purpose") not in {"form", "attachment", "report"} or not entry.get(
                "mimeType"
            ):
                raise Problem(422, "metadata-invalid", "Attachment entry invalid", str(entry))
        if not structure["data"].get("submissionSchema", {}).get("schemaUri"):
            raise Problem(422, "metadata-invalid", "No submission schema")
        listed = {a["attachmentId"]: a for a in structure.get("attachments", [])}
        if set(listed) != set(submission.announced):
            raise Problem(422, "attachments-invalid", "Metadata lists other attachments")
        for attachment_id, content in submission.attachments.items():
            expected = {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}
            if listed[attachment_id]["hash"] != expected:
                raise Problem(422, "hash-mismatch", f"Attachment {attachment_id} hash differs")
        with self.lock:
            submission.metadata, submission.data, submission.submitted = metadata, data, True
        self.emit(submission_id, "submit-submission", {})
        return (
            202,
            {
                "destinationId": submission.destination_id,
                "submissionId": submission_id,
                "caseId": submission.case_id,
            },
            "application/json",
        )

    def _events(self, case_id: str) -> tuple[int, Any, str]:
        self._failing("events")
        for submission in self.submissions.values():
            if submission.case_id == case_id:
                return 200, {"eventLog": list(submission.events)}, "application/json"
        raise Problem(404, "case-not-found", "Case not found")


@pytest.fixture
def fitconnect(fitconnect_keys) -> Iterator[FitConnectStandIn]:
    stand_in = FitConnectStandIn(keys=fitconnect_keys).start()
    yield stand_in
    stand_in.stop()
