"""Field types as plugins: one module per type, all behind one registry.

To add a type, write a module here with a `FieldType` subclass decorated with
`@register` (it is found and imported below) and add its tests
(tests/forms_catalog/fields/test_<module>.py).
The JSON Schema's list of types and each type's own properties come from the
registry (see `field_schema`), so nothing else needs editing.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from typing import Any

from django.utils import translation

from ..definition import FieldSpec
from .base import CleanContext, DefinitionProblem, FieldType, registered

# Every module of this package except `base` holds one field type; importing it
# registers the type. Discovered here so that a new type needs no other edit.
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "CleanContext",
    "DefinitionProblem",
    "FieldType",
    "display_value",
    "export_value",
    "field_schema",
    "field_type",
    "registered",
    "type_names",
    "typed_value",
]


def field_type(name: str) -> FieldType:
    """The registered type called `name` (KeyError for an unknown type)."""
    return registered()[name]


def type_names() -> list[str]:
    return list(registered())


def typed_value(spec: FieldSpec, value: Any) -> Any:
    """A stored JSON answer as the Python value expressions compare (None stays None)."""
    if value is None:
        return None
    return field_type(spec.type).typed(spec, value)


def display_value(spec: FieldSpec, value: Any, language: str) -> str:
    """The answer as people read it (summary page, PDF), complete. Never raises on odd data."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    with translation.override(language):
        return field_type(spec.type).display(spec, value, language)


def export_value(spec: FieldSpec, value: Any) -> Any:
    return field_type(spec.type).export(spec, value)


def field_schema(base: dict[str, Any]) -> dict[str, Any]:
    """The definition's JSON Schema with the field part completed from the registry.

    `base` holds what every field shares; each type adds its name to the type
    enum, its own properties, and the properties it requires.
    """
    schema = copy.deepcopy(base)
    spec = schema["$defs"]["field"]
    spec["properties"]["type"] = {"enum": type_names()}
    conditions = []
    for kind in registered().values():
        for key, fragment in kind.schema_properties.items():
            known = spec["properties"].setdefault(key, fragment)
            if known != fragment:
                raise ValueError(f"field property {key!r} is defined differently by {kind.name}")
        if kind.schema_required:
            conditions.append(
                {
                    "if": {"properties": {"type": {"const": kind.name}}},
                    "then": {"required": list(kind.schema_required)},
                }
            )
    spec["allOf"] = conditions
    return schema
