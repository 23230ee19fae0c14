"""HTTP webhook: the submission as signed JSON for offices with their own systems.

Schema: ``submissions/schemas/webhook-payload.schema.json``, described in
``docs/webhook.md``. Signature: ``X-Portal-Signature: sha256=<hex>`` over
``<X-Portal-Timestamp>.<body>`` with the office's webhook secret. The
``Idempotency-Key`` header is the delivery id: it is the same on every retry,
so the receiver can drop a repeat of a request it already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from forms_catalog.selectors import export_answers

from ..links import case_admin_url
from ..models import Delivery, Submission
from .base import DeliveryChannel, DeliveryError, channel_register

SCHEMA_ID = "https://portal.thueringen.example/schemas/webhook-payload/1"


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def payload(*, delivery: Delivery) -> dict:
    """The JSON document posted for ``delivery`` (see the schema)."""
    submission: Submission = delivery.submission
    office = submission.office
    return {
        "$schema": SCHEMA_ID,
        "delivery_id": str(delivery.pk),
        "reference": submission.reference,
        "submitted_at": submission.submitted_at.isoformat(),
        "language": submission.language,
        "service": {
            "slug": submission.service.slug,
            "name": submission.service.name_de,
            "leistungsschluessel": submission.service.leistungsschluessel or None,
        },
        "form_version": submission.form_version.number,
        "gemeinde": {"ags": submission.gemeinde.ags, "name": submission.gemeinde.name},
        "office": {"id": office.pk, "name": office.name} if office else None,
        "applicant": {
            "name": submission.applicant_name,
            "email": submission.applicant_email or None,
        },
        "fee": (
            {"amount": f"{submission.fee_amount:.2f}", "currency": "EUR"}
            if submission.fee_amount is not None
            else None
        ),
        "answers": export_answers(version=submission.form_version, answers=submission.answers),
        "attachments": [
            {
                "id": str(attachment.id),
                "field": attachment.field_path,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
            for attachment in submission.attachments.all()
        ],
        "case_url": case_admin_url(submission.pk),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead the signed personal data somewhere else: treat it as a failure.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def send(*, delivery: Delivery) -> int:
    office = delivery.submission.office
    if office is None or not office.webhook_url or not office.webhook_secret:
        raise DeliveryError("the office has no webhook configured")
    if urlsplit(office.webhook_url).scheme not in {"http", "https"}:
        raise DeliveryError("the webhook URL must use http or https")
    body = json.dumps(payload(delivery=delivery), ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        office.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Thueringen-Portal-Webhook/1",
            "X-Portal-Timestamp": timestamp,
            "X-Portal-Signature": sign(
                secret=office.webhook_secret, timestamp=timestamp, body=body
            ),
            "Idempotency-Key": str(delivery.pk),
            "X-Portal-Delivery": str(delivery.pk),
        },
    )
    timeout = getattr(settings, "PORTAL_WEBHOOK_TIMEOUT_SECONDS", 15)
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from the webhook", status_code=exc.code) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"webhook not reachable: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from the webhook", status_code=status)
    return status


@channel_register
class WebhookChannel(DeliveryChannel):
    name = Delivery.Channel.WEBHOOK.value
    position = 30

    def serves(self, *, office) -> bool:
        return bool(office.webhook_url and office.webhook_secret)

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        return send(delivery=delivery)
