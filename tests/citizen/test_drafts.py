"""Drafts: pinned version, resume tokens stored only as hashes, expiry and purging with files."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from citizen.drafts import (
    MAX_FIELD_ERRORS_BYTES,
    draft_create,
    draft_field_errors_record,
    draft_find_by_token,
    draft_issue_resume_token,
    draft_purge_expired,
)
from citizen.uploads import attachment_create
from submissions.models import Attachment, Draft
from tests.factories import FormVersionFactory, GemeindeFactory, SubmissionFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def make_draft() -> Draft:
    version = FormVersionFactory()
    return draft_create(
        service=version.service, gemeinde=GemeindeFactory(), version=version, language="de"
    )


def test_draft_is_pinned_to_the_version_it_started_on_and_expires_in_30_days():
    draft = make_draft()
    newer = FormVersionFactory(service=draft.service)
    draft.refresh_from_db()
    assert draft.form_version_id != newer.id
    lifetime = draft.expires_at - timezone.now()
    assert datetime.timedelta(days=29, hours=23) < lifetime <= datetime.timedelta(days=30)


def test_resume_token_is_stored_only_as_its_hash_and_a_new_one_replaces_the_old():
    draft = make_draft()
    first = draft_issue_resume_token(draft=draft)
    assert len(first) >= 40
    draft.refresh_from_db()
    assert draft.token_hash == hashlib.sha256(first.encode()).hexdigest()
    assert first not in str(Draft.objects.filter(id=draft.id).values().first())
    assert draft_find_by_token(token=first) == draft
    second = draft_issue_resume_token(draft=draft)
    assert draft_find_by_token(token=first) is None
    assert draft_find_by_token(token=second) == draft


@pytest.mark.parametrize(
    "token",
    ["", "x", "A" * 43, "A" * 100_000, "<script>alert(1)</script>", "\x00\x01", "../../etc/passwd"],
)
def test_forged_tokens_find_nothing(token):
    draft = make_draft()
    draft_issue_resume_token(draft=draft)
    assert draft_find_by_token(token=token) is None


def test_expired_or_submitted_draft_cannot_be_resumed():
    draft = make_draft()
    token = draft_issue_resume_token(draft=draft)
    Draft.objects.filter(id=draft.id).update(submitted_at=timezone.now())
    assert draft_find_by_token(token=token) is None
    Draft.objects.filter(id=draft.id).update(
        submitted_at=None, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert draft_find_by_token(token=token) is None


def test_purge_deletes_expired_drafts_answers_and_files_but_keeps_submitted_files():
    expired, alive = make_draft(), make_draft()
    orphan = attachment_create(
        draft=expired, field_path="nachweis", upload=SimpleUploadedFile("a.pdf", PDF)
    )
    taken = attachment_create(
        draft=expired, field_path="nachweis", upload=SimpleUploadedFile("b.pdf", PDF)
    )
    submission = SubmissionFactory()
    Attachment.objects.filter(id=taken.id).update(submission=submission)
    kept = attachment_create(
        draft=alive, field_path="nachweis", upload=SimpleUploadedFile("c.pdf", PDF)
    )
    Draft.objects.filter(id=expired.id).update(expires_at=timezone.now() - datetime.timedelta(1))

    token = draft_issue_resume_token(draft=expired)
    Draft.objects.filter(id=expired.id).update(
        expires_at=timezone.now() - datetime.timedelta(1), email="erika@example.org"
    )

    assert draft_purge_expired() == 1

    # An anonymous row remains (for the back office's counts); nothing personal does.
    purged = Draft.objects.get(id=expired.id)
    assert purged.data == {} and purged.email == ""
    assert draft_find_by_token(token=token) is None
    assert not Attachment.objects.filter(id=orphan.id).exists()
    assert not default_storage.exists(orphan.file.name)
    taken.refresh_from_db()
    assert taken.draft_id is None and default_storage.exists(taken.file.name)
    assert Draft.objects.filter(id=alive.id).exists() and default_storage.exists(kept.file.name)
    assert draft_purge_expired() == 0


def test_purge_command_runs(capsys):
    from django.core.management import call_command

    draft = make_draft()
    Draft.objects.filter(id=draft.id).update(expires_at=timezone.now() - datetime.timedelta(1))
    call_command("purge_expired_drafts")
    assert "Purged 1 expired draft" in capsys.readouterr().out
    assert Draft.objects.get(id=draft.id).data == {}


def test_field_failure_counts_stay_small_enough_for_their_index_whatever_is_posted():
    draft = make_draft()
    keys = [f"feld_{n}" for n in range(30)]
    draft_field_errors_record(draft=draft, field_keys=keys)
    draft_field_errors_record(draft=draft, field_keys=[*keys[:5], "", "x" * 5000])
    draft.refresh_from_db()
    assert draft.field_errors["feld_0"] == 2 and draft.field_errors["feld_29"] == 1
    assert draft.field_errors["x" * 127] == 1  # cut to the longest possible key
    # Hundreds of long keys at once would outgrow an index entry: refused whole, no error.
    huge = [f"{'g' * 63}.{'f' * 60}{n:03d}" for n in range(300)]
    draft_field_errors_record(draft=draft, field_keys=huge)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(field_errors) FROM submissions_draft WHERE id = %s", [draft.id]
        )
        [size] = cursor.fetchone()
    assert size <= MAX_FIELD_ERRORS_BYTES
    draft.refresh_from_db()
    assert len(draft.field_errors) == 31
