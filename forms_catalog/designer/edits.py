"""Edits of a definition as the designer makes them: pure functions, nothing saved.

Each function takes a definition dict and returns `(new definition, path of the
element concerned)`; the input is never changed (deep copy), so a refused edit
leaves nothing half done. A refused edit raises `EditRefused` with a German
message for the editor. Saving is the caller's business (through
`forms_catalog.services.form_version_update_draft`).

Ids are made from the German label (`new_id`) and are unique among every step,
group and field id of the form: stricter than the definition's rules (fields of
a repeatable group need only be unique within it), so a generated or edited id
can never clash wherever the element is moved to.

An incomplete element is allowed here (a new field has no English label yet);
`forms_catalog.checks.definition_errors` finds what is missing ("Prüfen", and
"zur Prüfung senden" refuses until it is fixed).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from ..fields import field_type, registered
from .paths import ElementNotFound, Located, child_path, find, step_path

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ID_MAX = 63
GROUP = "group"
REPEATABLE_GROUP = "repeatable_group"
DIRECTIONS = ("up", "down", "prev_step", "next_step")
MAX_STEPS = 40
MAX_ITEMS = 80
MAX_GROUP_FIELDS = 40
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


class EditRefused(ValueError):
    """An edit the designer cannot make; `message` is German and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- ids --------------------------------------------------------------------------
def used_ids(definition: dict[str, Any]) -> set[str]:
    """Every step, group and field id of the definition."""
    ids: set[str] = set()
    for step in definition.get("steps", []):
        ids.add(step.get("id"))
        for item in step.get("fields", []):
            ids.add(item.get("id"))
            for child in item.get("fields", []) if item.get("type") == GROUP else []:
                ids.add(child.get("id"))
    ids.discard(None)
    return ids


def slug_id(text: str, *, fallback: str = "feld") -> str:
    """An id from a German label: "Straße und Hausnummer" -> "strasse_und_hausnummer"."""
    folded = str(text or "").lower().translate(_TRANSLITERATION)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"{fallback}_{slug}".strip("_")
    return slug[:50].rstrip("_")


def new_id(definition: dict[str, Any], label: str, *, fallback: str = "feld") -> str:
    """A unique id for a new element, made from its German label."""
    base = slug_id(label, fallback=fallback)
    taken = used_ids(definition)
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base}_{number}"
        number += 1
    return candidate


def check_id(definition: dict[str, Any], new: Any, *, current: str | None = None) -> str:
    """`new` if it is a valid id not used by another element; else EditRefused."""
    if not isinstance(new, str) or not ID_PATTERN.match(new):
        raise EditRefused(
            _(
                "Die Kennung darf nur Kleinbuchstaben (ohne Umlaute), Ziffern und Unterstriche "
                "enthalten, muss mit einem Buchstaben beginnen und höchstens 63 Zeichen lang sein."
            )
        )
    if new != current and new in used_ids(definition):
        raise EditRefused(
            _("Die Kennung „%(id)s“ ist in diesem Formular schon vergeben.") % {"id": new}
        )
    return new


def _text(de: str) -> dict[str, str]:
    return {"de": de, "en": ""}


