"""FIT-Connect: the submission, encrypted for the office's destination, over the Submission API.

One delivery is one FIT-Connect submission (described in ``docs/fit-connect.md``):

1. OAuth2 client credentials → an access token (cached until shortly before
   it expires, fetched anew once when the API answers 401).
2. ``GET /v1/destinations/{id}``: the destination must be active, offer the
   service's Leistungsschlüssel, and names its encryption key
   (``encryptionKid``), fetched on every attempt so a rotated key is used.
3. ``GET /v1/destinations/{id}/keys/{kid}``: an RSA key of at least 4096 bit
   for ``wrapKey``.
4. ``POST /v1/submissions`` announces the attachments. The submission and
   case ids are committed on the delivery row before anything else is sent
   (``DeliveryProgress``): a retried or resumed attempt continues that
   submission and never creates a second one.
5. ``PUT /v1/submissions/{id}/attachments/{attachmentId}`` for the office
   PDF, the JSON export and every upload, each a JWE (RSA-OAEP-256, A256GCM).
6. ``PUT /v1/submissions/{id}`` with the encrypted metadata (SHA-512 of the
   data and of every attachment) and the encrypted data (the JSON export).

A resumed attempt first reads the case's event log: a ``submit-submission``
event there means a previous worker submitted it and died before recording
that, so the delivery counts as delivered without sending anything again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from ..models import Delivery, Submission
from ..pdf import export_json
from .base import DeliveryChannel, DeliveryError, DeliveryProgress, channel_register

logger = logging.getLogger(__name__)

METADATA_SCHEMA = "https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json"
# The schema of our JSON export (``submissions.pdf.export_json``), named in the metadata.
DATA_SCHEMA = "https://portal.thueringen.example/schemas/antrag-export/1"
LEIKA_URN = "urn:de:fim:leika:leistung:"
EVENT_PREFIX = "https://schema.fitko.de/fit-connect/events/"
EVENT_SUBMIT = EVENT_PREFIX + "submit-submission"
EVENT_ACCEPT = EVENT_PREFIX + "accept-submission"
EVENT_REJECT = EVENT_PREFIX + "reject-submission"
JWE_ALGORITHMS = ["RSA-OAEP-256", "A256GCM"]
SET_ALGORITHMS = ["PS512"]
MIN_KEY_BITS = 4096
# Key and submission ids go into URL paths: nothing that could leave the path segment.
_SAFE_KID = re.compile(r"(?!\.+$)[A-Za-z0-9._-]{1,200}")
# A token is renewed this long before it runs out, so no request carries a dying one.
TOKEN_MARGIN_SECONDS = 30


class FitConnectError(DeliveryError):
    """The FIT-Connect side refused or could not be reached; the attempt is retried."""


@dataclass(frozen=True)
class FitConnectAccess:
    """Where and as whom we talk to FIT-Connect for one office."""

    destination_id: str
    client_id: str
    client_secret: str
    token_url: str
    api_url: str

    def url(self, path: str) -> str:
        return self.api_url.rstrip("/") + path


def fitconnect_access(*, office) -> FitConnectAccess | None:
    """The office's FIT-Connect settings, or None if any of them is missing."""
    if office is None:
        return None
    access = FitConnectAccess(
        destination_id=office.fitconnect_destination_id.strip(),
        client_id=office.fitconnect_client_id.strip(),
        client_secret=office.fitconnect_client_secret,
        token_url=office.fitconnect_token_url.strip(),
        api_url=office.fitconnect_submission_api_url.strip(),
    )
    if (
        not all((access.destination_id, access.client_id, access.client_secret, access.token_url))
        or not access.api_url
    ):
        return None
    return access


# --- HTTP: token, requests, problem documents --------------------------------

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _timeout() -> float:
    return getattr(settings, "PORTAL_FITCONNECT_TIMEOUT_SECONDS", 30)


