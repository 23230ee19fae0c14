"""Uploads of the citizen: checked, stored privately under generated names, tied to a draft.

A file is accepted only when its extension is allowed AND its first bytes are
those of that type, so a program renamed to `.pdf` is refused. Files never get
a public URL; they are served only by views that check the draft session or
the status secret.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from submissions.models import Attachment, Draft


@dataclass(frozen=True)
class FileKind:
    content_type: str
    signatures: tuple[bytes, ...]


# Extension → what the file must start with. Office documents are not accepted:
# PDF and images are what the offices' systems can show to a clerk safely.
FILE_KINDS: dict[str, FileKind] = {
    "pdf": FileKind("application/pdf", (b"%PDF-",)),
    "jpg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    "png": FileKind("image/png", (b"\x89PNG\r\n\x1a\n",)),
}
DEFAULT_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")
# Files per field and per draft, so a draft cannot fill the storage.
MAX_FILES_PER_FIELD = 20
MAX_FILES_PER_DRAFT = 60


class AttachmentRejected(Exception):
    """The upload was refused; `message` is shown to the citizen in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_filename(name: str) -> str:
    """The citizen's file name for display only: no path, no control characters, bounded."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return (name or "datei")[-120:]


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def attachment_create(
    *,
    draft: Draft,
    field_path: str,
    upload: UploadedFile,
    allowed_extensions: Iterable[str] | None = None,
    max_bytes: int | None = None,
    releasing: Iterable[str] = (),
) -> Attachment:
    """Check and store one uploaded file for a draft field.

    Raises AttachmentRejected with a message for the citizen when the file is
    too big, empty, of a type not allowed, its content does not match its
    extension, or the draft has no room left for it (file count, or
    PORTAL_MAX_DRAFT_BYTES for all its files; files in `releasing`, which the
    caller is about to delete, are not counted).
    """
    limit = min(max_bytes or settings.PORTAL_MAX_UPLOAD_BYTES, settings.PORTAL_MAX_UPLOAD_BYTES)
    allowed = [e.lower().lstrip(".") for e in (allowed_extensions or DEFAULT_EXTENSIONS)]
    allowed = [e for e in allowed if e in FILE_KINDS] or list(DEFAULT_EXTENSIONS)
    name = clean_filename(upload.name or "")
    ext = _extension(name)
    allowed_text = ", ".join(sorted({e.upper() for e in allowed}))
    if upload.size is None or upload.size == 0:
        raise AttachmentRejected(_("Die Datei „%(name)s“ ist leer.") % {"name": name})
    if upload.size > limit:
        raise AttachmentRejected(
            _("Die Datei „%(name)s“ ist zu groß. Erlaubt sind höchstens %(mb)s MB.")
            % {"name": name, "mb": limit // (1024 * 1024)}
        )
    if ext not in allowed:
        raise AttachmentRejected(
            _("Die Datei „%(name)s“ hat einen nicht erlaubten Dateityp. Erlaubt sind: %(types)s.")
            % {"name": name, "types": allowed_text}
        )
    kind = FILE_KINDS[ext]
    upload.seek(0)
    head = upload.read(16)
    if not any(head.startswith(sig) for sig in kind.signatures):
        raise AttachmentRejected(
            _(
                "Der Inhalt der Datei „%(name)s“ passt nicht zu ihrer Endung .%(ext)s. "
                "Bitte laden Sie eine echte %(type)s-Datei hoch."
            )
            % {"name": name, "ext": ext, "type": ext.upper()}
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        # Uploads of one draft are counted one at a time (the draft row is the lock),
        # so parallel requests cannot each pass the quota.
        Draft.objects.select_for_update().filter(id=draft.id).first()
        _check_draft_room(
            draft=draft, field_path=field_path, name=name, size=upload.size, releasing=releasing
        )
        attachment = Attachment(
            draft=draft,
            field_path=field_path[:200],
            original_name=name,
            content_type=kind.content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        # The storage name comes from the attachment id (see attachment_path), never
        # from the citizen.
        attachment.file.save(name, upload, save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.storage.delete(attachment.file.name)
            raise
    return attachment


def _check_draft_room(
    *, draft: Draft, field_path: str, name: str, size: int, releasing: Iterable[str]
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
    if existing.count() >= MAX_FILES_PER_DRAFT or (
        existing.filter(field_path=field_path).count() >= MAX_FILES_PER_FIELD
    ):
        raise AttachmentRejected(_("Sie haben die höchste Anzahl an Dateien erreicht."))
    used = existing.aggregate(total=Sum("size"))["total"] or 0
    quota = settings.PORTAL_MAX_DRAFT_BYTES
    if used + size > quota:
        raise AttachmentRejected(
            _(
                "Die Datei „%(name)s“ passt nicht mehr in diesen Antrag: Alle Dateien zusammen "
                "dürfen höchstens %(quota)s groß sein, hochgeladen sind schon %(used)s. Bitte "
                "entfernen Sie nicht benötigte Dateien oder laden Sie eine kleinere Datei hoch."
            )
            % {"name": name, "quota": filesizeformat(quota), "used": filesizeformat(used)}
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
