"""The pipeline's admin: delivery state per channel and "retry now"."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from submissions.models import Delivery
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
def test_platform_admin_sees_failed_delivery_and_retries_it_now(
    client, failed_delivery, clean_broker
):
    admin = get_user_model().objects.create_superuser("plattform", "p@example.org", "x" * 20)
    client.force_login(admin)
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


@pytest.mark.django_db
def test_staff_without_an_office_sees_no_deliveries(client, failed_delivery):
    user = get_user_model().objects.create_user("sb", "sb@example.org", "x" * 20, is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        Permission.objects.get(codename="view_delivery"),
        Permission.objects.get(codename="change_delivery"),
    )
    client.force_login(user)
    listing = client.get("/admin/submissions/delivery/")
    assert listing.status_code == 200
    assert failed_delivery.submission.reference not in listing.content.decode()
    response = client.get(f"/admin/submissions/delivery/{failed_delivery.pk}/change/")
    assert response.status_code in (302, 404)