def _problem(response: requests.Response) -> str:
    """A short text of an RFC 7807 problem document (or of whatever came instead)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(body.get(key)) for key in ("title", "detail") if body.get(key)]
    if body.get("error"):  # OAuth errors are not problem documents
        parts.append(str(body["error"]))
    if body.get("type"):
        parts.append(f"[{body['type']}]")
    return " ".join(parts)[:500] or response.text[:300]


def _token(access: FitConnectAccess, *, renew: bool = False) -> str:
    key = (access.token_url, access.client_id, access.client_secret)
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached and not renew and cached[1] > time.monotonic():
            return cached[0]
    try:
        response = requests.post(
            access.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": access.client_id,
                "client_secret": access.client_secret,
            },
            timeout=_timeout(),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise FitConnectError(f"FIT-Connect-Anmeldung nicht erreichbar: {exc}") from exc
    if response.status_code != 200:
        raise FitConnectError(
            f"FIT-Connect-Anmeldung: HTTP {response.status_code} {_problem(response)}",
            status_code=response.status_code,
        )
    try:
        body = response.json()
        token = str(body["access_token"])
        lifetime = int(body.get("expires_in", 300))
    except (ValueError, KeyError, TypeError) as exc:
        raise FitConnectError("FIT-Connect-Anmeldung: unverständliche Antwort") from exc
    with _tokens_lock:
        _tokens[key] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0))
    return token


def fitconnect_request(
    *,
    access: FitConnectAccess,
    method: str,
    path: str,
    expected: tuple[int, ...] = (200,),
    what: str,
    **kwargs: Any,
) -> requests.Response:
    """One authorised API call; a 401 renews the token and repeats the call once.

    Anything but an ``expected`` status raises ``FitConnectError`` naming
    ``what`` was attempted and the problem document's title and detail.
    """
    headers = dict(kwargs.pop("headers", {}))
    for renew in (False, True):
        headers["Authorization"] = f"Bearer {_token(access, renew=renew)}"
        try:
            response = requests.request(
                method,
                access.url(path),
                headers=headers,
                timeout=_timeout(),
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise FitConnectError(f"FIT-Connect nicht erreichbar ({what}): {exc}") from exc
        if response.status_code != 401:
            break
    if response.status_code not in expected:
        raise FitConnectError(
            f"FIT-Connect {what}: HTTP {response.status_code} {_problem(response)}",
            status_code=response.status_code,
        )
    return response


def _json(response: requests.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise FitConnectError(f"FIT-Connect {what}: Antwort ist kein JSON") from exc
    if not isinstance(body, dict):
        raise FitConnectError(f"FIT-Connect {what}: unerwartete Antwort")
    return body


# --- Destination and its encryption key ---------------------------------------


def _key_bits(key: RSAKey) -> int:
    return key.raw_value.key_size


def fitconnect_encryption_key(*, access: FitConnectAccess, service_urn: str) -> RSAKey:
    """The destination's current public encryption key, checked before anything is encrypted.

    Raises ``FitConnectError`` for an inactive destination, a service it does
    not offer, and a key that is malformed, not for ``wrapKey`` or shorter
    than 4096 bit: each is logged and retried until the window is over.
    """
    destination = _json(
        fitconnect_request(
            access=access,
            method="GET",
            path=f"/v1/destinations/{access.destination_id}",
            what="Zustellpunkt abrufen",
        ),
        "Zustellpunkt",
    )
    if destination.get("status") != "active":
        raise FitConnectError(
            f"FIT-Connect-Zustellpunkt {access.destination_id} ist nicht aktiv "
            f"(Status {destination.get('status')!r})"
        )
    offered = {
        service.get("identifier")
        for service in destination.get("services") or []
        if isinstance(service, dict)
    }
    if service_urn not in offered:
        raise FitConnectError(
            f"FIT-Connect-Zustellpunkt {access.destination_id} nimmt die Leistung "
            f"{service_urn} nicht an"
        )
    kid = destination.get("encryptionKid")
    if not isinstance(kid, str) or not kid or "/" in kid:
        raise FitConnectError("FIT-Connect-Zustellpunkt nennt keinen Verschlüsselungsschlüssel")
    jwk = _json(
        fitconnect_request(
            access=access,
            method="GET",
            path=f"/v1/destinations/{access.destination_id}/keys/{kid}",
            what="Schlüssel abrufen",
        ),
        "Schlüssel",
    )
    if jwk.get("kty") != "RSA" or jwk.get("kid") != kid:
        raise FitConnectError(f"FIT-Connect-Schlüssel {kid} ist ungültig (kein RSA-Schlüssel)")
    if "wrapKey" not in (jwk.get("key_ops") or []) or jwk.get("use", "enc") != "enc":
        raise FitConnectError(
            f"FIT-Connect-Schlüssel {kid} ist nicht zur Verschlüsselung bestimmt "
            f"(key_ops {jwk.get('key_ops')!r})"
        )
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi")):
        # A published private key is compromised: nothing is encrypted for it.
        raise FitConnectError(f"FIT-Connect-Schlüssel {kid} ist ungültig (privater Schlüssel)")
    if jwk.get("alg", "RSA-OAEP-256") != "RSA-OAEP-256":
        raise FitConnectError(f"FIT-Connect-Schlüssel {kid}: Verfahren {jwk.get('alg')!r}")
    try:
        # Only the public numbers: joserfc names the operation "encrypt", not "wrapKey".
        key = RSAKey.import_key({"kty": "RSA", "kid": kid, "n": jwk["n"], "e": jwk["e"]})
        bits = _key_bits(key)
    except (JoseError, KeyError, TypeError, ValueError) as exc:
        raise FitConnectError(f"FIT-Connect-Schlüssel {kid} ist ungültig: {exc}") from exc
    if bits < MIN_KEY_BITS:
        raise FitConnectError(
            f"FIT-Connect-Schlüssel {kid} ist zu kurz ({bits} statt mindestens {MIN_KEY_BITS} Bit)"
        )
    return key


def encrypt(*, key: RSAKey, content: bytes, content_type: str) -> str:
    """``content`` as a compact JWE for ``key`` (RSA-OAEP-256, A256GCM)."""
    return jwe.encrypt_compact(
        {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": key.kid, "cty": content_type},
        content,
        key,
        algorithms=JWE_ALGORITHMS,
    )


# --- What is sent -------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One attachment of the FIT-Connect submission."""

    attachment_id: str
    content: bytes
    filename: str
    mime_type: str
    # FIT-Connect: "form" (the form as a PDF), "attachment" (uploaded by the
    # citizen) or "report" (a document the online service generated).
    purpose: str
    description: str


