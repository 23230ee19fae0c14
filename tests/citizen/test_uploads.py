"""Uploads: checked by extension and content, stored privately under generated names."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from citizen.drafts import draft_create
from citizen.uploads import (
    AttachmentRejected,
    attachment_create,
    attachment_delete,
    attachment_for_draft,
    attachment_prune,
)
from forms_catalog.fields.file import FileLimits
from forms_catalog.validators import filename_clean
from submissions.models import Attachment
from tests.factories import FormVersionFactory, GemeindeFactory

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _german():
    from django.utils import translation

    with translation.override("de"):
        yield


@pytest.fixture
def draft():
    version = FormVersionFactory()
    return draft_create(
        service=version.service, gemeinde=GemeindeFactory(), version=version, language="de"
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("b.PNG", PNG, "image/png"),
        ("c.jpeg", JPEG, "image/jpeg"),
    ],
)
def test_real_files_are_stored_under_a_generated_private_name(draft, name, content, content_type):
    attachment = attachment_create(
        draft=draft, field_path="nachweis", upload=SimpleUploadedFile(name, content)
    )
    assert attachment.content_type == content_type
    assert attachment.original_name == name
    assert name not in attachment.file.name and attachment.id.hex in attachment.file.name
    assert default_storage.open(attachment.file.name).read() == content


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("rechnung.pdf", EXE, "passt nicht"),
        ("bild.png", PDF, "passt nicht"),
        ("virus.exe", EXE, "nicht erlaubten Typ"),
        ("ohne-endung", PDF, "nicht erlaubten Typ"),
        ("leer.pdf", b"", "leer"),
    ],
)
def test_disguised_wrong_or_empty_files_are_refused_with_a_clear_message(
    draft, name, content, expected
):
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(draft=draft, field_path="x", upload=SimpleUploadedFile(name, content))
    assert expected in caught.value.message
    assert not Attachment.objects.exists()


def test_disguised_file_message_in_english(draft):
    from django.utils import translation

    with translation.override("en"), pytest.raises(AttachmentRejected) as caught:
        attachment_create(draft=draft, field_path="x", upload=SimpleUploadedFile("a.pdf", EXE))
    assert "does not match" in caught.value.message


def test_size_limit(draft, settings):
    settings.PORTAL_MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(draft=draft, field_path="x", upload=big)
    assert "zu groß" in caught.value.message


def test_hostile_file_names_are_cleaned_for_display_only():
    clean_filename = filename_clean
    assert clean_filename("../../etc/passwd.pdf") == "passwd.pdf"
    assert clean_filename("C:\\Users\\x\\a.pdf") == "a.pdf"
    assert clean_filename("a\x00b\u202e.pdf") == "ab.pdf"
    assert len(clean_filename("x" * 10_000 + ".pdf")) <= 120


def test_another_drafts_attachment_is_invisible_and_cannot_be_deleted(draft):
    version = FormVersionFactory()
    other = draft_create(
        service=version.service, gemeinde=GemeindeFactory(), version=version, language="de"
    )
    theirs = attachment_create(draft=other, field_path="x", upload=SimpleUploadedFile("a.pdf", PDF))
    assert attachment_for_draft(draft=draft, attachment_id=theirs.id) is None
    assert attachment_for_draft(draft=draft, attachment_id="not-a-uuid") is None
    assert attachment_delete(draft=draft, attachment_id=theirs.id) is False
    assert default_storage.exists(theirs.file.name)


def test_prune_removes_files_no_answer_refers_to(draft):
    kept = attachment_create(draft=draft, field_path="x", upload=SimpleUploadedFile("a.pdf", PDF))
    replaced = attachment_create(
        draft=draft, field_path="x", upload=SimpleUploadedFile("b.pdf", PDF)
    )
    answers = {"x": [{"attachment_id": str(kept.id), "name": "a.pdf"}], "y": "text"}
    assert attachment_prune(draft=draft, answers=answers) == 1
    assert Attachment.objects.filter(id=kept.id).exists()
    assert not Attachment.objects.filter(id=replaced.id).exists()
    assert not default_storage.exists(replaced.file.name)


def test_storing_obeys_the_fields_own_limits_not_only_the_platforms(draft, settings):
    """The file stored for a draft is checked by the limits its field announced."""
    settings.PORTAL_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    limits = FileLimits(extensions=("pdf",), max_bytes=1024 * 1024, max_files=1)
    big = SimpleUploadedFile("plan.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(draft=draft, field_path="plan", upload=big, limits=limits)
    assert caught.value.field_path == "plan"
    assert "höchstens 1 MB pro Datei" in caught.value.message
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(
            draft=draft, field_path="plan", upload=SimpleUploadedFile("a.png", PNG), limits=limits
        )
    assert "Erlaubt: PDF." in caught.value.message
    assert not Attachment.objects.exists()


def test_the_fields_file_count_is_the_one_it_announced(draft):
    limits = FileLimits(extensions=("pdf",), max_bytes=1024 * 1024, max_files=2)
    for name in ("a.pdf", "b.pdf"):
        attachment_create(
            draft=draft, field_path="x", upload=SimpleUploadedFile(name, PDF), limits=limits
        )
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(
            draft=draft, field_path="x", upload=SimpleUploadedFile("c.pdf", PDF), limits=limits
        )
    assert "höchstens 2 Dateien" in caught.value.message and "c.pdf" in caught.value.message
    assert caught.value.field_path == "x"


def test_draft_quota_message_uses_german_sizes(draft, settings):
    settings.PORTAL_MAX_DRAFT_BYTES = 100 * 1024 * 1024
    attachment_create(draft=draft, field_path="x", upload=SimpleUploadedFile("a.pdf", PDF))
    settings.PORTAL_MAX_DRAFT_BYTES = len(PDF) + 10
    with pytest.raises(AttachmentRejected) as caught:
        attachment_create(draft=draft, field_path="y", upload=SimpleUploadedFile("b.pdf", PDF))
    assert caught.value.field_path == "y"
    assert "1 KB" in caught.value.message and "bytes" not in caught.value.message
