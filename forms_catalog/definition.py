"""Parsed view of a form definition: steps, groups, fields and rules as objects.

Parsing assumes the definition passed `checks.definition_errors`; the compiler
only ever parses published (checked) or previewed definitions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

LANGUAGES = ("de", "en")

# Default caps so that a definition that forgets max_length still bounds input.
DEFAULT_MAX_LENGTH = {
    "text": 200,
    "textarea": 5000,
    "email": 254,
    "phone": 40,
    "pattern": 200,
    "iban": 42,
    "steuer_id": 20,
    "postcode": 10,
}
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_FILE_SIZE_CAP = 25 * 1024 * 1024
DEFAULT_MAX_FILES = 10
DEFAULT_MAX_ITEMS = 20
FIELD_TYPES = (
    "text", "textarea", "email", "phone", "date", "number", "money", "choice", "multichoice",
    "yesno", "consent", "file", "iban", "steuer_id", "postcode", "pattern",
)  # fmt: skip


def tr(text: dict[str, str] | str | None, language: str) -> str:
    """Pick the text of a {de, en} object, falling back to German."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get("de") or ""


@dataclass(eq=False)
class FieldSpec:
    id: str
    type: str
    raw: dict[str, Any]
    path: str
    step_id: str
    group_id: str | None = None  # set for fields of a repeatable group

    @property
    def label(self) -> dict[str, str]:
        return self.raw["label"]

    @property
    def help(self) -> dict[str, str] | None:
        return self.raw.get("help")

    @property
    def required(self) -> bool:
        return bool(self.raw.get("required", False))

    @property
    def visible_if(self) -> Any:
        return self.raw.get("visible_if")

    @property
    def role(self) -> str | None:
        return self.raw.get("role")

    @property
    def options(self) -> list[dict[str, Any]]:
        return self.raw.get("options", [])

    @property
    def max_length(self) -> int | None:
        return self.raw.get("max_length") or DEFAULT_MAX_LENGTH.get(self.type)

    def option_label(self, value: Any, language: str) -> str:
        for option in self.options:
            if option["value"] == value:
                return tr(option["label"], language)
        return str(value)


@dataclass(eq=False)
class GroupSpec:
    id: str
    raw: dict[str, Any]
    path: str
    step_id: str
    fields: list[FieldSpec] = field(default_factory=list)

    @property
    def label(self) -> dict[str, str]:
        return self.raw["label"]

    @property
    def help(self) -> dict[str, str] | None:
        return self.raw.get("help")

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
    def visible_if(self) -> Any:
        return self.raw.get("visible_if")

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


# --- Answer values: JSON (stored) <-> typed (expressions) <-> display ---------
def parse_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def typed_value(spec: FieldSpec, value: Any) -> Any:
    """Convert a stored JSON answer into the Python value expressions compare."""
    if value is None:
        return None
    if spec.type == "date" and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    if spec.type in {"number", "money"}:
        return parse_decimal(value)
    return value


_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def format_money(amount: Decimal, language: str) -> str:
    text = f"{amount:,.2f}"
    if language == "en":
        return f"€{text}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + " €"


def format_date(value: datetime.date, language: str) -> str:
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return value.strftime("%d.%m.%Y")


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


def display_value(spec: FieldSpec, value: Any, language: str) -> str:
    """The answer as people read it (summary page, PDF), complete. Never raises on odd data."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    kind = spec.type
    yes, no = ("Yes", "No") if language == "en" else ("Ja", "Nein")
    if kind in {"yesno", "consent"} and isinstance(value, bool):
        return yes if value else no
    if kind == "choice" and isinstance(value, str):
        return spec.option_label(value, language)
    if kind == "multichoice" and isinstance(value, list):
        return ", ".join(spec.option_label(v, language) for v in value if isinstance(v, str))
    if kind == "date":
        typed = typed_value(spec, value) if isinstance(value, str) else None
        return format_date(typed, language) if typed else _text(value)
    if kind == "money":
        amount = parse_decimal(value)
        return (
            format_money(amount, language)
            if amount is not None and amount.is_finite()
            else _text(value)
        )
    if kind == "number":
        number = parse_decimal(value)
        if number is None or not number.is_finite():
            return _text(value)
        text = f"{number:,}"
        if language != "en":
            text = text.replace(",", "X").replace(".", ",").replace("X", ".")
        unit = tr(spec.raw.get("unit"), language)
        return f"{text} {unit}".strip()
    if kind == "file":
        items = value if isinstance(value, list) else []
        names = [
            f"{item.get('name', '')} ({format_size(item['size'])})"
            for item in items
            if isinstance(item, dict) and isinstance(item.get("size"), int)
        ]
        return ", ".join(names) or "—"
    if kind == "iban" and isinstance(value, str):
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return _text(value)


def _text(value: Any) -> str:
    # Never shortened: nothing a citizen submitted may go missing from a summary or PDF.
    return str(value)