def _part_id(delivery: Delivery, name: str) -> str:
    # Derived, not random: a resumed attempt uploads under the ids announced at creation.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"thueringen-portal:delivery:{delivery.pk}:{name}"))


def fitconnect_parts(*, delivery: Delivery) -> list[Part]:
    """The attachments in announced order: office PDF, JSON export, then every upload."""
    submission: Submission = delivery.submission
    if not submission.office_pdf:
        raise DeliveryError("die Behördenkopie (PDF) ist noch nicht erstellt")
    with submission.office_pdf.open("rb") as handle:
        office_pdf = handle.read()
    parts = [
        Part(
            _part_id(delivery, "office-pdf"),
            office_pdf,
            f"antrag-{submission.reference}.pdf",
            "application/pdf",
            "form",
            "Antrag (Behördenkopie)",
        ),
        Part(
            _part_id(delivery, "json"),
            export_json(submission),
            f"antrag-{submission.reference}.json",
            "application/json",
            "report",  # generated by us, not uploaded by the citizen
            "Angaben des Antrags (maschinenlesbar)",
        ),
    ]
    for attachment in submission.attachments.order_by("created_at", "id"):
        with attachment.file.open("rb") as handle:
            content = handle.read()
        parts.append(
            Part(
                str(attachment.id),
                content,
                attachment.original_name,
                attachment.content_type or "application/octet-stream",
                "attachment",
                f"Nachweis zu {attachment.field_path}",
            )
        )
    return parts


def _sha512(content: bytes) -> dict[str, str]:
    return {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}


def fitconnect_metadata(
    *, submission: Submission, parts: list[Part], data: bytes, service_urn: str
) -> dict:
    """The submission's metadata after the FIT-Connect metadata schema."""
    return {
        "$schema": METADATA_SCHEMA,
        "contentStructure": {
            "data": {
                "hash": _sha512(data),
                "submissionSchema": {"schemaUri": DATA_SCHEMA, "mimeType": "application/json"},
            },
            "attachments": [
                {
                    "attachmentId": part.attachment_id,
                    "hash": _sha512(part.content),
                    "mimeType": part.mime_type,
                    "filename": part.filename,
                    "purpose": part.purpose,
                    "description": part.description,
                }
                for part in parts
            ],
        },
        "publicServiceType": {"name": submission.service.name_de, "identifier": service_urn},
        "additionalReferenceInfo": {
            "senderReference": submission.reference,
            "applicationDate": timezone.localtime(submission.submitted_at).date().isoformat(),
        },
    }


# --- Event log (Security Event Tokens) ---------------------------------------


@dataclass(frozen=True)
class CaseEvent:
    """One verified SET of a case's event log."""

    jti: str
    submission_id: str
    events: dict[str, Any]
    issued_at: int


