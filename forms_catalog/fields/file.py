"""Uploaded files (PDF, PNG, JPEG), checked by name, size and first bytes.

The stored answer is a list of attachment references; new uploads are kept
on the form (`CleanContext.uploads`) until the caller stores them.

`file_limits` is the one source of a file field's limits: its `max_size`
(bytes) or else the platform default `PORTAL_MAX_UPLOAD_BYTES`, never more
than that. The hint shown before an upload, the `accept` attribute, the
server's check, its messages and the storage of the file all read it, so they
cannot contradict each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.checks import Error
from django.core.checks import register as register_check
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..definition import FieldSpec
from .base import CleanContext, DefinitionProblem, DesignerSetting, FieldType, getlist, register
from .text import label_of

DEFAULT_MAX_FILES = 10
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """What one file field accepts: the single source of every hint, check and message."""

    extensions: tuple[str, ...]
    max_bytes: int
    max_files: int

    @property
    def formats(self) -> str:
        """The allowed formats for people ("PDF, JPG, PNG"; JPEG and JPG are one format)."""
        names: list[str] = []
        for extension in self.extensions:
            name = "JPG" if extension in {"jpg", "jpeg"} else extension.upper()
            if name not in names:
                names.append(name)
        return ", ".join(names)

    @property
    def accept(self) -> str:
        """The `accept` attribute of the file input: extensions and their media types."""
        items: list[str] = []
        for extension in self.extensions:
            for item in (f".{extension}", validators.FILE_KINDS[extension][0]):
                if item not in items:
                    items.append(item)
        return ",".join(items)


def format_size(size: int) -> str:
    """A file size for people in the active language's notation: "10 MB", "2,5 MB", "500 KB"."""
    if size >= MEGABYTE:
        megabytes = (Decimal(size) / MEGABYTE).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        places = 0 if megabytes == megabytes.to_integral_value() else 1
        return (
            f"{number_format(megabytes, decimal_pos=places, use_l10n=True, force_grouping=True)} MB"
        )
    return f"{max(1, size // 1024)} KB"


def file_limits(spec: FieldSpec) -> FileLimits:
    """The limits of a file field from its definition, within the platform's upload limit."""
    extensions = tuple(
        dict.fromkeys(
            e.lower().lstrip(".")
            for e in spec.raw.get("extensions", ["pdf"])
            if e.lower().lstrip(".") in validators.FILE_KINDS
        )
    ) or ("pdf",)
    platform = settings.PORTAL_MAX_UPLOAD_BYTES
    max_bytes = min(int(spec.raw.get("max_size", platform)), platform)
    max_files = int(spec.raw.get("max_files", DEFAULT_MAX_FILES)) if spec.raw.get("multiple") else 1
    return FileLimits(extensions=extensions, max_bytes=max_bytes, max_files=max_files)


def limits_text(limits: FileLimits) -> str:
    """The limits as announced at the field before anything is uploaded."""
    text = gettext("Erlaubte Formate: %(formats)s. Höchstens %(size)s pro Datei.") % {
        "formats": limits.formats,
        "size": format_size(limits.max_bytes),
    }
    if limits.max_files > 1:
        text += " " + ngettext(
            "Bis zu %(count)s Datei.", "Bis zu %(count)s Dateien.", limits.max_files
        ) % {"count": limits.max_files}
    return text


def page_upload_note(limits: list[FileLimits]) -> str:
    """A note for a page whose files together may exceed what one request may carry
    (PORTAL_MAX_REQUEST_BYTES, refused with a 413 page); "" when they cannot."""
    request_limit = settings.PORTAL_MAX_REQUEST_BYTES
    if sum(item.max_bytes * item.max_files for item in limits) <= request_limit:
        return ""
    return gettext(
        "Alle Dateien, die Sie auf einmal senden, dürfen zusammen höchstens %(limit)s groß "
        "sein. Dateien, die angenommen wurden, bleiben gespeichert: Sie können große Dateien "
        "also nacheinander hochladen."
    ) % {"limit": format_size(request_limit)}


@register_check()
def check_upload_limits(app_configs=None, **kwargs) -> list[Error]:
    """One allowed file must fit into one request, or its own limit would be a lie."""
    upload, request = settings.PORTAL_MAX_UPLOAD_BYTES, settings.PORTAL_MAX_REQUEST_BYTES
    # A multipart body carries the file plus the page's other fields and boundaries.
    if upload + 1024 * 1024 > request:
        return [
            Error(
                f"PORTAL_MAX_UPLOAD_BYTES ({upload}) does not fit into PORTAL_MAX_REQUEST_BYTES "
                f"({request}) with 1 MB to spare for the page's other fields: a file the "
                "portal announces as allowed would be refused as too large a request.",
                hint="Raise PORTAL_MAX_REQUEST_BYTES (and the proxy's client_max_body_size) "
                "or lower PORTAL_MAX_UPLOAD_BYTES.",
                id="portal.E020",
            )
        ]
    return []


