"""Uploaded files (PDF, PNG, JPEG), checked by name, size and first bytes.

The stored answer is a list of attachment references; new uploads are kept
on the form (`CleanContext.uploads`) until the caller stores them. The size
limit of a field is its `max_size`, never more than the portal's
`PORTAL_MAX_UPLOAD_BYTES`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext

from .. import validators
from ..definition import FieldSpec
from .base import CleanContext, DefinitionProblem, FieldType, getlist, register
from .text import label_of

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 10


def format_size(size: int) -> str:
    """A file size for people, in the active language's number notation."""
    if size >= 1024 * 1024:
        megabytes = Decimal(size) / (1024 * 1024)
        return f"{number_format(megabytes, decimal_pos=1, use_l10n=True)} MB"
    return f"{max(1, size // 1024)} KB"


def file_limits(spec: FieldSpec) -> tuple[list[str], int, int]:
    """(allowed extensions, max bytes per file, max files) of a file field."""
    extensions = [e.lower().lstrip(".") for e in spec.raw.get("extensions", ["pdf"])]
    max_size = min(
        int(spec.raw.get("max_size", DEFAULT_MAX_FILE_SIZE)), settings.PORTAL_MAX_UPLOAD_BYTES
    )
    max_files = int(spec.raw.get("max_files", DEFAULT_MAX_FILES)) if spec.raw.get("multiple") else 1
    return extensions, max_size, max_files


def safe_filename(name: str) -> str:
    """The citizen's file name as display text (see `validators.filename_clean`)."""
    return validators.filename_clean(name)


def upload_check(*, upload: Any, extensions: list[str], max_size: int) -> str:
    """Check one uploaded file by name, size and first bytes; returns its content type.

    The one check of an uploaded file: the form of a file field runs it, and
    storing a file for a draft runs it again, so nothing unchecked is stored.
    Raises ValidationError with a message for the citizen in the active language.
    """
    max_size = min(max_size, settings.PORTAL_MAX_UPLOAD_BYTES)
    name = safe_filename(getattr(upload, "name", "") or "")
    allowed = ", ".join(e.upper() for e in extensions)
    if validators.file_extension(name) not in extensions:
        raise ValidationError(
            gettext("Die Datei „%(name)s“ hat einen nicht erlaubten Typ. Erlaubt: %(allowed)s.")
            % {"name": name, "allowed": allowed}
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise ValidationError(gettext("Die Datei „%(name)s“ ist leer.") % {"name": name})
    if size > max_size:
        raise ValidationError(
            gettext("Die Datei „%(name)s“ ist zu groß (höchstens %(limit)s).")
            % {"name": name, "limit": format_size(max_size)}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not validators.content_matches_extension(name, head):
        raise ValidationError(
            gettext(
                "Der Inhalt der Datei „%(name)s“ passt nicht zur Dateiendung. "
                "Bitte laden Sie eine echte %(allowed)s-Datei hoch."
            )
            % {"name": name, "allowed": allowed}
        )
    return validators.sniff_content_type(head) or "application/octet-stream"


def check_upload(spec: FieldSpec, upload: Any) -> str:
    """`upload_check` with the limits of this file field."""
    extensions, max_size, _ = file_limits(spec)
    return upload_check(upload=upload, extensions=extensions, max_size=max_size)


def valid_attachment_ref(spec: FieldSpec, item: Any) -> bool:
    """Structure check for a stored file answer (never trusts request data)."""
    if not isinstance(item, dict):
        return False
    extensions, max_size, _ = file_limits(spec)
    allowed_types = {validators.FILE_KINDS[e][0] for e in extensions if e in validators.FILE_KINDS}
    return (
        isinstance(item.get("attachment_id"), str)
        and re.fullmatch(r"[0-9a-fA-F-]{32,36}", item["attachment_id"]) is not None
        and isinstance(item.get("name"), str)
        and isinstance(item.get("size"), int)
        and 0 < item["size"] <= max_size
        and item.get("content_type") in allowed_types
    )


class FilesWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return {"uploads": getlist(files or {}, name), "delete": getlist(data, f"{name}-delete")}


@register
class FileType(FieldType):
    name = "file"
    widget_class = FilesWidget
    receives_files = True
    schema_required = ("extensions",)
    schema_properties: ClassVar[dict[str, Any]] = {
        "extensions": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["pdf", "png", "jpg", "jpeg"]},
        },
        "max_size": {"type": "integer", "minimum": 1024},
        "multiple": {"type": "boolean"},
        "max_files": {"type": "integer", "minimum": 1, "maximum": 30},
    }

    def definition_problems(self, spec, path, *, in_item):
        problems = []
        unknown = [e for e in spec["extensions"] if e not in validators.FILE_KINDS]
        if unknown:
            problems.append(
                DefinitionProblem(f"{path}.extensions", f"no content check for {unknown}")
            )
        if spec.get("max_size", 0) > settings.PORTAL_MAX_UPLOAD_BYTES:
            problems.append(
                DefinitionProblem(
                    f"{path}.max_size",
                    f"at most {settings.PORTAL_MAX_UPLOAD_BYTES} bytes "
                    "(the portal's upload limit, PORTAL_MAX_UPLOAD_BYTES)",
                )
            )
        if in_item:
            problems.append(
                DefinitionProblem(
                    f"{path}.type", "file fields are not supported inside repeatable groups"
                )
            )
        return problems

    def required_message(self, label):
        return gettext("Bitte laden Sie für „%(label)s“ eine Datei hoch.") % {"label": label}

    def existing(self, spec: FieldSpec, saved: Any) -> list[dict[str, Any]]:
        return (
            [i for i in saved if valid_attachment_ref(spec, i)] if isinstance(saved, list) else []
        )

    def clean(self, spec, raw: Any, ctx: CleanContext) -> list[dict[str, Any]]:
        _, _, max_files = file_limits(spec)
        delete = {str(v) for v in raw.get("delete", [])}
        kept = [i for i in self.existing(spec, ctx.saved) if i["attachment_id"] not in delete]
        uploads = [u for u in raw.get("uploads", []) if getattr(u, "name", "")]
        errors = []
        for upload in uploads:
            try:
                upload.portal_content_type = check_upload(spec, upload)
                upload.portal_name = safe_filename(upload.name)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        if uploads and not spec.raw.get("multiple"):
            kept = []  # a single-file field: the new file replaces the old one
        if len(kept) + len(uploads) > max_files:
            raise ValidationError(
                gettext("Bitte laden Sie bei „%(label)s“ höchstens %(limit)s Dateien hoch.")
                % {"label": label_of(spec, ctx), "limit": max_files}
            )
        if uploads:
            ctx.uploads[spec.id] = uploads
        # New uploads count as an answer for "required"; they join the answer in get_answers.
        return kept + [{"pending_upload": True}] * len(uploads) if uploads else kept

    def display(self, spec, value, language):
        items = value if isinstance(value, list) else []
        names = [
            f"{item.get('name', '')} ({format_size(item['size'])})"
            for item in items
            if isinstance(item, dict) and isinstance(item.get("size"), int)
        ]
        return ", ".join(names) or "—"

    def form_data(self, spec, name, value):
        return {}  # files cannot be posted again; the saved answer is read by `clean`

    def decorate(self, node, spec, raw, language):
        extensions, _, max_files = file_limits(spec)
        node.widget = "file"
        node.multiple = max_files > 1
        node.accept = ",".join(f".{e}" for e in extensions)
        node.existing_files = [
            {**item, "delete_id": f"{node.id}-delete-{i}"}
            for i, item in enumerate(self.existing(spec, node.saved))
        ]
