"""Parsed view of a form definition: steps, groups, fields and rules as objects.

Parsing assumes the definition passed `checks.definition_errors`; the compiler
only ever parses published (checked) or previewed definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

LANGUAGES = ("de", "en")

DEFAULT_MAX_ITEMS = 20


def tr(text: dict[str, str] | str | None, language: str) -> str:
    """Pick the text of a {de, en} object, falling back to German."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get("de") or ""


class _SpecTexts:
    """What fields and groups share in the definition: label, help, condition."""

    raw: dict[str, Any]

    @property
    def label(self) -> dict[str, str]:
        return self.raw["label"]

    @property
    def help(self) -> dict[str, str] | None:
        return self.raw.get("help")

    @property
    def visible_if(self) -> Any:
        return self.raw.get("visible_if")


@dataclass(eq=False)
class FieldSpec(_SpecTexts):
    id: str
    type: str
    raw: dict[str, Any]
    path: str
    step_id: str
    group_id: str | None = None  # set for fields of a repeatable group

    @property
    def required(self) -> bool:
        return bool(self.raw.get("required", False))

    @property
    def role(self) -> str | None:
        return self.raw.get("role")

    @property
    def options(self) -> list[dict[str, Any]]:
        return self.raw.get("options", [])


@dataclass(eq=False)
class GroupSpec(_SpecTexts):
    id: str
    raw: dict[str, Any]
    path: str
    step_id: str
    fields: list[FieldSpec] = field(default_factory=list)

    @property
    def repeatable(self) -> bool:
        return bool(self.raw.get("repeatable", False))

    @property
    def min_items(self) -> int:
        return int(self.raw.get("min", 0))

    @property
    def max_items(self) -> int:
        return int(self.raw.get("max", DEFAULT_MAX_ITEMS))

    @property
    def rules(self) -> list[RuleSpec]:
        return [
            RuleSpec(raw=r, path=f"{self.path}.rules[{i}]", group_id=self.id)
            for i, r in enumerate(self.raw.get("rules", []))
        ]

    def item_label(self, index: int, language: str) -> str:
        label = self.raw.get("item_label") or self.label
        return f"{tr(label, language)} {index + 1}"


@dataclass(eq=False)
class RuleSpec:
    raw: dict[str, Any]
    path: str
    group_id: str | None = None

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def expression(self) -> Any:
        return self.raw["assert"]

    @property
    def fields(self) -> list[str]:
        return self.raw.get("fields", [])

    @property
    def message(self) -> dict[str, str]:
        return self.raw["message"]


@dataclass(eq=False)
class StepSpec:
    id: str
    raw: dict[str, Any]
    path: str
    items: list[FieldSpec | GroupSpec] = field(default_factory=list)

    @property
    def title(self) -> dict[str, str]:
        return self.raw["title"]

    @property
    def intro(self) -> dict[str, str] | None:
        return self.raw.get("intro")

    @property
    def visible_if(self) -> Any:
        return self.raw.get("visible_if")

    @property
    def rules(self) -> list[RuleSpec]:
        return [
            RuleSpec(raw=r, path=f"{self.path}.rules[{i}]")
            for i, r in enumerate(self.raw.get("rules", []))
        ]

    def top_fields(self) -> list[FieldSpec]:
        """Fields answered at the top level of the answers dict (not inside a repeatable group)."""
        result: list[FieldSpec] = []
        for item in self.items:
            if isinstance(item, FieldSpec):
                result.append(item)
            elif not item.repeatable:
                result.extend(item.fields)
        return result

    def answer_keys(self) -> list[str]:
        keys = [f.id for f in self.top_fields()]
        keys += [g.id for g in self.items if isinstance(g, GroupSpec) and g.repeatable]
        return keys


@dataclass(eq=False)
class Definition:
    raw: dict[str, Any]
    steps: list[StepSpec]
    fields: dict[str, FieldSpec]  # every top-level field by id
    groups: dict[str, GroupSpec]  # every group (repeatable or not) by id

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return self.raw.get("parameters", [])

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def parse(raw: dict[str, Any]) -> Definition:
    steps: list[StepSpec] = []
    fields: dict[str, FieldSpec] = {}
    groups: dict[str, GroupSpec] = {}
    for s_index, s_raw in enumerate(raw.get("steps", [])):
        step = StepSpec(id=s_raw["id"], raw=s_raw, path=f"steps[{s_index}]")
        for i_index, i_raw in enumerate(s_raw.get("fields", [])):
            path = f"{step.path}.fields[{i_index}]"
            if i_raw.get("type") == "group":
                group = GroupSpec(id=i_raw["id"], raw=i_raw, path=path, step_id=step.id)
                for f_index, f_raw in enumerate(i_raw.get("fields", [])):
                    spec = FieldSpec(
                        id=f_raw["id"],
                        type=f_raw["type"],
                        raw=f_raw,
                        path=f"{path}.fields[{f_index}]",
                        step_id=step.id,
                        group_id=group.id if group.repeatable else None,
                    )
                    group.fields.append(spec)
                    if not group.repeatable:
                        fields[spec.id] = spec
                groups[group.id] = group
                step.items.append(group)
            else:
                spec = FieldSpec(
                    id=i_raw["id"], type=i_raw["type"], raw=i_raw, path=path, step_id=step.id
                )
                fields[spec.id] = spec
                step.items.append(spec)
        steps.append(step)
    return Definition(raw=raw, steps=steps, fields=fields, groups=groups)


# --- Answer values ------------------------------------------------------------
def parse_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