def _b64_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def fitconnect_signing_keys(*, access: FitConnectAccess) -> KeySet:
    """The delivery service's published signature keys (its JWKS)."""
    try:
        response = requests.get(
            access.url("/.well-known/jwks.json"), timeout=_timeout(), allow_redirects=False
        )
    except requests.RequestException as exc:
        raise FitConnectError(f"FIT-Connect-JWKS nicht erreichbar: {exc}") from exc
    if response.status_code != 200:
        raise FitConnectError(
            f"FIT-Connect-JWKS: HTTP {response.status_code}", status_code=response.status_code
        )
    try:
        keys = [
            key
            for key in _json(response, "JWKS").get("keys", [])
            if isinstance(key, dict) and key.get("kty") == "RSA"
        ]
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, TypeError, ValueError) as exc:
        raise FitConnectError(f"FIT-Connect-JWKS ist ungültig: {exc}") from exc


def _verified(token: Any, *, keys: KeySet, case_id: str) -> CaseEvent | None:
    """The SET if its PS512 signature verifies against ``keys`` and it is about ``case_id``.

    Anything else is logged at ERROR (an alert: someone may be forging
    events) and ignored, never applied.
    """
    try:
        if not isinstance(token, str) or token.count(".") != 2:
            raise ValueError("not a compact JWS")
        header = _b64_json(token.split(".", 1)[0])
        if not isinstance(header, dict) or header.get("alg") not in SET_ALGORITHMS:
            raise ValueError(f"algorithm {header.get('alg') if isinstance(header, dict) else '?'}")
        if header.get("kid") not in {key.kid for key in keys.keys}:
            raise ValueError(f"unknown key {header.get('kid')!r}")
        payload = json.loads(
            jws.deserialize_compact(token, keys, algorithms=SET_ALGORITHMS).payload
        )
        if not isinstance(payload, dict) or payload.get("txn") != f"case:{case_id}":
            raise ValueError("the token is about another case")
        subject = str(payload.get("sub", ""))
        events = payload.get("events")
        if not subject.startswith("submission:") or not isinstance(events, dict):
            raise ValueError("no submission or no events")
        return CaseEvent(
            jti=str(payload.get("jti", "")),
            submission_id=subject.removeprefix("submission:"),
            events=events,
            issued_at=int(payload.get("iat") or 0),
        )
    except (JoseError, ValueError, TypeError, UnicodeDecodeError) as exc:
        logger.error(
            "FIT-Connect: security event token of case %s rejected and ignored: %s", case_id, exc
        )
        return None


def _header_kid(token: Any) -> str:
    try:
        header = _b64_json(token.split(".", 1)[0])
    except (AttributeError, ValueError, TypeError, UnicodeDecodeError):
        return ""
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) and _SAFE_KID.fullmatch(kid) else ""


def fitconnect_destination_signature_key(*, access: FitConnectAccess, kid: str) -> RSAKey | None:
    """A signature key of the destination: the office's system signs its answers with it.

    None (logged) for a key that is unknown, not for ``verify``, carries
    private parameters or is shorter than 4096 bit.
    """
    try:
        response = fitconnect_request(
            access=access,
            method="GET",
            path=f"/v1/destinations/{access.destination_id}/keys/{kid}",
            what="Signaturschlüssel abrufen",
        )
    except FitConnectError as exc:
        if exc.status_code == 404:
            return None
        raise
    jwk = _json(response, "Signaturschlüssel")
    try:
        if jwk.get("kty") != "RSA" or jwk.get("kid") != kid:
            raise ValueError("not an RSA key of this id")
        if "verify" not in (jwk.get("key_ops") or []):
            raise ValueError(f"key_ops {jwk.get('key_ops')!r}")
        if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi")):
            raise ValueError("private parameters published")
        key = RSAKey.import_key({"kty": "RSA", "kid": kid, "n": jwk["n"], "e": jwk["e"]})
        if _key_bits(key) < MIN_KEY_BITS:
            raise ValueError(f"{_key_bits(key)} bit")
    except (JoseError, KeyError, TypeError, ValueError) as exc:
        logger.error("FIT-Connect: signature key %s of the destination refused: %s", kid, exc)
        return None
    return key


def fitconnect_case_events(*, access: FitConnectAccess, case_id: str) -> list[CaseEvent]:
    """The verified events of a case's event log, oldest first; unverifiable ones left out.

    The delivery service signs its own events with the keys of its JWKS; the
    office's system signs ``accept-submission``/``reject-submission`` with a
    signature key published for its destination, fetched by the token's kid.
    """
    body = _json(
        fitconnect_request(
            access=access, method="GET", path=f"/v1/cases/{case_id}/events", what="Ereignisse"
        ),
        "Ereignisse",
    )
    log = body.get("eventLog") or []
    if not isinstance(log, list):
        raise FitConnectError("FIT-Connect Ereignisse: unerwartete Antwort")
    known = {key.kid: key for key in fitconnect_signing_keys(access=access).keys}
    verified = []
    for token in log:
        kid = _header_kid(token)
        if kid and kid not in known:
            key = fitconnect_destination_signature_key(access=access, kid=kid)
            if key is not None:
                known[kid] = key
        verified.append(_verified(token, keys=KeySet(list(known.values())), case_id=case_id))
    return [event for event in verified if event is not None]


