"""Picker rows of the designer <-> expression trees of the definition language.

Pure functions on a definition dict, no database: the designer's condition,
validation and fee pickers show a condition as rows (field, operator, value)
combined with "and"/"or", and store it as the expression the language already
has (`forms_catalog.expressions`). An expression the rows cannot show (ages,
counts, nesting, reversed operands, a field that is no longer earlier) is not
forced into rows: `expression_to_rows` returns None and `describe` words it in
German for a read-only display.

Elements are addressed by the designer's element path: `steps/<step id>`,
`steps/<step id>/fields/<field or group id>` and
`steps/<step id>/fields/<group id>/fields/<field id>` (ids, not positions, so a
link stays valid when elements move). `locate` turns it into the JSON path the
definition checks report (`steps[1].fields[3]`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from ..definition import FieldSpec, tr
from ..expressions import MAX_DEPTH
from ..fields import field_type
from ..fields.number import AmbiguousNumber, decimal_from_input

MAX_ROWS = 20
MAX_VALUE_LENGTH = 200
MAX_LIST_VALUES = 50  # the schema's bound for an expression list
MAX_AMOUNT = Decimal("1000000")
MAX_PATH_LENGTH = 300
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# Operators of a condition row, in the order the picker offers them.
OPERATOR_LABELS = {
    "eq": gettext_lazy("ist gleich"),
    "ne": gettext_lazy("ist nicht gleich"),
    "gt": gettext_lazy("ist größer als"),
    "lt": gettext_lazy("ist kleiner als"),
    "ge": gettext_lazy("mindestens"),
    "le": gettext_lazy("höchstens"),
    "filled": gettext_lazy("ist ausgefüllt"),
    "empty": gettext_lazy("ist nicht ausgefüllt"),
    "contains": gettext_lazy("enthält"),
    "in": gettext_lazy("ist einer von"),
}
# Dates read better in words of time.
DATE_OPERATOR_LABELS = {
    "gt": gettext_lazy("ist später als"),
    "lt": gettext_lazy("ist früher als"),
    "ge": gettext_lazy("frühestens"),
    "le": gettext_lazy("spätestens"),
}
KIND_OPERATORS = {
    "text": ("eq", "ne", "in", "filled", "empty"),
    "number": ("eq", "ne", "gt", "lt", "ge", "le", "filled", "empty"),
    "date": ("eq", "ne", "gt", "lt", "ge", "le", "filled", "empty"),
    "yesno": ("eq", "ne", "filled", "empty"),
    "choice": ("eq", "ne", "in", "filled", "empty"),
    "multichoice": ("contains", "filled", "empty"),
    "file": ("filled", "empty"),
}
NO_VALUE = {"filled", "empty"}
COMPARISON_OPS = ("gt", "ge", "lt", "le", "eq", "ne")
COMBINE = ("and", "or")


class RowError(ValueError):
    """A row (or the rule/fee line around it) the picker cannot store; German message.

    `index` is the row's position (None: the whole picker), `key` the input it
    belongs to ("field", "op", "value", or a form field name of the caller).
    """

    def __init__(self, message: str, index: int | None = None, key: str = "value") -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.key = key


# --- Elements ----------------------------------------------------------------------
@dataclass(frozen=True)
class Element:
    """A step, group or field of a definition found by its element path."""

    path: str  # the element path ("steps/s/fields/a")
    json_path: str  # the path definition errors use ("steps[0].fields[2]")
    kind: str  # "step", "group" or "field"
    raw: dict[str, Any]
    step_index: int
    item_index: int | None = None
    sub_index: int | None = None  # position inside a group

    @property
    def repeatable_group(self) -> bool:
        return self.kind == "group" and bool(self.raw.get("repeatable"))


def element_path(step_id: str, item_id: str | None = None, sub_id: str | None = None) -> str:
    parts = ["steps", step_id]
    if item_id:
        parts += ["fields", item_id]
    if sub_id:
        parts += ["fields", sub_id]
    return "/".join(parts)


def _items(container: dict[str, Any]) -> list[dict[str, Any]]:
    items = container.get("fields")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _steps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    steps = definition.get("steps") if isinstance(definition, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _position(items: list[Any], identifier: str) -> int | None:
    return next(
        (i for i, x in enumerate(items) if isinstance(x, dict) and x.get("id") == identifier),
        None,
    )


def locate(definition: dict[str, Any], path: Any) -> Element | None:
    """The element at `path`, or None for anything malformed, forged or unknown."""
    if not isinstance(path, str) or len(path) > MAX_PATH_LENGTH:
        return None
    parts = path.strip("/").split("/")
    if len(parts) not in (2, 4, 6) or any(not ID_RE.match(p) for p in parts[1::2]):
        return None
    if parts[0::2] != ["steps", "fields", "fields"][: len(parts) // 2]:
        return None
    steps = definition.get("steps") if isinstance(definition, dict) else None
    if not isinstance(steps, list):
        return None
    s_index = _position(steps, parts[1])
    if s_index is None:
        return None
    step = steps[s_index]
    if len(parts) == 2:
        return Element(path, f"steps[{s_index}]", "step", step, s_index)
    raw_items = step.get("fields") if isinstance(step.get("fields"), list) else []
    i_index = _position(raw_items, parts[3])
    if i_index is None:
        return None
    item = raw_items[i_index]
    i_path = f"steps[{s_index}].fields[{i_index}]"
    is_group = item.get("type") == "group"
    if len(parts) == 4:
        return Element(path, i_path, "group" if is_group else "field", item, s_index, i_index)
    if not is_group:
        return None
    sub_items = item.get("fields") if isinstance(item.get("fields"), list) else []
    for f_index, sub in enumerate(sub_items):
        if isinstance(sub, dict) and sub.get("id") == parts[5] and sub.get("type") != "group":
            return Element(
                path, f"{i_path}.fields[{f_index}]", "field", sub, s_index, i_index, f_index
            )
    return None


def element_tree(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps with their fields and groups for the picker's element list (in order)."""
    tree = []
    for step in _steps(definition):
        if not isinstance(step.get("id"), str):
            continue
        entry = {
            "path": element_path(step["id"]),
            "label": _label(step.get("title")) or step["id"],
            "has_condition": "visible_if" in step,
            "children": [],
        }
        for item in _items(step):
            if not isinstance(item.get("id"), str):
                continue
            child = {
                "path": element_path(step["id"], item["id"]),
                "label": _label(item.get("label")) or item["id"],
                "has_condition": "visible_if" in item,
                "children": [],
            }
            if item.get("type") == "group":
                for sub in _items(item):
                    if isinstance(sub.get("id"), str):
                        child["children"].append(
                            {
                                "path": element_path(step["id"], item["id"], sub["id"]),
                                "label": _label(sub.get("label")) or sub["id"],
                                "has_condition": "visible_if" in sub,
                                "children": [],
                            }
                        )
            entry["children"].append(child)
        tree.append(entry)
    return tree


