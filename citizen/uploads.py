"""Uploads of the citizen: checked, stored privately under generated names, tied to a draft.

A file is accepted only when its extension is allowed AND its first bytes are
those of that type, so a program renamed to `.pdf` is refused. Files never get
a public URL; they are served only by views that check the draft session or
the status secret.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from forms_catalog.fields.file import FileLimits, format_size, upload_check
from forms_catalog.validators import filename_clean
from submissions.info_requests import INFO_REQUEST_FIELD_PATH, info_request_lock_open
from submissions.models import Attachment, Draft

# Office documents are not accepted: PDF and images are what the offices'
# systems can show to a clerk safely.
DEFAULT_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")
# Files per field and per draft, so a draft cannot fill the storage. Per field,
# the definition's `max_files` applies; 30 is the most the definition schema allows.
MAX_FILES_PER_FIELD = 30
MAX_FILES_PER_DRAFT = 60
# Files with one answer to a Rückfrage (all of them together within PORTAL_MAX_DRAFT_BYTES).
MAX_FILES_PER_ANSWER = 10


class AttachmentRejected(Exception):
    """The upload was refused; `message` is shown to the citizen in their language.

    `field_path` names the file field the file was meant for, so the message is
    shown at that field.
    """

    def __init__(self, message: str, field_path: str = ""):
        super().__init__(message)
        self.message = message
        self.field_path = field_path


def default_limits() -> FileLimits:
    """The limits of a file stored without a field definition (the platform's own)."""
    return FileLimits(
        extensions=DEFAULT_EXTENSIONS,
        max_bytes=settings.PORTAL_MAX_UPLOAD_BYTES,
        max_files=MAX_FILES_PER_FIELD,
    )


def attachment_create(
    *,
    draft: Draft,
    field_path: str,
    upload: UploadedFile,
    limits: FileLimits | None = None,
    releasing: Iterable[str] = (),
) -> Attachment:
    """Check and store one uploaded file for a draft field.

    `limits` are the field's (`forms_catalog.fields.file.file_limits`), so the
    stored file obeys exactly what the field announced; without them the
    platform's defaults apply. Raises AttachmentRejected with a message for the
    citizen when the file is too big, empty, of a type not allowed, its content
    does not match its extension, or the draft has no room left for it (file
    count, or PORTAL_MAX_DRAFT_BYTES for all its files; files in `releasing`,
    which the caller is about to delete, are not counted).
    """
    limits = limits or default_limits()
    name = filename_clean(upload.name or "")
    content_type, digest = _upload_checked(upload=upload, limits=limits, field_path=field_path)
    with transaction.atomic():
        # Uploads of one draft are counted one at a time (the draft row is the lock),
        # so parallel requests cannot each pass the quota.
        Draft.objects.select_for_update().filter(id=draft.id).first()
        _check_draft_room(
            draft=draft,
            field_path=field_path,
            name=name,
            size=upload.size,
            releasing=releasing,
            max_files=min(limits.max_files, MAX_FILES_PER_FIELD),
        )
        attachment = Attachment(
            draft=draft,
            field_path=field_path[:200],
            original_name=name,
            content_type=content_type,
            size=upload.size,
            sha256=digest,
        )
        _attachment_store(attachment=attachment, upload=upload, name=name)
    return attachment


def _upload_checked(
    *, upload: UploadedFile, limits: FileLimits, field_path: str
) -> tuple[str, str]:
    """Run the one upload check; (content type, SHA-256) or AttachmentRejected."""
    try:
        content_type = upload_check(upload=upload, limits=limits)
    except ValidationError as error:
        raise AttachmentRejected(" ".join(error.messages), field_path) from None
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest()


def _attachment_store(*, attachment: Attachment, upload: UploadedFile, name: str) -> None:
    # The storage name comes from the attachment id (see attachment_path), never
    # from the citizen.
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(attachment.file.name)
        raise


def _check_draft_room(
    *,
    draft: Draft,
    field_path: str,
    name: str,
    size: int,
    releasing: Iterable[str],
    max_files: int,
) -> None:
    """Refuse a file that would exceed the draft's file count or byte quota."""
    existing = Attachment.objects.filter(draft=draft, submission__isnull=True)
    released = {str(i) for i in releasing}
    if released:
        valid = set()
        for item in released:
            try:
                valid.add(uuid.UUID(item))
            except ValueError:
                continue
        existing = existing.exclude(id__in=valid)
    if existing.count() >= MAX_FILES_PER_DRAFT:
        raise AttachmentRejected(
            _(
                "Die Datei „%(name)s“ wurde nicht angenommen: Ein Antrag kann höchstens "
                "%(count)s Dateien enthalten."
            )
            % {"name": name, "count": MAX_FILES_PER_DRAFT},
            field_path,
        )
    if existing.filter(field_path=field_path).count() >= max_files:
        raise AttachmentRejected(
            _(
                "Die Datei „%(name)s“ wurde nicht angenommen: Hier können höchstens "
                "%(count)s Dateien hochgeladen werden."
            )
            % {"name": name, "count": max_files},
            field_path,
        )
    used = existing.aggregate(total=Sum("size"))["total"] or 0
    quota = settings.PORTAL_MAX_DRAFT_BYTES
    if used + size > quota:
        raise AttachmentRejected(
            _(
                "Die Datei „%(name)s“ passt nicht mehr in diesen Antrag: Alle Dateien zusammen "
                "dürfen höchstens %(quota)s groß sein, hochgeladen sind schon %(used)s. Bitte "
                "entfernen Sie nicht benötigte Dateien oder laden Sie eine kleinere Datei hoch."
            )
            % {"name": name, "quota": format_size(quota), "used": format_size(used)},
            field_path,
        )


def attachment_for_draft(*, draft: Draft, attachment_id: object) -> Attachment | None:
    """The draft's own, not yet submitted attachment with this id, or None."""
    try:
        key = uuid.UUID(str(attachment_id))
    except (ValueError, TypeError, AttributeError):
        return None
    return Attachment.objects.filter(id=key, draft=draft, submission__isnull=True).first()


def attachments_of_draft(*, draft: Draft, field_path: str | None = None) -> list[Attachment]:
    qs = Attachment.objects.filter(draft=draft, submission__isnull=True)
    if field_path is not None:
        qs = qs.filter(field_path=field_path)
    return list(qs.order_by("created_at"))


def attachment_delete(*, draft: Draft, attachment_id: object) -> bool:
    """Remove one of the draft's files (row and stored file). False if it is not the draft's."""
    attachment = attachment_for_draft(draft=draft, attachment_id=attachment_id)
    if attachment is None:
        return False
    name = attachment.file.name
    storage = attachment.file.storage
    with transaction.atomic():
        attachment.delete()
    if name:
        storage.delete(name)
    return True


def attachment_answer(attachment: Attachment) -> dict:
    """The answer entry of a file field (agreed format, see the brief)."""
    return {
        "attachment_id": str(attachment.id),
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
    }


def referenced_attachment_ids(value: object) -> set[str]:
    """Every attachment id that appears anywhere in an answers structure."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("attachment_id"), str):
            found.add(value["attachment_id"])
        for item in value.values():
            found |= referenced_attachment_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_attachment_ids(item)
    return found


def attachment_prune(*, draft: Draft, answers: dict) -> int:
    """Delete the draft's files the answers no longer refer to (removed or replaced ones)."""
    keep = referenced_attachment_ids(answers)
    removed = 0
    for attachment in attachments_of_draft(draft=draft):
        if str(attachment.id) not in keep:
            attachment_delete(draft=draft, attachment_id=attachment.id)
            removed += 1
    return removed


# --- Files with the answer to a Rückfrage ------------------------------------------


def answer_limits() -> FileLimits:
    """What an answer to a Rückfrage accepts: the platform's formats and size, 10 files."""
    return FileLimits(
        extensions=DEFAULT_EXTENSIONS,
        max_bytes=settings.PORTAL_MAX_UPLOAD_BYTES,
        max_files=MAX_FILES_PER_ANSWER,
    )


def info_request_attachment_create(
    *, submission_id: int, request_id: object, upload: UploadedFile
) -> Attachment:
    """Check and store one file for the open request `request_id` of the submission.

    The same check as a form's file (`upload_check`: type, size, first bytes),
    the same private storage. The file waits with the request until the answer
    is sent (`submissions.info_requests.info_request_answer`). Raises
    AttachmentRejected (message for the citizen) for a refused file or one
    beyond MAX_FILES_PER_ANSWER or PORTAL_MAX_DRAFT_BYTES, and
    InfoRequestNotAnswerable when the request cannot be answered.
    """
    limits = answer_limits()
    name = filename_clean(upload.name or "")
    content_type, digest = _upload_checked(
        upload=upload, limits=limits, field_path=INFO_REQUEST_FIELD_PATH
    )
    with transaction.atomic():
        # The request row is the lock: parallel uploads cannot each pass the quota.
        info_request = info_request_lock_open(submission_id=submission_id, request_id=request_id)
        existing = Attachment.objects.filter(info_request=info_request)
        if existing.count() >= limits.max_files:
            raise AttachmentRejected(
                _(
                    "Die Datei „%(name)s“ wurde nicht angenommen: Hier können höchstens "
                    "%(count)s Dateien hochgeladen werden."
                )
                % {"name": name, "count": limits.max_files},
                INFO_REQUEST_FIELD_PATH,
            )
        used = existing.aggregate(total=Sum("size"))["total"] or 0
        quota = settings.PORTAL_MAX_DRAFT_BYTES
        if used + upload.size > quota:
            raise AttachmentRejected(
                _(
                    "Die Datei „%(name)s“ passt nicht mehr zu dieser Antwort: Alle Dateien "
                    "zusammen dürfen höchstens %(quota)s groß sein, hochgeladen sind schon "
                    "%(used)s."
                )
                % {"name": name, "quota": format_size(quota), "used": format_size(used)},
                INFO_REQUEST_FIELD_PATH,
            )
        attachment = Attachment(
            submission_id=submission_id,
            info_request=info_request,
            field_path=INFO_REQUEST_FIELD_PATH,
            original_name=name,
            content_type=content_type,
            size=upload.size,
            sha256=digest,
        )
        _attachment_store(attachment=attachment, upload=upload, name=name)
    return attachment


def info_request_attachment_delete(
    *, submission_id: int, request_id: object, attachment_id: object
) -> bool:
    """Remove a file waiting with an open request (not yet sent). False if it is not one."""
    try:
        key = uuid.UUID(str(attachment_id))
    except (ValueError, TypeError, AttributeError):
        return False
    with transaction.atomic():
        info_request = info_request_lock_open(submission_id=submission_id, request_id=request_id)
        attachment = Attachment.objects.filter(id=key, info_request=info_request).first()
        if attachment is None:
            return False
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
    if name:
        storage.delete(name)
    return True
