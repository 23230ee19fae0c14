"""Element paths of the designer: which step, group or field of a definition is meant.

A path names an element by ids, not by position, so a selection survives moves:
`steps/<step id>`, `steps/<step id>/fields/<id>` (a field or group of the step),
`steps/<step id>/fields/<group id>/fields/<id>` (a field inside a group). The
same notation serves the designer's pages (`?element=<path>`) and the pickers
for conditions, validations and fees. Pure functions on a definition dict; a
path that is malformed or names nothing raises `ElementNotFound`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ID = r"[a-z][a-z0-9_]{0,62}"
PATH_RE = re.compile(rf"^steps/({_ID})(?:/fields/({_ID}))?(?:/fields/({_ID}))?$")
MAX_PATH_LENGTH = 300
_JSON_STEP = re.compile(r"^steps\[(\d+)\](?:\.fields\[(\d+)\])?(?:\.fields\[(\d+)\])?")


class ElementNotFound(LookupError):
    """The path is malformed or names no element of the definition."""


@dataclass
class Located:
    """One element found by its path, with where it sits (for edits)."""

    path: str
    kind: str  # "step", "group" or "field"
    element: dict[str, Any]
    container: list[dict[str, Any]]  # the list holding it (steps, a step's or a group's fields)
    index: int
    step: dict[str, Any]
    step_index: int
    group: dict[str, Any] | None = None  # the group holding a field, if any

    @property
    def in_group(self) -> bool:
        return self.group is not None

    @property
    def in_repeatable_group(self) -> bool:
        return bool(self.group is not None and self.group.get("repeatable"))


def step_path(step_id: str) -> str:
    return f"steps/{step_id}"


def child_path(parent: str, element_id: str) -> str:
    return f"{parent}/fields/{element_id}"


def parent_path(path: str) -> str | None:
    """The step or group containing the element (None for a step)."""
    head, sep, _tail = path.rpartition("/fields/")
    return head if sep else None


def _steps(definition: Any) -> list[dict[str, Any]]:
    steps = definition.get("steps") if isinstance(definition, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _items(container: Any) -> list[dict[str, Any]]:
    items = container.get("fields") if isinstance(container, dict) else None
    return items if isinstance(items, list) else []


def _index_of(items: list[Any], element_id: str) -> int:
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == element_id:
            return index
    raise ElementNotFound(element_id)


def kind_of(element: dict[str, Any]) -> str:
    return "group" if element.get("type") == "group" else "field"


def find(definition: Any, path: Any) -> Located:
    """The element at `path`; raises ElementNotFound for a forged or stale path."""
    if not isinstance(path, str) or len(path) > MAX_PATH_LENGTH:
        raise ElementNotFound(str(path)[:80])
    match = PATH_RE.match(path)
    if not match:
        raise ElementNotFound(path[:80])
    step_id, item_id, child_id = match.groups()
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not isinstance(steps, list):
        raise ElementNotFound(path)
    s_index = _index_of(steps, step_id)
    step = steps[s_index]
    if item_id is None:
        return Located(path, "step", step, steps, s_index, step, s_index)
    items = _items(step)
    i_index = _index_of(items, item_id)
    item = items[i_index]
    if child_id is None:
        return Located(path, kind_of(item), item, items, i_index, step, s_index)
    if item.get("type") != "group":
        raise ElementNotFound(path)
    children = _items(item)
    c_index = _index_of(children, child_id)
    child = children[c_index]
    if child.get("type") == "group":  # groups do not nest
        raise ElementNotFound(path)
    return Located(path, "field", child, children, c_index, step, s_index, group=item)


def exists(definition: Any, path: Any) -> bool:
    try:
        find(definition, path)
    except ElementNotFound:
        return False
    return True


def all_paths(definition: Any) -> list[str]:
    """Every element's path in document order (steps, their items, group children)."""
    result = []
    for step in _steps(definition):
        s_path = step_path(str(step.get("id")))
        result.append(s_path)
        for item in _items(step):
            if not isinstance(item, dict):
                continue
            i_path = child_path(s_path, str(item.get("id")))
            result.append(i_path)
            if item.get("type") == "group":
                result += [
                    child_path(i_path, str(c.get("id")))
                    for c in _items(item)
                    if isinstance(c, dict)
                ]
    return result


def path_for_json_path(definition: Any, json_path: str) -> str | None:
    """The element a definition error's JSON path (`steps[2].fields[4].label.en`) is about:
    the deepest step, group or field on it; None for the form as a whole (fees, root)."""
    match = _JSON_STEP.match(json_path or "")
    if not match:
        return None
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not isinstance(steps, list):
        return None
    indexes = [int(g) for g in match.groups() if g is not None]
    container: list[Any] = steps
    parts: list[str] = []
    for depth, index in enumerate(indexes):
        if index >= len(container) or not isinstance(container[index], dict):
            break
        element = container[index]
        element_id = element.get("id")
        if not isinstance(element_id, str) or not re.fullmatch(_ID, element_id):
            break
        parts.append(element_id)
        if depth < len(indexes) - 1:
            container = _items(element)
    if not parts:
        return None
    path = step_path(parts[0])
    for element_id in parts[1:]:
        path = child_path(path, element_id)
    return path
