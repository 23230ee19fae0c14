"""Writes and reads of the block library (Bausteine): versions, review, use in forms, catalogue.

A block version goes draft -> in review (change note required) -> published
by a second editor (four eyes, as for forms) and retires the version before.
This is simpler than the form review (no separate approval, no schedule)
because publishing a block version changes no form citizens see: it creates
a new draft of every form whose latest version uses the block
(`block_forms_update`), and each of those goes through the full form review
before it is published. Published block versions never change, so published
forms (which pin the block version number) never change either.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .blocks import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    block_content_problems,
    block_expand,
    block_reexpand,
    block_references,
    definition_ids,
)
from .checks import definition_errors
from .models import Block, BlockVersion, FormVersion
from .services import (
    CATALOGUE_DIR,
    FormVersionError,
    _is_editor,
    definition_checksum,
    form_version_create_draft,
    form_version_update_draft,
)
from .services import (
    _require_editor as _require_form_editor,
)
from .services import (
    _required_note as _required_form_note,
)

BLOCK_CATALOGUE_DIR = CATALOGUE_DIR / "blocks"


class BlockError(FormVersionError):
    """A refused change to a block or its use; `errors` lists the problems (German)."""


@dataclass(frozen=True)
class BlockUsage:
    """One form version that uses a block."""

    version: FormVersion
    group_id: str
    block_version: int


@dataclass
class BlockUpdateReport:
    """What publishing a block version did to the forms that use it."""

    drafts_created: list[FormVersion] = field(default_factory=list)
    drafts_updated: list[FormVersion] = field(default_factory=list)
    # Services whose open version is in review, approved or scheduled: not touched.
    skipped: list[FormVersion] = field(default_factory=list)


def _require_editor(user: Any) -> None:
    try:
        _require_form_editor(user)
    except FormVersionError as exc:
        raise BlockError(exc.message) from exc


def _required_note(note: Any, what: str) -> str:
    try:
        return _required_form_note(note, what)
    except FormVersionError as exc:
        raise BlockError(exc.message) from exc


# --- reads ---------------------------------------------------------------------------
def block_published_version(*, block: Block) -> BlockVersion | None:
    """The version new uses of the block get, or None before the first publication."""
    return (
        BlockVersion.objects.filter(block=block, status=BlockVersion.Status.PUBLISHED)
        .order_by("-number")
        .first()
    )


def block_open_version(*, block: Block) -> BlockVersion | None:
    """The block's draft or version in review (at most one), or None."""
    return (
        BlockVersion.objects.filter(
            block=block,
            status__in=[BlockVersion.Status.DRAFT, BlockVersion.Status.IN_REVIEW],
        )
        .order_by("-number")
        .first()
    )


def block_usages(*, block: Block, latest_only: bool = False) -> list[BlockUsage]:
    """Every form version that uses `block` (or only each service's latest version), newest
    first. Reads the definitions in Python: the catalogue has hundreds of versions, not
    millions, and this works on every database the portal runs on."""
    versions = FormVersion.objects.select_related("service").order_by("service__name_de", "-number")
    result: list[BlockUsage] = []
    seen_services: set[int] = set()
    for version in versions:
        if latest_only and version.service_id in seen_services:
            continue
        seen_services.add(version.service_id)
        for ref in block_references(version.definition):
            if ref.slug == block.slug:
                result.append(BlockUsage(version, ref.group_id, ref.version))
    return result


def block_content_errors(*, content: Any) -> list[str]:
    """Every problem of a block version's content, in German, naming the field: the block's
    own rules, then the form checks on a one-step form that holds the block."""
    problems = block_content_problems(content)
    if problems:
        return problems
    probe = {
        "schema_version": 1,
        "steps": [
            {
                "id": "baustein",
                "title": {"de": "Baustein", "en": "Block"},
                "fields": [
                    {
                        "id": "b",
                        "type": "group",
                        "label": content.get("label"),
                        **({"help": content["help"]} if content.get("help") else {}),
                        "fields": content["fields"],
                    }
                ],
            }
        ],
    }
    fields = content["fields"]
    messages = []
    for error in definition_errors(probe):
        where = error.path
        prefix = "steps[0].fields[0].fields["
        if where.startswith(prefix):
            index = int(where[len(prefix) :].split("]", 1)[0])
            rest = where[len(prefix) :].split("]", 1)[1].lstrip(".")
            name = fields[index].get("id") if isinstance(fields[index], dict) else "?"
            where = f"Feld {index + 1} („{name}“)" + (f", {rest}" if rest else "")
        elif where.startswith("steps[0].fields[0]."):
            where = where[len("steps[0].fields[0].") :]
        messages.append(f"{where}: {error.message}")
    return messages


