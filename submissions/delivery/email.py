"""E-mail notification to the office: a link to the case, no personal data in the body.

E-mail is not a secure channel, so the message names only the reference,
the service and where to open the case (after login) in the back office.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation

from ..links import case_admin_url
from ..mail import mail_connection, mail_message_id, mail_send
from ..models import Delivery
from .base import DeliveryChannel, DeliveryError, channel_register


@channel_register
class EmailChannel(DeliveryChannel):
    name = Delivery.Channel.EMAIL.value
    position = 20

    def serves(self, *, office) -> bool:
        return bool(office.notification_email)

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        return send(delivery=delivery, connection=connection)


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