def _label(text: Any) -> str:
    if isinstance(text, dict):
        value = text.get("de") or text.get("en") or ""
        return value if isinstance(value, str) else ""
    return text if isinstance(text, str) else ""


# --- Fields a picker may offer -------------------------------------------------------
@dataclass(frozen=True)
class PickerField:
    id: str
    label: str  # German label
    kind: str  # a key of KIND_OPERATORS
    options: tuple[tuple[str, str], ...] = ()
    step_title: str = ""
    in_item: bool = False  # a field of the same repeatable group item

    @property
    def operators(self) -> tuple[str, ...]:
        return KIND_OPERATORS[self.kind]


def value_kind(raw: dict[str, Any]) -> str:
    """How the picker asks for a value of this field, from what its type declares.

    No branching on type names: files are what `receives_files` says, yes/no,
    lists and numbers are what the type's `client_kind` says (the same reading
    the browser's conditions use), choices are types with `options`, and dates
    are types whose typed value of an ISO date is a date (what the expression
    language compares).
    """
    try:
        kind = field_type(raw.get("type", ""))
    except (KeyError, TypeError):
        return "text"
    if kind.receives_files:
        return "file"
    if kind.client_kind == "yesno":
        return "yesno"
    if kind.client_kind == "list":
        return "multichoice"
    if kind.client_kind in ("number", "money"):
        return "number"
    if "options" in kind.schema_properties:
        return "choice"
    probe = FieldSpec(id="probe", type=kind.name, raw=raw, path="", step_id="")
    try:
        typed = kind.typed(probe, "2000-01-31")
    except Exception:  # a type that cannot read the probe is no date type
        typed = None
    if isinstance(typed, datetime.date):
        return "date"
    return "text"


