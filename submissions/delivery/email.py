"""E-mail notification to the office: a link to the case, no personal data in the body.

E-mail is not a secure channel, so the message names only the reference,
the service and where to open the case (after login) in the back office.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from ..models import Delivery
from . import DeliveryError


def case_admin_url(submission_id: int) -> str:
    try:
        path = reverse("admin:submissions_submission_change", args=[submission_id])
    except NoReverseMatch:
        path = f"/admin/submissions/submission/{submission_id}/change/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def send(*, delivery: Delivery) -> int:
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
    message = EmailMessage(subject=subject, body=body, to=[office.notification_email])
    try:
        message.send(fail_silently=False)
    except OSError as exc:  # smtplib errors are OSErrors
        raise DeliveryError(f"SMTP: {exc}") from exc
    return 0
