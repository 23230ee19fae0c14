"""Reusable blocks (Bausteine) in form definitions: expansion and references, without the database.

A form uses a block by reference: the definition holds a group

    {"id": "antragsteller", "type": "group", "label": {...},
     "block": {"slug": "person", "version": 2},
     "fields": [{"id": "antragsteller_name", ...}, ...]}

whose fields are exactly the fields of block version 2 with the group id as
prefix (two Person blocks in one form stay unique: `antragsteller_name`,
`ehegatte_name`). Block versions are immutable once published, and a form
version pins the number, so the expansion is frozen when the block is inserted:
the compiler, citizen pages, PDFs, the JSON and FIM exports see an ordinary
group and need nothing else. A new block version reaches forms only as new
drafts (`block_services.block_forms_update`) that go through the form review.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_ID_LENGTH = 63
# Keys of a block field that would reach outside the block; a block stands alone.
FORBIDDEN_FIELD_KEYS = ("visible_if", "role")


@dataclass(frozen=True)
class BlockReference:
    """A group of a definition that stands for a block version."""

    step_index: int
    field_index: int
    group_id: str
    slug: str
    version: int


def block_expand(
    *, group_id: str, slug: str, number: int, content: dict[str, Any]
) -> dict[str, Any]:
    """The group that stands for block `slug` version `number` in a form: the block's label,
    help and fields, every field id prefixed with `group_id` and "_". Pure; the content is
    copied, never shared with the block version."""
    group: dict[str, Any] = {
        "id": group_id,
        "type": "group",
        "label": copy.deepcopy(content["label"]),
        "block": {"slug": slug, "version": number},
        "fields": [
            {**copy.deepcopy(spec), "id": f"{group_id}_{spec['id']}"}
            for spec in content.get("fields", [])
        ],
    }
    if content.get("help"):
        group["help"] = copy.deepcopy(content["help"])
    return group


def block_reexpand(
    *, group: dict[str, Any], number: int, content: dict[str, Any]
) -> dict[str, Any]:
    """The same block group on another version of its block: the fields (and label and help)
    come from `content`; what the form set on the group itself (condition, FIM reference,
    a label of its own) stays."""
    fresh = block_expand(
        group_id=group["id"], slug=group["block"]["slug"], number=number, content=content
    )
    for key in ("visible_if", "fim"):
        if key in group:
            fresh[key] = copy.deepcopy(group[key])
    return fresh


def block_references(definition: Any) -> Iterator[BlockReference]:
    """Every block group of a definition, in order. Tolerates any shape (drafts can be broken)."""
    steps = definition.get("steps") if isinstance(definition, dict) else None
    for s_index, step in enumerate(steps if isinstance(steps, list) else []):
        items = step.get("fields") if isinstance(step, dict) else None
        for f_index, item in enumerate(items if isinstance(items, list) else []):
            marker = item.get("block") if isinstance(item, dict) else None
            if (
                isinstance(marker, dict)
                and isinstance(marker.get("slug"), str)
                and isinstance(marker.get("version"), int)
            ):
                yield BlockReference(
                    s_index, f_index, str(item.get("id")), marker["slug"], marker["version"]
                )


def definition_ids(definition: dict[str, Any]) -> set[str]:
    """Every step, group and field id of a definition (also those inside groups)."""
    ids: set[str] = set()
    for step in definition.get("steps", []):
        ids.add(step.get("id"))
        for item in step.get("fields", []):
            ids.add(item.get("id"))
            for spec in item.get("fields", []) if item.get("type") == "group" else []:
                ids.add(spec.get("id"))
    return ids


def block_errors_named(definition: Any, errors: list[Any]) -> list[Any]:
    """The errors with those inside a block group naming the block ("Baustein „person“
    Version 2, Gruppe „antragsteller“: ..."), so the editor knows the fault is in the
    block (fixed by a new block version), not in the form. `errors` are
    checks.DefinitionError (path, message)."""
    prefixes = {
        f"steps[{ref.step_index}].fields[{ref.field_index}]": ref
        for ref in block_references(definition)
    }
    if not prefixes:
        return errors
    named = []
    for error in errors:
        ref = next(
            (
                r
                for p, r in prefixes.items()
                if error.path == p or error.path.startswith((p + ".", p + "["))
            ),
            None,
        )
        if ref is None:
            named.append(error)
        else:
            named.append(
                type(error)(
                    error.path,
                    f"Baustein „{ref.slug}“ Version {ref.version}, Gruppe „{ref.group_id}“: "
                    f"{error.message}",
                )
            )
    return named


def block_content_problems(content: Any) -> list[str]:
    """Problems of a block version's content that the form checks cannot see (German).

    The fields themselves are checked by the form checks on a one-step form
    holding the block (`block_services.block_content_errors`).
    """
    if not isinstance(content, dict):
        return ["Der Inhalt eines Bausteins muss ein Objekt sein."]
    problems = []
    fields = content.get("fields")
    if not isinstance(fields, list) or not fields:
        problems.append("Ein Baustein braucht mindestens ein Feld.")
        return problems
    seen: set[str] = set()
    for index, spec in enumerate(fields, start=1):
        if not isinstance(spec, dict):
            problems.append(f"Feld {index}: muss ein Objekt sein.")
            continue
        field_id = spec.get("id")
        if spec.get("type") == "group":
            problems.append(f"Feld {index} („{field_id}“): Ein Baustein enthält keine Gruppen.")
        for key in FORBIDDEN_FIELD_KEYS:
            if key in spec:
                problems.append(
                    f"Feld {index} („{field_id}“): „{key}“ ist in Bausteinen nicht erlaubt "
                    "(ein Baustein steht für sich; Bedingungen und Rollen setzt das Formular)."
                )
        if field_id in seen:
            problems.append(f"Feld {index}: Die Kennung „{field_id}“ kommt doppelt vor.")
        if isinstance(field_id, str):
            seen.add(field_id)
    return problems
