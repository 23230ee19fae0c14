"""Same-page conditions as data for the browser (progressive enhancement).

A field whose `visible_if` depends on an answer on its own page is always
rendered, with the hint "Nur ausfüllen, wenn …", because without JavaScript
the page cannot react. With JavaScript, `static/portal/conditions.js` hides it
until its condition holds. This module describes the condition for that
script: the expression, how to read each answer of this page from its inputs,
and the typed values of the answers from other steps it refers to.

Only a subset of the expression language is handed to the browser. A
condition outside it (dates, ages, groups, aggregates) yields no description,
and the field stays visible with its hint, as without JavaScript. The server
remains the authority either way: what is hidden by the final answers is not
validated and not stored (`visibility.walk_step`).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .definition import FieldSpec, GroupSpec
from .expressions import COMPARISONS, references
from .fields import field_type

if TYPE_CHECKING:
    from .step_form import StepForm

# Operators the browser evaluates exactly like `expressions.evaluate`.
CLIENT_OPERATORS = frozenset(
    {"field", "filled", "not", "and", "or", "in", "contains", *COMPARISONS}
)


def _operators_supported(expr: Any) -> bool:
    if expr is None or isinstance(expr, (bool, int, float, str)):
        return True
    if isinstance(expr, list):
        return all(_operators_supported(item) for item in expr)
    if not isinstance(expr, dict) or len(expr) != 1:
        return False
    ((op, arg),) = expr.items()
    if op not in CLIENT_OPERATORS:
        return False
    if op in {"field", "filled"}:
        return isinstance(arg, str)
    return _operators_supported(arg)


def _json_value(value: Any) -> tuple[bool, Any]:
    """(representable, value) of a typed answer for the browser."""
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, Decimal):
        return value.is_finite(), float(value) if value.is_finite() else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return True, value
    return False, None


def client_condition(
    *, form: StepForm, expr: Any, spec: FieldSpec | GroupSpec | None = None
) -> str:
    """The condition of a same-page conditional field or group as JSON for the
    browser, or "" when the browser cannot evaluate it (then it stays shown).

    Fields inside repeatable groups are not handled (their inputs repeat per
    item) and get "".
    """
    if expr is None or not _operators_supported(expr):
        return ""
    if isinstance(spec, FieldSpec) and spec.group_id and _in_repeatable(form, spec.group_id):
        return ""
    page_fields = _page_fields(form)
    earlier = form._earlier_values()
    inputs: dict[str, dict[str, str]] = {}
    values: dict[str, Any] = {}
    for ref in sorted(references(expr)):
        if ref in page_fields:
            kind = field_type(page_fields[ref].type).client_kind
            if kind is None:
                return ""
            inputs[ref] = {"name": form.add_prefix(ref), "kind": kind}
            continue
        if ref in form.compiled.step_keys[form.step.id]:
            return ""  # a repeatable group of this page
        representable, value = _json_value(earlier.get(ref))
        if not representable:
            return ""
        values[ref] = value
    return json.dumps(
        {"expr": expr, "inputs": inputs, "values": values, "language": form.language},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _in_repeatable(form: StepForm, group_id: str) -> bool:
    return any(
        isinstance(item, GroupSpec) and item.id == group_id and item.repeatable
        for item in form.step.items
    )


def _page_fields(form: StepForm) -> dict[str, FieldSpec]:
    """This step's fields outside repeatable groups (their inputs are named by their id)."""
    found: dict[str, FieldSpec] = {}
    for item in form.step.items:
        if isinstance(item, FieldSpec):
            found[item.id] = item
        elif not item.repeatable:
            found.update((f.id, f) for f in item.fields)
    return found
