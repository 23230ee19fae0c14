"""The pipeline's admin: delivery state per channel and "retry now" (real two-factor logins)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from submissions.models import Delivery
from tests.backoffice.backoffice_support import make_staff
from tests.factories import SubmissionFactory


@pytest.fixture
def failed_delivery(office_setup):
    submission = SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office_setup["office"],
    )
    return Delivery.objects.create(
        submission=submission,
        channel="webhook",
        status="failed",
        attempts=31,
        failed_at=timezone.now(),
        last_error="HTTP 503 from the webhook",
    )


@pytest.mark.django_db(transaction=True)
def test_platform_admin_sees_failed_delivery_and_retries_it_now(failed_delivery, clean_broker):
    client = make_staff("plattform", "platform").client
    listing = client.get("/admin/submissions/delivery/?status__exact=failed")
    assert listing.status_code == 200
    assert failed_delivery.submission.reference in listing.content.decode()

    response = client.post(
        "/admin/submissions/delivery/",
        {"action": "retry_now", "_selected_action": [failed_delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == "pending" and failed_delivery.failed_at is None
    queued = clean_broker.lrange("delivery", 0, -1)
    assert len(queued) == 1 and b"submissions.tasks.deliver_delivery" in queued[0]


@pytest.mark.django_db(transaction=True)
def test_a_clerk_cannot_open_the_delivery_admin(failed_delivery, office_setup):
    client = make_staff("sb", "clerk", offices=[office_setup["office"]]).client
    assert client.get("/admin/submissions/delivery/").status_code == 403
    response = client.post(
        "/admin/submissions/delivery/",
        {"action": "retry_now", "_selected_action": [failed_delivery.pk]},
    )
    assert response.status_code == 403
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == "failed"