def _picker_field(raw: dict[str, Any], step_title: str, in_item: bool) -> PickerField | None:
    if not isinstance(raw.get("id"), str) or raw.get("type") == "group":
        return None
    options = tuple(
        (str(o.get("value")), _label(o.get("label")) or str(o.get("value")))
        for o in raw.get("options", [])
        if isinstance(o, dict) and isinstance(o.get("value"), str)
    )
    return PickerField(
        id=raw["id"],
        label=_label(raw.get("label")) or raw["id"],
        kind=value_kind(raw),
        options=options,
        step_title=step_title,
        in_item=in_item,
    )


def _top_level_fields(step: dict[str, Any], stop_index: int | None = None) -> list[PickerField]:
    """Fields of one step answered at the top level (repeatable groups hold lists)."""
    title = _label(step.get("title"))
    found: list[PickerField] = []
    for index, item in enumerate(_items(step)):
        if stop_index is not None and index >= stop_index:
            break
        if item.get("type") == "group":
            if not item.get("repeatable"):
                found += [f for f in (_picker_field(s, title, False) for s in _items(item)) if f]
            continue
        picker = _picker_field(item, title, False)
        if picker:
            found.append(picker)
    return found


def fields_before(definition: dict[str, Any], element: Element) -> list[PickerField]:
    """The fields a condition of `element` may refer to: only those defined earlier,
    as the definition checks require (earlier step, or earlier on the same page;
    inside a repeatable group also the earlier fields of the same item)."""
    steps = _steps(definition)
    found: list[PickerField] = []
    for step in steps[: element.step_index]:
        found += _top_level_fields(step)
    if element.kind == "step":
        return found
    step = steps[element.step_index]
    found += _top_level_fields(step, element.item_index)
    if element.sub_index is None:
        return found
    group = _items(step)[element.item_index or 0]
    in_item = bool(group.get("repeatable"))
    title = _label(step.get("title"))
    for sub in _items(group)[: element.sub_index]:
        picker = _picker_field(sub, title, in_item)
        if picker:
            found.append(picker)
    return found


def fields_of_step(definition: dict[str, Any], step_index: int) -> list[PickerField]:
    """Fields a step's validation rules may compare: every earlier field and the step's own."""
    found: list[PickerField] = []
    for step in _steps(definition)[: step_index + 1]:
        found += _top_level_fields(step)
    return found


def fields_of_group(definition: dict[str, Any], element: Element) -> list[PickerField]:
    """Fields a repeatable group's rules may compare: earlier fields and its item's fields."""
    found = fields_before(definition, element)
    title = _label(_steps(definition)[element.step_index].get("title"))
    for sub in _items(element.raw):
        picker = _picker_field(sub, title, True)
        if picker:
            found.append(picker)
    return found


def all_top_level_fields(definition: dict[str, Any]) -> list[PickerField]:
    found: list[PickerField] = []
    for step in _steps(definition):
        found += _top_level_fields(step)
    return found