# --- writes: versions ------------------------------------------------------------------
def _next_block_number(block: Block) -> int:
    current = BlockVersion.objects.filter(block=block).aggregate(n=Max("number"))["n"]
    return (current or 0) + 1


def _add_contributor(version: BlockVersion, user: Any) -> None:
    if getattr(user, "pk", None) and user.pk not in version.contributor_ids:
        version.contributor_ids = [*version.contributor_ids, user.pk]


@transaction.atomic
def block_version_create_draft(
    *, block: Block, user: Any, content: dict[str, Any] | None = None
) -> BlockVersion:
    """A new draft of the block, copied from its latest version unless `content` is given.

    One open version (draft or in review) per block; `user=None` is a system action.
    """
    if user is not None:
        _require_editor(user)
    Block.objects.select_for_update().get(pk=block.pk)
    if block_open_version(block=block) is not None:
        raise BlockError("Für diesen Baustein gibt es bereits einen Entwurf.")
    if content is None:
        latest = BlockVersion.objects.filter(block=block).order_by("-number").first()
        content = copy.deepcopy(latest.content) if latest else {"label": {}, "fields": []}
    version = BlockVersion(
        block=block,
        number=_next_block_number(block),
        content=content,
        checksum=definition_checksum(content),
    )
    _add_contributor(version, user)
    version.save()
    return version


@transaction.atomic
def block_version_update_draft(
    *, version: BlockVersion, user: Any, content: dict[str, Any]
) -> BlockVersion:
    """Replace a draft's content; refused for any other status (published versions are
    immutable). The content is checked when the draft is submitted for review."""
    _require_editor(user)
    locked = BlockVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != BlockVersion.Status.DRAFT:
        raise BlockError(
            "Nur Entwürfe eines Bausteins können geändert werden; veröffentlichte Versionen "
            "sind unveränderlich."
        )
    if not isinstance(content, dict):
        raise BlockError("Der Inhalt eines Bausteins muss ein Objekt sein.")
    locked.content = content
    locked.checksum = definition_checksum(content)
    _add_contributor(locked, user)
    locked.save(update_fields=["content", "checksum", "contributor_ids"])
    return locked


@transaction.atomic
def block_version_submit_for_review(*, version: BlockVersion, user: Any, note: str) -> BlockVersion:
    """Draft -> in review. The change note is required (it becomes the change note of every
    form draft the publication creates); the content must be free of errors."""
    _require_editor(user)
    text = _required_note(note, "einen Änderungshinweis")
    locked = BlockVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != BlockVersion.Status.DRAFT:
        raise BlockError("Nur ein Entwurf kann zur Prüfung gegeben werden.")
    problems = block_content_errors(content=locked.content)
    if problems:
        raise BlockError("Der Baustein enthält Fehler:\n" + "\n".join(problems))
    locked.status = BlockVersion.Status.IN_REVIEW
    locked.change_note = text
    _add_contributor(locked, user)
    locked.save(update_fields=["status", "change_note", "contributor_ids"])
    return locked


@transaction.atomic
def block_version_request_changes(*, version: BlockVersion, user: Any, reason: str) -> BlockVersion:
    """In review -> back to draft (the reviewer asks for changes); the reason is required."""
    _require_editor(user)
    text = _required_note(reason, "einen Grund")
    locked = BlockVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != BlockVersion.Status.IN_REVIEW:
        raise BlockError("Nur ein Baustein in Prüfung kann zurückgegeben werden.")
    locked.status = BlockVersion.Status.DRAFT
    locked.change_note = f"{locked.change_note}\nZurückgegeben: {text}".strip()
    locked.save(update_fields=["status", "change_note"])
    return locked


def _publish_locked(locked: BlockVersion, *, user: Any) -> BlockUpdateReport:
    BlockVersion.objects.filter(
        block_id=locked.block_id, status=BlockVersion.Status.PUBLISHED
    ).update(status=BlockVersion.Status.RETIRED)
    locked.status = BlockVersion.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.approved_by = user if getattr(user, "pk", None) else None
    locked.checksum = definition_checksum(locked.content)
    locked.save(update_fields=["status", "published_at", "approved_by", "checksum"])
    return block_forms_update(block_version=locked)


