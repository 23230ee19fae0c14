"""The registry of delivery channels: a channel module plugs in without touching the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from submissions.delivery import (
    DeliveryChannel,
    DeliveryError,
    channel_get,
    channel_register,
    channel_unregister,
    channels_for_office,
    channels_in_portal,
)
from submissions.models import Delivery, Submission
from submissions.pipeline import (
    Step,
    pipeline_deliver,
    pipeline_prepare_deliveries,
    pipeline_record_deliveries,
)
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers


class FileDropChannel(DeliveryChannel):
    """A real, small channel: the case as a JSON file in an office's drop folder.

    Offices with a notification address under ``@drop.example`` take it; the
    folder is set by the test (``folder``).
    """

    name = "filedrop"
    position = 40
    folder: Path | None = None

    def serves(self, *, office) -> bool:
        return office.notification_email.endswith("@drop.example")

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        folder = type(self).folder
        if folder is None or not folder.is_dir():
            raise DeliveryError("the drop folder is not mounted")
        submission = delivery.submission
        document = {"reference": submission.reference, "delivery_id": delivery.pk}
        (folder / f"{submission.reference}.json").write_text(json.dumps(document))
        return 0


@pytest.fixture
def file_drop(tmp_path):
    """The file-drop channel registered for the test, and its folder."""
    channel_register(FileDropChannel)
    FileDropChannel.folder = tmp_path / "drop"
    yield FileDropChannel
    FileDropChannel.folder = None
    channel_unregister(FileDropChannel.name)


def routed_submission(office_setup, *, email: str) -> Submission:
    office = office_setup["office"]
    office.notification_email = email
    office.save()
    return SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office,
        office_resolved_at=timezone.now(),
        answers=make_answers(),
        reference="TH-2026-7K3M-DROP",
    )


def test_the_shipped_channels_are_registered_in_their_order(office_setup):
    office = office_setup["office"]
    office.notification_email = "eingang@vg.example"
    office.webhook_url = "https://vg.example/hook"
    office.webhook_secret = "s"
    assert channels_for_office(office=office) == ["inbox", "email", "webhook"]
    office.notification_email = office.webhook_url = ""
    assert channels_for_office(office=office) == ["inbox"]
    assert channels_in_portal() == ["inbox"]


def test_a_channel_name_is_registered_once(file_drop):
    with pytest.raises(ValueError, match="filedrop"):
        channel_register(FileDropChannel)
    with pytest.raises(KeyError, match="nothing"):
        channel_get("nothing")


@pytest.mark.django_db(transaction=True)
def test_a_channel_registered_by_a_module_is_used_by_the_pipeline(
    office_setup, file_drop, clean_broker
):
    file_drop.folder.mkdir()
    submission = routed_submission(office_setup, email="eingang@drop.example")
    assert pipeline_prepare_deliveries(submission_id=submission.pk) is Step.DONE
    deliveries = {d.channel: d for d in submission.deliveries.all()}
    assert sorted(deliveries) == ["email", "filedrop", "inbox"]

    assert pipeline_deliver(delivery_id=deliveries["filedrop"].pk) is Step.DONE
    dropped = json.loads((file_drop.folder / "TH-2026-7K3M-DROP.json").read_text())
    assert dropped == {"reference": "TH-2026-7K3M-DROP", "delivery_id": deliveries["filedrop"].pk}
    delivery = Delivery.objects.get(pk=deliveries["filedrop"].pk)
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 1
    assert submission.events.filter(kind="delivered_filedrop").count() == 1
    # Not an in-portal channel: the case is not yet forwarded to the office by it.
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RECEIVED
    pipeline_record_deliveries(submission_id=submission.pk)
    assert submission.events.filter(kind="delivered_filedrop").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_attempt_of_a_registered_channel_is_retried_like_any_other(
    office_setup, file_drop, clean_broker
):
    submission = routed_submission(office_setup, email="eingang@drop.example")
    pipeline_prepare_deliveries(submission_id=submission.pk)
    delivery = submission.deliveries.get(channel="filedrop")
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED  # no folder yet
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_error == "the drop folder is not mounted"
    assert delivery.next_attempt_at > timezone.now()


def test_an_office_the_channel_does_not_serve_gets_no_delivery_over_it(office_setup, file_drop):
    submission = routed_submission(office_setup, email="eingang@vg.example")
    assert channels_for_office(office=submission.office) == ["inbox", "email"]