def repeatable_groups(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, German label) of every repeatable group (fees per item)."""
    return [
        (item["id"], _label(item.get("label")) or item["id"])
        for step in _steps(definition)
        for item in _items(step)
        if item.get("type") == "group"
        and item.get("repeatable")
        and isinstance(item.get("id"), str)
    ]


def group_item_fields(definition: dict[str, Any], group_id: str) -> list[PickerField]:
    for step in _steps(definition):
        for item in _items(step):
            if item.get("type") == "group" and item.get("id") == group_id:
                title = _label(step.get("title"))
                return [f for f in (_picker_field(s, title, True) for s in _items(item)) if f]
    return []


# --- Rows <-> expressions ---------------------------------------------------------
@dataclass
class Row:
    field: str = ""
    op: str = ""
    value: str = ""  # text, number as typed, ISO date, "yes"/"no", an option value
    values: list[str] = dataclass_field(default_factory=list)  # "ist einer von"


def _number_literal(number: Decimal) -> int | float:
    # JSON numbers: a string would never equal a typed number in the expression language.
    return int(number) if number == number.to_integral_value() else float(number)


def parse_number(text: str, *, index: int | None = None, key: str = "value") -> Decimal:
    """A number typed the German way ("2,5", "1.250", "25,00"); RowError otherwise."""
    text = (text or "").strip()
    if not text:
        raise RowError(gettext("Bitte geben Sie eine Zahl an."), index, key)
    if len(text) > 32:
        raise RowError(gettext("Die Zahl ist zu lang."), index, key)
    try:
        number = decimal_from_input(text, money=True, language="de")
    except AmbiguousNumber:
        number = None
    if number is None or abs(number) >= MAX_AMOUNT * 1000:
        raise RowError(gettext("Bitte geben Sie eine Zahl ein, z. B. 12 oder 2,5."), index, key)
    return number


def parse_amount(text: str, *, key: str = "amount", allow_empty: bool = False) -> Decimal | None:
    """A euro amount typed the German way ("25,00"), at most two decimals."""
    text = (text or "").strip()
    if not text and allow_empty:
        return None
    if not text:
        raise RowError(gettext("Bitte geben Sie einen Betrag an, z. B. 25,00."), None, key)
    try:
        number = parse_number(text, key=key)
    except RowError:
        raise RowError(
            gettext("Bitte geben Sie einen Betrag in Euro an, z. B. 25,00."), None, key
        ) from None
    if number != number.quantize(Decimal("0.01")) or abs(number) >= MAX_AMOUNT:
        raise RowError(
            gettext(
                "Bitte geben Sie einen Betrag unter 1.000.000 € mit höchstens zwei "
                "Nachkommastellen an."
            ),
            None,
            key,
        )
    return number.quantize(Decimal("0.01"))


def format_amount(value: Any) -> str:
    """An amount as the German input shows it ("25,00")."""
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception:
        return ""
    return str(number).replace(".", ",")


def _format_number(value: Any) -> str:
    return str(Decimal(str(value))).replace(".", ",")


def _text_value(text: str, index: int) -> str:
    text = (text or "").strip()
    if not text:
        raise RowError(gettext("Bitte geben Sie einen Wert an."), index)
    if len(text) > MAX_VALUE_LENGTH:
        raise RowError(
            gettext("Der Wert ist zu lang (höchstens %(n)s Zeichen).") % {"n": MAX_VALUE_LENGTH},
            index,
        )
    return text


def _literal(picker: PickerField, text: str, index: int) -> Any:
    """The typed literal a row compares its field with."""
    if picker.kind == "number":
        return _number_literal(parse_number(text, index=index))
    if picker.kind == "date":
        try:
            day = datetime.date.fromisoformat((text or "").strip())
        except ValueError:
            raise RowError(gettext("Bitte geben Sie ein gültiges Datum an."), index) from None
        return {"date": day.isoformat()}
    if picker.kind == "yesno":
        if text not in ("yes", "no"):
            raise RowError(gettext("Bitte wählen Sie Ja oder Nein."), index)
        return text == "yes"
    if picker.kind in ("choice", "multichoice"):
        if text not in {value for value, _ in picker.options}:
            raise RowError(
                gettext("Diese Auswahl gibt es bei „%(label)s“ nicht.") % {"label": picker.label},
                index,
            )
        return text
    return _text_value(text, index)


def row_expression(row: Row, fields: dict[str, PickerField], index: int) -> Any:
    """One row as an expression; RowError (German) for anything the row cannot mean."""
    picker = fields.get(row.field) if isinstance(row.field, str) else None
    if picker is None:
        raise RowError(
            gettext("Bitte wählen Sie ein Feld, das vor diesem Element steht."), index, "field"
        )
    if row.op not in picker.operators:
        raise RowError(
            gettext("Dieser Vergleich passt nicht zu „%(label)s“.") % {"label": picker.label},
            index,
            "op",
        )
    ref = {"field": picker.id}
    if row.op == "filled":
        return {"filled": picker.id}
    if row.op == "empty":
        return {"not": {"filled": picker.id}}
    if row.op == "in":
        values = [v for v in row.values if isinstance(v, str) and v.strip()]
        if not values:
            raise RowError(gettext("Bitte wählen Sie mindestens einen Wert."), index)
        if len(values) > MAX_LIST_VALUES:
            raise RowError(gettext("Höchstens %(n)s Werte.") % {"n": MAX_LIST_VALUES}, index)
        literals = [_literal(picker, v.strip(), index) for v in values]
        return {"in": [ref, list(dict.fromkeys(literals))]}
    literal = _literal(picker, row.value, index)
    if row.op == "contains":
        return {"contains": [ref, literal]}
    return {row.op: [ref, literal]}


def rows_to_expression(rows: list[Row], combine: str, fields: list[PickerField]) -> Any:
    """The condition of the rows (None: no rows, no condition)."""
    if combine not in COMBINE:
        raise RowError(gettext("Bitte wählen Sie „alle Bedingungen“ oder „mindestens eine“."))
    if len(rows) > MAX_ROWS:
        raise RowError(gettext("Höchstens %(n)s Bedingungen.") % {"n": MAX_ROWS})
    by_id = {f.id: f for f in fields}
    parts = [row_expression(row, by_id, index) for index, row in enumerate(rows)]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return {combine: parts}


def _row_from(expr: Any, fields: dict[str, PickerField]) -> Row | None:
    if not isinstance(expr, dict) or len(expr) != 1:
        return None
    ((op, arg),) = expr.items()
    if op == "filled":
        picker = fields.get(arg) if isinstance(arg, str) else None
        return Row(field=arg, op="filled") if picker and "filled" in picker.operators else None
    if op == "not":
        inner = arg if isinstance(arg, dict) and len(arg) == 1 else {}
        target = inner.get("filled")
        picker = fields.get(target) if isinstance(target, str) else None
        return Row(field=target, op="empty") if picker else None
    if not isinstance(arg, list) or len(arg) != 2:
        return None
    left, right = arg
    if not (isinstance(left, dict) and list(left) == ["field"]):
        return None
    picker = fields.get(left["field"]) if isinstance(left["field"], str) else None
    if picker is None or op not in picker.operators:
        return None
    if op == "in":
        if not isinstance(right, list) or not right:
            return None
        texts = [_text_of(picker, v) for v in right]
        if any(t is None for t in texts):
            return None
        return Row(field=picker.id, op="in", values=texts)
    text = _text_of(picker, right)
    if text is None:
        return None
    return Row(field=picker.id, op=op, value=text)


def _text_of(picker: PickerField, literal: Any) -> str | None:
    """A literal as the picker's input shows it, or None if the picker cannot show it."""
    if picker.kind == "number":
        if isinstance(literal, bool) or not isinstance(literal, (int, float)):
            return None
        return _format_number(literal)
    if picker.kind == "date":
        text = literal.get("date") if isinstance(literal, dict) and len(literal) == 1 else literal
        if not isinstance(text, str):
            return None
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    if picker.kind == "yesno":
        return {True: "yes", False: "no"}.get(literal) if isinstance(literal, bool) else None
    if not isinstance(literal, str) or len(literal) > MAX_VALUE_LENGTH:
        return None
    if picker.kind in ("choice", "multichoice"):
        return literal if literal in {v for v, _ in picker.options} else None
    return literal