def _label(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise EditRefused(_("Bitte geben Sie eine deutsche Beschriftung an."))
    if len(text) > 2000:
        raise EditRefused(_("Die Beschriftung ist zu lang (höchstens 2000 Zeichen)."))
    return text


def _locate(definition: dict[str, Any], path: Any) -> Located:
    try:
        return find(definition, path)
    except ElementNotFound:
        raise EditRefused(
            _("Dieses Element gibt es im Entwurf nicht (mehr). Bitte wählen Sie es neu aus.")
        ) from None


def _start(definition: Any) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise EditRefused(_("Die Definition ist beschädigt."))
    result = copy.deepcopy(definition)
    result.setdefault("schema_version", 1)
    if not isinstance(result.get("steps"), list):
        result["steps"] = []
    return result


def _path_of(located: Located) -> str:
    """The path of an element after an edit (its step may have changed)."""
    path = step_path(located.step["id"])
    if located.kind == "step":
        return path
    if located.group is not None:
        path = child_path(path, located.group["id"])
    return child_path(path, located.element["id"])


# --- adding -------------------------------------------------------------------------
def add_step(
    definition: dict[str, Any], *, title_de: str, after: str | None = None
) -> tuple[dict[str, Any], str]:
    """A new, empty step titled `title_de`, after the step `after` (a path) or at the end."""
    result = _start(definition)
    steps = result["steps"]
    if len(steps) >= MAX_STEPS:
        raise EditRefused(_("Ein Formular hat höchstens %(n)s Schritte.") % {"n": MAX_STEPS})
    title = _label(title_de)
    step = {"id": new_id(result, title, fallback="schritt"), "title": _text(title), "fields": []}
    position = len(steps)
    if after:
        position = _locate(result, after).step_index + 1
    steps.insert(position, step)
    return result, step_path(step["id"])


def type_choices() -> list[tuple[str, str]]:
    """What the designer can add: every registered field type, a group, a repeatable group."""
    choices = [(name, str(kind.designer_title or name)) for name, kind in registered().items()]
    choices.sort(key=lambda c: c[1].lower())
    return [
        *choices,
        (GROUP, _("Gruppe (Felder unter einer Überschrift)")),
        (REPEATABLE_GROUP, _("Wiederholbare Gruppe (Liste, z. B. mehrere Kinder)")),
    ]


def new_element(definition: dict[str, Any], *, kind: str, label_de: str) -> dict[str, Any]:
    label = _label(label_de)
    element_id = new_id(definition, label)
    if kind in (GROUP, REPEATABLE_GROUP):
        element: dict[str, Any] = {"id": element_id, "type": GROUP, "label": _text(label)}
        if kind == REPEATABLE_GROUP:
            element.update({"repeatable": True, "min": 1, "max": 10})
        element["fields"] = []
        return element
    if kind not in registered():
        raise EditRefused(_("Diesen Feldtyp gibt es nicht."))
    return {
        "id": element_id,
        "type": kind,
        "label": _text(label),
        "required": True,
        **copy.deepcopy(field_type(kind).designer_defaults),
    }


def add_element(
    definition: dict[str, Any], *, target: str, kind: str, label_de: str
) -> tuple[dict[str, Any], str]:
    """A new field or group. `target` is a step or group (added at its end) or a field or
    group inside a step (added right after it, in the same step or group)."""
    result = _start(definition)
    where = _locate(result, target)
    new_group = kind in (GROUP, REPEATABLE_GROUP)
    if where.kind == "step":
        container, position, group = where.element.setdefault("fields", []), None, None
    elif where.kind == "group" and not new_group:
        # A group selected: a new field goes into it (a new group goes after it).
        container, position, group = where.element.setdefault("fields", []), None, where.element
    else:
        container, position, group = where.container, where.index + 1, where.group
    if group is not None:
        if new_group:
            raise EditRefused(_("Gruppen lassen sich nicht ineinander schachteln."))
        if group.get("repeatable") and kind == "file":
            raise EditRefused(_("Dateifelder sind in wiederholbaren Gruppen nicht möglich."))
        if len(container) >= MAX_GROUP_FIELDS:
            raise EditRefused(
                _("Eine Gruppe hat höchstens %(n)s Felder.") % {"n": MAX_GROUP_FIELDS}
            )
    elif len(container) >= MAX_ITEMS:
        raise EditRefused(_("Ein Schritt hat höchstens %(n)s Felder.") % {"n": MAX_ITEMS})
    element = new_element(result, kind=kind, label_de=label_de)
    container.insert(len(container) if position is None else position, element)
    path = step_path(where.step["id"])
    if group is not None:
        path = child_path(path, group["id"])
    return result, child_path(path, element["id"])


# --- moving -------------------------------------------------------------------------
def move(definition: dict[str, Any], path: str, direction: str) -> tuple[dict[str, Any], str]:
    """Move an element one place up or down in its list, or a step's field or group into
    the previous step (at its end) or the next step (at its start)."""
    if direction not in DIRECTIONS:
        raise EditRefused(_("Unbekannte Richtung."))
    result = _start(definition)
    where = _locate(result, path)
    if direction in ("up", "down"):
        target = where.index + (-1 if direction == "up" else 1)
        if not 0 <= target < len(where.container):
            raise EditRefused(
                _("Das Element steht schon an erster Stelle.")
                if direction == "up"
                else _("Das Element steht schon an letzter Stelle.")
            )
        items = where.container
        items[where.index], items[target] = items[target], items[where.index]
        return result, _path_of(where)
    if where.kind == "step" or where.group is not None:
        raise EditRefused(
            _(
                "Nur Felder und Gruppen eines Schritts lassen sich in einen anderen Schritt "
                "verschieben."
            )
        )
    steps = result["steps"]
    target_index = where.step_index + (-1 if direction == "prev_step" else 1)
    if not 0 <= target_index < len(steps):
        raise EditRefused(
            _("Es gibt keinen vorherigen Schritt.")
            if direction == "prev_step"
            else _("Es gibt keinen nächsten Schritt.")
        )
    target_step = steps[target_index]
    items = target_step.setdefault("fields", [])
    if len(items) >= MAX_ITEMS:
        raise EditRefused(_("Ein Schritt hat höchstens %(n)s Felder.") % {"n": MAX_ITEMS})
    element = where.container.pop(where.index)
    items.insert(len(items) if direction == "prev_step" else 0, element)
    return result, child_path(step_path(target_step["id"]), element["id"])


# --- duplicating and deleting -------------------------------------------------------
def _renew_ids(result: dict[str, Any], element: dict[str, Any]) -> None:
    """Give a copied element (and what it contains, except the item fields of a
    repeatable group, which are unique only within it) new unique ids."""
    element["id"] = new_id(result, f"{element['id']}_kopie")
    element.pop("role", None)  # a role belongs to one field only
    children = element.get("fields", []) if isinstance(element.get("fields"), list) else []
    if element.get("type") == GROUP and element.get("repeatable"):
        return
    for child in children:
        if isinstance(child, dict):
            _renew_ids(result, child)


def duplicate(definition: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """A copy right after the element, with new unique ids (labels get "(Kopie)")."""
    result = _start(definition)
    where = _locate(result, path)
    limit = MAX_STEPS if where.kind == "step" else MAX_GROUP_FIELDS if where.group else MAX_ITEMS
    if len(where.container) >= limit:
        raise EditRefused(_("Hier ist kein Platz für ein weiteres Element."))
    copied = copy.deepcopy(where.element)
    # Insert first, so that new ids are unique against the copy's own children too.
    where.container.insert(where.index + 1, copied)
    _renew_ids(result, copied)
    for key in ("label", "title"):
        text = copied.get(key)
        if isinstance(text, dict) and text.get("de"):
            text["de"] = f"{text['de']} (Kopie)"[:2000]
            if text.get("en"):
                text["en"] = f"{text['en']} (copy)"[:2000]
    if where.kind == "step":
        return result, step_path(copied["id"])
    parent = step_path(where.step["id"])
    if where.group is not None:
        parent = child_path(parent, where.group["id"])
    return result, child_path(parent, copied["id"])


def delete(definition: dict[str, Any], path: str) -> tuple[dict[str, Any], str | None]:
    """Remove the element (a step or group with everything in it); returns the path of
    its container (None after deleting a step)."""
    result = _start(definition)
    where = _locate(result, path)
    where.container.pop(where.index)
    if where.kind == "step":
        return result, None
    parent = step_path(where.step["id"])
    if where.group is not None:
        parent = child_path(parent, where.group["id"])
    return result, parent


# --- settings -----------------------------------------------------------------------
_REFERENCE_KEYS = ("field", "filled", "count")
_GROUP_OPERATORS = ("any", "all", "sum")


def _rename_references(node: Any, old: str, new: str) -> Any:
    """The definition with every reference to id `old` (conditions, rules, fee lines)
    pointing to `new`."""
    if isinstance(node, list):
        return [_rename_references(item, old, new) for item in node]
    if not isinstance(node, dict):
        return node
    renamed = {}
    for key, value in node.items():
        if key in _REFERENCE_KEYS and value == old:
            renamed[key] = new
        elif key in _GROUP_OPERATORS and isinstance(value, list) and value and value[0] == old:
            renamed[key] = [new, *_rename_references(value[1:], old, new)]
        elif key == "for_each" and value == old:
            renamed[key] = new
        elif key == "fields" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            renamed[key] = [new if v == old else v for v in value]  # a rule's message fields
        else:
            renamed[key] = _rename_references(value, old, new)
    return renamed


def update_element(
    definition: dict[str, Any], path: str, *, values: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Set the element's keys from `values` (None removes a key). A new `id` is checked
    (valid, unique) and every reference to the old id follows it."""
    result = _start(definition)
    where = _locate(result, path)
    values = dict(values)
    new = values.pop("id", None)
    for key in ("type", "fields", "fim", "rules", "visible_if"):
        # Structure and what other pages own are not settings of the side panel.
        values.pop(key, None)
    for key, value in values.items():
        if value is None:
            where.element.pop(key, None)
        else:
            where.element[key] = value
    old = where.element.get("id")
    if new is not None and new != old:
        check_id(result, new, current=old)
        where.element["id"] = new
        if where.kind != "step":
            result = _rename_references(result, old, new)
    return result, _path_of(find(result, _renamed_path(path, old, new)))


def _renamed_path(path: str, old: Any, new: Any) -> str:
    if new is None or new == old:
        return path
    head, sep, tail = path.rpartition("/")
    return f"{head}{sep}{new}" if tail == old else path


def set_options(
    definition: dict[str, Any], path: str, *, options: list[dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """Replace a choice field's options (value + label DE/EN), in the given order."""
    result = _start(definition)
    where = _locate(result, path)
    kind = registered().get(str(where.element.get("type")))
    if (
        where.kind != "field"
        or kind is None
        or "options" not in {setting.key for setting in kind.designer_settings}
    ):
        raise EditRefused(_("Dieses Feld hat keine Antwortmöglichkeiten."))
    where.element["options"] = options
    return result, path