@transaction.atomic
def block_version_approve(*, version: BlockVersion, user: Any) -> BlockUpdateReport:
    """In review -> published, by an editor who neither created, edited nor submitted it
    (four eyes). Retires the previous version and creates the new form drafts
    (`block_forms_update`) in the same transaction: all of it happens, or none."""
    _require_editor(user)
    Block.objects.select_for_update().get(pk=version.block_id)
    locked = BlockVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != BlockVersion.Status.IN_REVIEW:
        raise BlockError("Nur ein Baustein in Prüfung kann freigegeben werden.")
    if user.pk in locked.contributor_ids:
        raise BlockError(
            "Sie haben an dieser Version mitgearbeitet. Freigeben muss ein anderes Mitglied "
            "des Kompetenzzentrums (Vier-Augen-Prinzip)."
        )
    problems = block_content_errors(content=locked.content)
    if problems:
        raise BlockError("Der Baustein enthält Fehler:\n" + "\n".join(problems))
    report = _publish_locked(locked, user=user)
    version.status = locked.status
    return report


def block_forms_update(*, block_version: BlockVersion) -> BlockUpdateReport:
    """Bring every form that uses the block onto `block_version`, as a new draft.

    For each active service whose latest version uses an older version of the
    block: a published latest version gets a new draft (a system action, so
    any two editors can review it) with the block groups re-expanded and a
    change note naming the block and its change; a draft gets the same change
    in place. Versions in review, approved or scheduled are left alone and
    reported (the editor takes them back first). Services that are inactive or
    whose latest version is retired (withdrawn) get nothing. Call inside the
    transaction that publishes the block version.
    """
    report = BlockUpdateReport()
    block = block_version.block
    note = (
        f"Baustein „{block.name_de}“ auf Version {block_version.number} aktualisiert: "
        f"{block_version.change_note}"
    )[:2000]
    latest_versions = {u.version.pk: u.version for u in block_usages(block=block, latest_only=True)}
    for latest in latest_versions.values():
        if not latest.service.is_active or latest.status == FormVersion.Status.RETIRED:
            continue
        refs = [
            r
            for r in block_references(latest.definition)
            if r.slug == block.slug and r.version != block_version.number
        ]
        if not refs:
            continue
        if latest.status not in (FormVersion.Status.PUBLISHED, FormVersion.Status.DRAFT):
            report.skipped.append(latest)
            continue
        definition = copy.deepcopy(latest.definition)
        for ref in refs:
            items = definition["steps"][ref.step_index]["fields"]
            items[ref.field_index] = block_reexpand(
                group=items[ref.field_index],
                number=block_version.number,
                content=block_version.content,
            )
        if latest.status == FormVersion.Status.DRAFT:
            old_note = latest.change_note.strip()
            form_version_update_draft(
                version=latest,
                definition=definition,
                change_note=f"{old_note}\n{note}".strip()[:2000],
            )
            report.drafts_updated.append(latest)
        else:
            report.drafts_created.append(
                form_version_create_draft(
                    service=latest.service, definition=definition, change_note=note
                )
            )
    return report


# --- writes: use in a form (the designer calls this) ------------------------------------------
@transaction.atomic
def block_reference_insert(
    *,
    version: FormVersion,
    user: Any,
    step_id: str,
    block: Block,
    group_id: str,
    position: int | None = None,
) -> FormVersion:
    """Insert the published version of `block` into a draft's step `step_id` as the group
    `group_id` (its fields become `<group_id>_<field id>`), at `position` among the step's
    fields (default: at the end). Refused with a German message if the version is not a
    draft, the step is unknown, the block has no published version, or an id is taken."""
    _require_editor(user)
    if not isinstance(group_id, str) or not ID_PATTERN.fullmatch(group_id):
        raise BlockError(
            "Die Kennung der Gruppe darf nur Kleinbuchstaben, Ziffern und _ enthalten und "
            "muss mit einem Buchstaben beginnen."
        )
    published = block_published_version(block=block)
    if published is None:
        raise BlockError(f"Der Baustein „{block.name_de}“ ist noch nicht veröffentlicht.")
    locked = FormVersion.objects.get(pk=version.pk)
    if locked.status != FormVersion.Status.DRAFT:
        raise BlockError("Bausteine lassen sich nur in einen Entwurf einfügen.")
    definition = copy.deepcopy(locked.definition)
    step = next(
        (s for s in definition.get("steps", []) if isinstance(s, dict) and s.get("id") == step_id),
        None,
    )
    if step is None:
        raise BlockError(f"Den Schritt „{step_id}“ gibt es in diesem Entwurf nicht.")
    group = block_expand(
        group_id=group_id, slug=block.slug, number=published.number, content=published.content
    )
    new_ids = [group_id, *(spec["id"] for spec in group["fields"])]
    too_long = [i for i in new_ids if len(i) > MAX_ID_LENGTH]
    if too_long:
        raise BlockError(
            f"Die Kennung „{too_long[0]}“ wäre länger als {MAX_ID_LENGTH} Zeichen; "
            "bitte wählen Sie eine kürzere Kennung der Gruppe."
        )
    taken = sorted(set(new_ids) & definition_ids(definition))
    if taken:
        raise BlockError(
            f"Die Kennung „{taken[0]}“ ist in diesem Formular schon vergeben; bitte wählen Sie "
            "eine andere Kennung der Gruppe."
        )
    items = step.setdefault("fields", [])
    index = len(items) if position is None else max(0, min(int(position), len(items)))
    items.insert(index, group)
    return form_version_update_draft(version=locked, definition=definition, user=user)