def expression_to_rows(expr: Any, fields: list[PickerField]) -> tuple[str, list[Row]] | None:
    """(combine, rows) of a condition, or None when the rows cannot show it exactly."""
    by_id = {f.id: f for f in fields}
    if expr is None:
        return "and", []
    if isinstance(expr, dict) and len(expr) == 1:
        ((op, arg),) = expr.items()
        if op in COMBINE and isinstance(arg, list) and 2 <= len(arg) <= MAX_ROWS:
            rows = [_row_from(item, by_id) for item in arg]
            if any(row is None for row in rows):
                return None
            return op, rows
    row = _row_from(expr, by_id)
    return ("and", [row]) if row else None


# --- Cross-field validations ------------------------------------------------------
@dataclass
class Comparison:
    """ "<left> muss <op> <right> sein": right is another field, a value or today."""

    left: str = ""
    op: str = "ge"
    right_kind: str = "field"  # "field", "value", "today"
    right_field: str = ""
    right_value: str = ""


COMPARISON_LABELS = {
    "gt": gettext_lazy("größer als"),
    "ge": gettext_lazy("mindestens"),
    "lt": gettext_lazy("kleiner als"),
    "le": gettext_lazy("höchstens"),
    "eq": gettext_lazy("gleich"),
    "ne": gettext_lazy("ungleich"),
}
RIGHT_KINDS = ("field", "value", "today")


