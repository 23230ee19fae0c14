"""Upload, PDF, download and retention purge against both storages operators use.

The same journey runs on the local private folder and on an S3 API server
(moto in server mode, reached over HTTP by django-storages). What is stored
is checked where it lives: in the folder, or in the bucket with boto3.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from backoffice.casework import case_transition
from backoffice.retention import retention_purge_expired
from submissions.models import Attachment, Submission
from submissions.pipeline import pipeline_render_pdfs, pipeline_resolve_office
from tests.backoffice.backoffice_support import make_staff
from tests.citizen.citizen_support import municipal_rule, municipality, publish
from tests.citizen.test_citizen_views import fill_all, start

pytestmark = pytest.mark.django_db

DECIDED = timezone.make_aware(datetime.datetime(2026, 3, 10, 14, 30))


@dataclass
class StoredFiles:
    kind: str
    names: Callable[[], set[str]]
    read: Callable[[str], bytes]


@pytest.fixture(params=["local", "s3"])
def storage(request, settings, _private_media, s3_server) -> StoredFiles:
    if request.param == "local":
        media = _private_media
        return StoredFiles(
            kind="local",
            names=lambda: {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()},
            read=lambda name: (media / name).read_bytes(),
        )
    bucket = s3_server.create_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting(bucket)}
    return StoredFiles(
        kind="s3",
        names=lambda: s3_server.keys(bucket),
        read=lambda name: s3_server.read(bucket, name),
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(match="*ratelimit:*"):
        client.delete(key)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_upload_pdf_download_and_purge_use_the_configured_storage(storage, client):
    version = publish()
    municipal_rule(version.service)
    gemeinde, office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    draft = start(client, gemeinde)
    fill_all(client, draft)
    upload = Attachment.objects.get()
    assert upload.file.name in storage.names()
    assert storage.read(upload.file.name).startswith(b"%PDF")

    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    pipeline_resolve_office(submission_id=submission.pk)
    pipeline_render_pdfs(submission_id=submission.pk)
    submission.refresh_from_db()
    attachment = submission.attachments.get()
    files = {submission.office_pdf.name, submission.receipt_pdf.name, attachment.file.name}
    assert files <= storage.names()
    assert storage.read(submission.office_pdf.name).startswith(b"%PDF")

    clerk = make_staff(f"clerk_{storage.kind}", "clerk", [office])
    case = f"/admin/submissions/submission/{submission.pk}"
    office_pdf = clerk.client.get(f"{case}/pdf/office/")
    assert office_pdf.status_code == 200
    assert body(office_pdf) == storage.read(submission.office_pdf.name)
    download = clerk.client.get(f"{case}/attachment/{attachment.pk}/")
    assert download.status_code == 200
    assert body(download) == storage.read(attachment.file.name)

    case_transition(submission=submission, to_status="in_progress", actor=clerk.user)
    case_transition(
        submission=submission, to_status="rejected", actor=clerk.user, comment="Unvollständig"
    )
    Submission.objects.filter(pk=submission.pk).update(decided_at=DECIDED)
    days = submission.service.retention_days
    report = retention_purge_expired(now=DECIDED + datetime.timedelta(days=days, minutes=1))
    assert report.submissions == [submission.reference]
    assert files.isdisjoint(storage.names()), f"{storage.kind}: files left after the purge"