# --- catalogue -------------------------------------------------------------------------
@dataclass
class BlockCatalogueReport:
    published: list[str] = field(default_factory=list)  # "slug vN"
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    forms: BlockUpdateReport = field(default_factory=BlockUpdateReport)


def block_catalogue_load(*, path: Path | None = None) -> BlockCatalogueReport:
    """Load the block library files (`catalogue/blocks/*.json`, each
    {"blocks": [{"slug", "name_de", "name_en", "description_de"?, "change_note"?,
    "content": {"label", "help"?, "fields"}}]}). Idempotent: a block version is published
    (as a system action, like the catalogue's forms) only when its content differs from
    the published one, and then the forms using it get new drafts."""
    report = BlockCatalogueReport()
    folder = Path(path) if path else BLOCK_CATALOGUE_DIR
    if not folder.exists():
        return report
    files = [folder] if folder.is_file() else sorted(folder.glob("*.json"))
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            report.failed[file.name] = [f"cannot read: {exc}"]
            continue
        entries = data.get("blocks") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            report.failed[file.name] = ["(root): needs a list 'blocks'"]
            continue
        for index, entry in enumerate(entries):
            slug = entry.get("slug") if isinstance(entry, dict) else None
            problems = (
                block_content_errors(content=entry.get("content"))
                if isinstance(slug, str) and slug and entry.get("name_de")
                else ["needs slug, name_de, name_en and content"]
            )
            if problems:
                report.failed[f"{file.name}: blocks[{index}]"] = problems
                continue
            _load_block(entry, report)
    return report


@transaction.atomic
def _load_block(entry: dict[str, Any], report: BlockCatalogueReport) -> None:
    block, _created = Block.objects.update_or_create(
        slug=entry["slug"],
        defaults={
            "name_de": entry["name_de"],
            "name_en": entry.get("name_en") or entry["name_de"],
            "description_de": entry.get("description_de", ""),
        },
    )
    Block.objects.select_for_update().get(pk=block.pk)
    current = block_published_version(block=block)
    checksum = definition_checksum(entry["content"])
    if current is not None and current.checksum == checksum:
        report.unchanged.append(block.slug)
        return
    if block_open_version(block=block) is not None:
        # An editor's unfinished version is never thrown away for a file.
        report.failed[block.slug] = [
            "the block has a draft or a version in review; finish or discard it first"
        ]
        return
    version = BlockVersion.objects.create(
        block=block,
        number=_next_block_number(block),
        content=entry["content"],
        checksum=checksum,
        change_note=entry.get("change_note", "Aus Katalogdatei geladen"),
    )
    forms = _publish_locked(version, user=None)
    report.forms.drafts_created += forms.drafts_created
    report.forms.drafts_updated += forms.drafts_updated
    report.forms.skipped += forms.skipped
    report.published.append(f"{block.slug} v{version.number}")


def block_may_edit(*, user: Any) -> bool:
    """Whether `user` may edit, review and publish blocks (the form editors' permission)."""
    return _is_editor(user)


__all__ = [
    "BlockError",
    "BlockUpdateReport",
    "BlockUsage",
    "block_catalogue_load",
    "block_content_errors",
    "block_forms_update",
    "block_may_edit",
    "block_open_version",
    "block_published_version",
    "block_reference_insert",
    "block_usages",
    "block_version_approve",
    "block_version_create_draft",
    "block_version_request_changes",
    "block_version_submit_for_review",
    "block_version_update_draft",
]