def comparison_expression(comparison: Comparison, fields: list[PickerField]) -> Any:
    by_id = {f.id: f for f in fields}
    left = by_id.get(comparison.left) if isinstance(comparison.left, str) else None
    if left is None or left.kind in ("file", "multichoice"):
        raise RowError(gettext("Bitte wählen Sie ein Feld zum Vergleichen."), None, "left")
    if comparison.op not in COMPARISON_OPS:
        raise RowError(gettext("Bitte wählen Sie einen Vergleich."), None, "op")
    if comparison.op not in ("eq", "ne") and left.kind not in ("number", "date"):
        raise RowError(
            gettext("„%(label)s“ lässt sich nur auf gleich oder ungleich prüfen.")
            % {"label": left.label},
            None,
            "op",
        )
    if comparison.right_kind == "field":
        right = (
            by_id.get(comparison.right_field) if isinstance(comparison.right_field, str) else None
        )
        if right is None or right.id == left.id:
            raise RowError(gettext("Bitte wählen Sie das andere Feld."), None, "right_field")
        if right.kind != left.kind:
            raise RowError(
                gettext("„%(a)s“ und „%(b)s“ lassen sich nicht vergleichen.")
                % {"a": left.label, "b": right.label},
                None,
                "right_field",
            )
        other: Any = {"field": right.id}
    elif comparison.right_kind == "today":
        if left.kind != "date":
            raise RowError(
                gettext("Mit „heute“ lassen sich nur Datumsfelder vergleichen."), None, "right_kind"
            )
        other = {"today": True}
    elif comparison.right_kind == "value":
        try:
            other = _literal(left, comparison.right_value, 0)
        except RowError as exc:
            raise RowError(exc.message, None, "right_value") from None
    else:
        raise RowError(gettext("Bitte wählen Sie, womit verglichen wird."), None, "right_kind")
    return {comparison.op: [{"field": left.id}, other]}