def safe_filename(name: str) -> str:
    """The citizen's file name as display text (see `validators.filename_clean`)."""
    return validators.filename_clean(name)


def size_message(*, name: str, size: str, limit: int) -> str:
    """The message for a file over its field's limit (the browser fills in {name}, {size})."""
    return gettext(
        "Die Datei „%(name)s“ ist zu groß (%(size)s). Erlaubt sind höchstens %(limit)s pro Datei."
    ) % {"name": name, "size": size, "limit": format_size(limit)}


def upload_check(*, upload: Any, limits: FileLimits) -> str:
    """Check one uploaded file by name, size and first bytes; returns its content type.

    The one check of an uploaded file: the form of a file field runs it, and
    storing a file for a draft runs it again, so nothing unchecked is stored.
    The size is checked before any byte is read. Raises ValidationError with a
    message for the citizen in the active language that names the file and
    the limit it broke (type, empty, size, content).
    """
    max_bytes = min(limits.max_bytes, settings.PORTAL_MAX_UPLOAD_BYTES)
    name = safe_filename(getattr(upload, "name", "") or "")
    extension = validators.file_extension(name)
    if extension not in limits.extensions:
        raise ValidationError(
            gettext("Die Datei „%(name)s“ hat einen nicht erlaubten Typ. Erlaubt: %(allowed)s.")
            % {"name": name, "allowed": limits.formats},
            code="file_type",
        )
    size = getattr(upload, "size", 0)
    size = size if isinstance(size, int) else 0
    if size <= 0:
        raise ValidationError(
            gettext("Die Datei „%(name)s“ ist leer.") % {"name": name}, code="file_empty"
        )
    if size > max_bytes:
        raise ValidationError(
            size_message(name=name, size=format_size(size), limit=max_bytes), code="file_size"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not validators.content_matches_extension(name, head):
        # A program renamed to ".pdf" ends here: refused as unsafe, whatever its name says.
        raise ValidationError(
            gettext(
                "Der Inhalt der Datei „%(name)s“ passt nicht zur Dateiendung „.%(extension)s“; "
                "aus Sicherheitsgründen wird sie nicht angenommen. Erlaubt: %(allowed)s."
            )
            % {"name": name, "extension": extension, "allowed": limits.formats},
            code="file_content",
        )
    return validators.sniff_content_type(head) or "application/octet-stream"


def check_upload(spec: FieldSpec, upload: Any) -> str:
    """`upload_check` with the limits of this file field."""
    return upload_check(upload=upload, limits=file_limits(spec))


def valid_attachment_ref(spec: FieldSpec, item: Any) -> bool:
    """Structure check for a stored file answer (never trusts request data)."""
    if not isinstance(item, dict):
        return False
    limits = file_limits(spec)
    allowed_types = {validators.FILE_KINDS[e][0] for e in limits.extensions}
    return (
        isinstance(item.get("attachment_id"), str)
        and re.fullmatch(r"[0-9a-fA-F-]{32,36}", item["attachment_id"]) is not None
        and isinstance(item.get("name"), str)
        and isinstance(item.get("size"), int)
        and 0 < item["size"] <= limits.max_bytes
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
    designer_title = _("Datei-Upload")
    designer_settings = (
        DesignerSetting("extensions", "extensions", _("Erlaubte Dateitypen")),
        DesignerSetting(
            "max_size",
            "megabytes",
            _("Höchstgröße je Datei (MB)"),
            help=_("Leer lassen für die Grenze der Plattform."),
        ),
        DesignerSetting("multiple", "bool", _("Mehrere Dateien erlaubt")),
        DesignerSetting("max_files", "int", _("Höchstens Dateien"), minimum=1, maximum=30),
    )
    designer_defaults: ClassVar[dict[str, Any]] = {"extensions": ["pdf", "jpg", "png"]}
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
        max_files = file_limits(spec).max_files
        delete = {str(v) for v in raw.get("delete", [])}
        kept = [i for i in self.existing(spec, ctx.saved) if i["attachment_id"] not in delete]
        uploads = [u for u in raw.get("uploads", []) if getattr(u, "name", "")]
        errors = []
        accepted = []
        for upload in uploads:
            try:
                upload.portal_content_type = check_upload(spec, upload)
                upload.portal_name = safe_filename(upload.name)
            except ValidationError as error:
                errors.extend(error.messages)
            else:
                accepted.append(upload)
        if errors:
            if accepted and spec.raw.get("multiple"):
                # The files that passed are kept (the caller may store them), so
                # one refused file does not cost the citizen the others.
                ctx.uploads[spec.id] = accepted
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
        limits = file_limits(spec)
        node.widget = "file"
        node.multiple = limits.max_files > 1
        node.accept = limits.accept
        node.limits = limits_text(limits)
        node.max_bytes = limits.max_bytes
        node.size_message = size_message(name="{name}", size="{size}", limit=limits.max_bytes)
        node.existing_files = [
            {**item, "delete_id": f"{node.id}-delete-{i}"}
            for i, item in enumerate(self.existing(spec, node.saved))
        ]
