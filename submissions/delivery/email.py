"""E-mail notification to the office: a link to the case, no personal data in the body.

E-mail is not a secure channel, so the message names only the reference,
the service and where to open the case (after login) in the back office.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from ..mail import mail_connection, mail_message_id, mail_send
from ..models import Delivery
from . import DeliveryError


def case_admin_url(submission_id: int) -> str:
    try:
        path = reverse("admin:submissions_submission_change", args=[submission_id])
    except NoReverseMatch:
        path = f"/admin/submissions/submission/{submission_id}/change/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def send(*, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
    """Mail the office a notice of the case; returns once the server accepted it.

    Give the ``connection`` of the transaction that records the delivery, so
    the commit comes before the SMTP QUIT. The Message-ID names the delivery:
    a repeat after a crash is recognisably the same notice.
    """
    submission = delivery.submission
    office = submission.office
    if office is None or not office.notification_email:
        raise DeliveryError("the office has no notification e-mail address")
    with translation.override("de"):
        context = {
            "reference": submission.reference,
            "service_name": submission.service.name_de,
            "case_url": case_admin_url(submission.pk),
            "office_name": office.name,
        }
        subject = render_to_string("submissions/email/office_subject.txt", context).strip()
        body = render_to_string("submissions/email/office_body.txt", context)
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[office.notification_email],
        headers={
            "Message-ID": mail_message_id(
                kind="office-notice", parts=(submission.reference, delivery.pk)
            )
        },
    )
    try:
        if connection is None:
            with mail_connection() as own:
                mail_send(message=message, connection=own)
        else:
            mail_send(message=message, connection=connection)
    except OSError as exc:  # smtplib errors are OSErrors
        raise DeliveryError(f"SMTP: {exc}") from exc
    return 0