def comparison_from(expr: Any, fields: list[PickerField]) -> Comparison | None:
    by_id = {f.id: f for f in fields}
    if not isinstance(expr, dict) or len(expr) != 1:
        return None
    ((op, arg),) = expr.items()
    if op not in COMPARISON_OPS or not isinstance(arg, list) or len(arg) != 2:
        return None
    left, right = arg
    if not (isinstance(left, dict) and list(left) == ["field"]) or left["field"] not in by_id:
        return None
    picker = by_id[left["field"]]
    if isinstance(right, dict) and list(right) == ["field"] and right["field"] in by_id:
        return Comparison(picker.id, op, "field", right_field=right["field"])
    if right == {"today": True}:
        return Comparison(picker.id, op, "today")
    text = _text_of(picker, right)
    if text is None:
        return None
    return Comparison(picker.id, op, "value", right_value=text)


def rule_assertion(comparison_expr: Any, condition: Any) -> Any:
    """The rule's `assert`: the comparison, only when the condition holds ("nur wenn").

    `if` counts an unknown condition as not holding, so a rule never trips on a
    condition about an unanswered field."""
    if condition is None:
        return comparison_expr
    return {"if": [condition, comparison_expr, True]}


def split_assertion(assertion: Any) -> tuple[Any, Any]:
    """(comparison, condition or None) of a rule's `assert`."""
    if isinstance(assertion, dict) and list(assertion) == ["if"]:
        arg = assertion["if"]
        if isinstance(arg, list) and len(arg) == 3 and arg[2] is True:
            return arg[1], arg[0]
    return assertion, None


# --- Fee amounts ------------------------------------------------------------------
def amount_expression(kind: str, amount: str, param: str, params: list[str]) -> Any:
    if kind == "fixed":
        return _number_literal(parse_amount(amount))  # type: ignore[arg-type]
    if kind == "param":
        if param not in params:
            raise RowError(gettext("Bitte wählen Sie einen angelegten Betrag."), None, "param")
        return {"param": param}
    raise RowError(gettext("Bitte wählen Sie, wie der Betrag bestimmt wird."), None, "amount_kind")


def amount_from(expr: Any) -> tuple[str, str, str] | None:
    """(kind, amount text, parameter id) of a fee amount, or None if the picker cannot show it."""
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return "fixed", format_amount(expr), ""
    if isinstance(expr, dict) and list(expr) == ["param"] and isinstance(expr["param"], str):
        return "param", "", expr["param"]
    return None


def unique_id(base: str, taken: set[str], fallback: str) -> str:
    """An id matching `^[a-z][a-z0-9_]*$` from a German text, not in `taken`."""
    text = base.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40]
    if not text or not text[0].isalpha():
        text = fallback
    candidate, number = text, 2
    while candidate in taken:
        candidate = f"{text}_{number}"
        number += 1
    return candidate


# --- German words for any expression ----------------------------------------------
def describe(expr: Any, labels: dict[str, str], _depth: int = 0) -> str:
    """An expression in German words, for conditions the rows cannot show."""
    text = _describe(expr, labels, _depth)
    return text if len(text) <= 2000 else text[:1999] + "…"


def _quoted(name: Any, labels: dict[str, str]) -> str:
    return f"„{labels.get(name, name)}“" if isinstance(name, str) else "?"