# --- The channel -------------------------------------------------------------


def send(*, delivery: Delivery) -> int:
    """One attempt; see the module docstring. Runs with the delivery row locked."""
    submission = delivery.submission
    access = fitconnect_access(office=submission.office)
    if access is None:
        raise DeliveryError("FIT-Connect ist für die Behörde nicht vollständig eingerichtet")
    if not submission.service.leistungsschluessel:
        raise DeliveryError("die Leistung hat keinen Leistungsschlüssel (LeiKa)")
    service_urn = LEIKA_URN + submission.service.leistungsschluessel
    key = fitconnect_encryption_key(access=access, service_urn=service_urn)
    parts = fitconnect_parts(delivery=delivery)

    if not delivery.remote_id:
        created = _json(
            fitconnect_request(
                access=access,
                method="POST",
                path="/v1/submissions",
                expected=(200, 201),
                what="Einreichung anlegen",
                json={
                    "destinationId": access.destination_id,
                    "announcedAttachments": [part.attachment_id for part in parts],
                    "serviceType": {"name": submission.service.name_de, "identifier": service_urn},
                },
            ),
            "Einreichung anlegen",
        )
        submission_id, case_id = created.get("submissionId"), created.get("caseId")
        if not all(
            isinstance(value, str) and _SAFE_KID.fullmatch(value) and len(value) <= 64
            for value in (submission_id, case_id)
        ):
            raise FitConnectError(
                "FIT-Connect Einreichung anlegen: keine gültige submissionId/caseId"
            )
        delivery.remote_id = submission_id
        delivery.remote_case_id = case_id
        logger.info(
            "delivery %s: FIT-Connect submission %s created (case %s)",
            delivery.pk,
            submission_id,
            case_id,
        )
        raise DeliveryProgress(
            f"FIT-Connect submission {submission_id} created",
            fields=["remote_id", "remote_case_id"],
        )

    # A previous worker may have submitted it and died before recording that.
    for event in fitconnect_case_events(access=access, case_id=delivery.remote_case_id):
        if event.submission_id == delivery.remote_id and EVENT_SUBMIT in event.events:
            logger.info("delivery %s: FIT-Connect submission was already submitted", delivery.pk)
            return _submitted(delivery, 202)

    for part in parts:
        fitconnect_request(
            access=access,
            method="PUT",
            path=f"/v1/submissions/{delivery.remote_id}/attachments/{part.attachment_id}",
            expected=(200, 204),
            what=f"Anhang {part.filename} hochladen",
            data=encrypt(key=key, content=part.content, content_type=part.mime_type).encode(),
            headers={"Content-Type": "application/jose"},
        )
    data = export_json(submission)
    metadata = fitconnect_metadata(
        submission=submission, parts=parts, data=data, service_urn=service_urn
    )
    response = fitconnect_request(
        access=access,
        method="PUT",
        path=f"/v1/submissions/{delivery.remote_id}",
        expected=(200, 202),
        what="Einreichung absenden",
        json={
            "encryptedMetadata": encrypt(
                key=key,
                content=json.dumps(metadata, ensure_ascii=False).encode(),
                content_type="application/json",
            ),
            "encryptedData": encrypt(key=key, content=data, content_type="application/json"),
        },
    )
    return _submitted(delivery, response.status_code)


def _submitted(delivery: Delivery, status_code: int) -> int:
    # Same transaction as the pipeline's "delivered": both commit, or neither.
    now = timezone.now()
    delivery.remote_status = Delivery.RemoteStatus.SUBMITTED
    delivery.remote_status_at = now
    Delivery.objects.filter(pk=delivery.pk).update(
        remote_status=Delivery.RemoteStatus.SUBMITTED, remote_status_at=now
    )
    return status_code


@channel_register
class FitConnectChannel(DeliveryChannel):
    name = Delivery.Channel.FITCONNECT.value
    position = 40

    def serves(self, *, office) -> bool:
        return fitconnect_access(office=office) is not None

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        return send(delivery=delivery)
