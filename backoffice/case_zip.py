"""A case's documents as one ZIP, written while it is sent (never whole in memory).

`zipfile` writes to a sink that only collects bytes; after every chunk of a
file the generator hands what was written to the response, so memory holds
one chunk, whatever the size of the case. Names inside the ZIP come from
`zip_names`: cleaned of paths and control characters, prefixed with the field
they were uploaded for, and made unique.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from forms_catalog.validators import filename_clean
from submissions.models import Submission
from submissions.pdf import export_json

from .workbench_selectors import DocumentGroup

CHUNK_BYTES = 64 * 1024
MISSING_NOTE_NAME = "FEHLENDE_DATEIEN.txt"
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')


class _Sink:
    """A write-only file for zipfile: keeps what was written until `take`."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclass(frozen=True)
class ZipMember:
    """One file of the ZIP: its name inside, and where its bytes come from."""

    name: str
    # A file in storage (name, storage) or bytes made for the ZIP.
    storage_name: str = ""
    storage: object = None
    data: bytes | None = None
    compress: bool = False


def _part(text: str, *, limit: int) -> str:
    """One name part without path separators, reserved characters or trailing dots."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip(" ._")
    return text[:limit].strip(" ._")


def zip_member_name(*, label: str, filename: str) -> str:
    """ "<field label> - <file name>", safe as one flat name in any unpacker."""
    clean = filename_clean(filename, fallback="datei")
    if "." in clean:
        stem, extension = clean.rsplit(".", 1)
        extension = _part(extension, limit=10)
    else:
        stem, extension = clean, ""
    stem = _part(stem, limit=80) or "datei"
    prefix = _part(label, limit=80)
    name = f"{prefix} - {stem}" if prefix else stem
    return f"{name}.{extension}" if extension else name


def unique_names(names: list[str]) -> list[str]:
    """The names, with " (2)", " (3)" … before the extension where one repeats (case-blind)."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate = name
        number = 1
        while candidate.casefold() in seen:
            number += 1
            stem, dot, extension = name.rpartition(".")
            candidate = f"{stem} ({number}).{extension}" if dot else f"{name} ({number})"
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def case_zip_members(
    *, submission: Submission, groups: list[DocumentGroup], with_export: bool = False
) -> list[ZipMember]:
    """What goes into a case's ZIP: the office PDF, (with_export) the JSON export and a
    manifest, then every upload under its field's label."""
    reference = submission.reference
    members: list[ZipMember] = []
    if submission.office_pdf and submission.office_pdf.name:
        members.append(
            ZipMember(
                name=f"Antrag {reference}.pdf",
                storage_name=submission.office_pdf.name,
                storage=submission.office_pdf.storage,
            )
        )
    uploads = [
        (group, attachment, zip_member_name(label=group.label, filename=attachment.original_name))
        for group in groups
        for attachment in group.attachments
    ]
    names = unique_names([member.name for member in members] + [name for _g, _a, name in uploads])[
        len(members) :
    ]
    if with_export:
        members.append(
            ZipMember(name=f"Antrag {reference}.json", data=export_json(submission), compress=True)
        )
        manifest = {
            "reference": reference,
            "exported_at": timezone.now().isoformat(),
            "office": submission.office.name if submission.office else "",
            "files": [
                {
                    "name": name,
                    "field_path": attachment.field_path,
                    "field_label": group.label,
                    "original_name": attachment.original_name,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                }
                for (group, attachment, _n), name in zip(uploads, names, strict=True)
            ],
        }
        members.append(
            ZipMember(
                name="uebergabe.json",
                data=json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
                compress=True,
            )
        )
    for (_group, attachment, _n), name in zip(uploads, names, strict=True):
        members.append(
            ZipMember(name=name, storage_name=attachment.file.name, storage=attachment.file.storage)
        )
    return members


def zip_stream(members: list[ZipMember]) -> Iterator[bytes]:
    """The ZIP of `members`, chunk by chunk. A file missing in storage is listed in
    FEHLENDE_DATEIEN.txt instead of breaking the download half-way."""
    sink = _Sink()
    missing: list[str] = []
    now = timezone.localtime().timetuple()[:6]
    with zipfile.ZipFile(sink, mode="w", allowZip64=True) as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED if member.compress else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            if member.data is not None:
                with archive.open(info, "w") as target:
                    target.write(member.data)
                yield sink.take()
                continue
            try:
                handle = member.storage.open(member.storage_name, "rb")
            except (FileNotFoundError, OSError):
                missing.append(member.name)
                continue
            with handle, archive.open(info, "w") as target:
                while chunk := handle.read(CHUNK_BYTES):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
        if missing:
            note = "Diese Dateien fehlen im Speicher und sind nicht enthalten:\n" + "\n".join(
                missing
            )
            info = zipfile.ZipInfo(MISSING_NOTE_NAME, date_time=now)
            with archive.open(info, "w") as target:
                target.write(note.encode())
    yield sink.take()