def _describe(expr: Any, labels: dict[str, str], depth: int) -> str:
    if depth > MAX_DEPTH:
        return "…"
    words = {
        "eq": gettext("ist gleich"),
        "ne": gettext("ist nicht gleich"),
        "lt": gettext("ist kleiner als"),
        "le": gettext("ist höchstens"),
        "gt": gettext("ist größer als"),
        "ge": gettext("ist mindestens"),
    }
    d = lambda e: _describe(e, labels, depth + 1)  # noqa: E731
    if expr is True:
        return gettext("Ja")
    if expr is False:
        return gettext("Nein")
    if expr is None:
        return gettext("leer")
    if isinstance(expr, (int, float)):
        return _format_number(expr)
    if isinstance(expr, str):
        return f"„{expr}“"
    if isinstance(expr, list):
        return ", ".join(d(e) for e in expr)
    if not isinstance(expr, dict) or len(expr) != 1:
        return "?"
    ((op, arg),) = expr.items()
    if op == "field":
        return _quoted(arg, labels)
    if op == "param":
        return gettext("Betrag %(name)s") % {"name": _quoted(arg, labels)}
    if op == "today":
        return gettext("heute")
    if op == "date":
        try:
            return datetime.date.fromisoformat(arg).strftime("%d.%m.%Y")
        except (TypeError, ValueError):
            return "?"
    if op == "age":
        return gettext("Alter nach %(what)s") % {"what": d(arg)}
    if op == "count":
        return gettext("Anzahl der Einträge in %(name)s") % {"name": _quoted(arg, labels)}
    if op == "index":
        return gettext("Nummer des Eintrags")
    if op == "filled":
        return gettext("%(name)s ist ausgefüllt") % {"name": _quoted(arg, labels)}
    if op == "not":
        return gettext("nicht (%(what)s)") % {"what": d(arg)}
    if op in ("and", "or") and isinstance(arg, list):
        joiner = gettext(" und ") if op == "and" else gettext(" oder ")
        return "(" + joiner.join(d(e) for e in arg) + ")"
    if op in words and isinstance(arg, list) and len(arg) == 2:
        return f"{d(arg[0])} {words[op]} {d(arg[1])}"
    if op == "in" and isinstance(arg, list) and len(arg) == 2:
        return gettext("%(a)s ist einer von: %(b)s") % {"a": d(arg[0]), "b": d(arg[1])}
    if op == "contains" and isinstance(arg, list) and len(arg) == 2:
        return gettext("%(a)s enthält %(b)s") % {"a": d(arg[0]), "b": d(arg[1])}
    if op in ("add", "sub", "mul", "min", "max") and isinstance(arg, list):
        if op in ("min", "max"):
            name = gettext("kleinster Wert von") if op == "min" else gettext("größter Wert von")
            return f"{name} ({', '.join(d(e) for e in arg)})"
        sign = {"add": " + ", "sub": " − ", "mul": " × "}[op]
        return "(" + sign.join(d(e) for e in arg) + ")"
    if op == "if" and isinstance(arg, list) and len(arg) == 3:
        return gettext("wenn %(c)s, dann %(t)s, sonst %(e)s") % {
            "c": d(arg[0]),
            "t": d(arg[1]),
            "e": d(arg[2]),
        }
    if op in ("any", "all", "sum") and isinstance(arg, list) and len(arg) == 2:
        group = _quoted(arg[0], labels)
        if op == "any":
            return gettext("mindestens ein Eintrag in %(g)s: %(c)s") % {"g": group, "c": d(arg[1])}
        if op == "all":
            return gettext("jeder Eintrag in %(g)s: %(c)s") % {"g": group, "c": d(arg[1])}
        return gettext("Summe über %(g)s von %(c)s") % {"g": group, "c": d(arg[1])}
    return "?"


def labels_of(definition: dict[str, Any]) -> dict[str, str]:
    """Id -> German label of every field, group and parameter (for `describe`)."""
    labels: dict[str, str] = {}
    for step in _steps(definition):
        for item in _items(step):
            if isinstance(item.get("id"), str):
                labels[item["id"]] = _label(item.get("label")) or item["id"]
            for sub in _items(item) if item.get("type") == "group" else []:
                if isinstance(sub.get("id"), str):
                    labels.setdefault(sub["id"], _label(sub.get("label")) or sub["id"])
    for param in definition.get("parameters", []) if isinstance(definition, dict) else []:
        if isinstance(param, dict) and isinstance(param.get("id"), str):
            labels[param["id"]] = _label(param.get("label")) or param["id"]
    return labels


def text_of(value: Any) -> str:
    """German text of a {de, en} object ("" when missing)."""
    return tr(value, "de") if isinstance(value, dict) else ""
