"""The one walk over a step's fields that decides what is visible.

Visibility has one meaning everywhere: a field, group or step whose
`visible_if` is not true is not validated, not stored, not summarised and not
printed. Cleaning a posted step, pruning stored answers and building the render
tree all walk a step the same way (document order; a repeatable group's items
see their own earlier fields as `item`), so the walk is written once here and
each of them supplies a `StepVisitor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .definition import FieldSpec, GroupSpec, StepSpec
from .expressions import Scope, evaluate, truthy
from .fields import typed_value


def is_visible(expr: Any, scope: Scope) -> bool:
    return expr is None or truthy(evaluate(expr, scope))


def typed_item(group: GroupSpec, item: dict[str, Any]) -> dict[str, Any]:
    """One stored item of a repeatable group as typed values."""
    specs = {f.id: f for f in group.fields}
    return {k: typed_value(specs[k], v) for k, v in item.items() if k in specs}


class StepVisitor:
    """What one walk does at each place; the defaults keep nothing."""

    def shown(self, expr: Any, scope: Scope) -> bool:
        """Whether a field or group with this `visible_if` takes part."""
        return is_visible(expr, scope)

    def entries(self, group: GroupSpec) -> list[tuple[int, Any]] | None:
        """(index, source) of each item of a repeatable group; None skips the group."""
        return []

    def field(self, spec: FieldSpec, name: str, scope: Scope, source: Any) -> Any:
        """Visit one shown field; return its JSON answer, or None for no answer.

        `name` is the form field name ("surname", "dogs-0-chip_number");
        `source` is the item's source from `entries` (None outside repeatable groups).
        """
        return None

    def group_start(self, group: GroupSpec) -> None:
        pass

    def item_start(self, group: GroupSpec, index: int) -> None:
        pass

    def group_end(self, group: GroupSpec, count: int) -> None:
        pass


def walk_step(
    step: StepSpec,
    visitor: StepVisitor,
    *,
    values: dict[str, Any],
    scope_of: Callable[[dict[str, Any]], Scope],
) -> dict[str, Any]:
    """Walk the shown fields of `step` in order; returns the step's answers.

    `values` holds the typed values of what came before (other steps, earlier
    fields); every answer the visitor returns is added to it, so later
    `visible_if` expressions see it. `scope_of(values)` builds the scope.
    """
    answers: dict[str, Any] = {}

    def visit(spec, name, scope, source, target, target_values) -> None:
        if not visitor.shown(spec.visible_if, scope):
            return
        value = visitor.field(spec, name, scope, source)
        if value is None:
            return
        target[spec.id] = value
        target_values[spec.id] = typed_value(spec, value)

    for item in step.items:
        if isinstance(item, FieldSpec):
            visit(item, item.id, scope_of(values), None, answers, values)
            continue
        if not visitor.shown(item.visible_if, scope_of(values)):
            continue
        if not item.repeatable:
            visitor.group_start(item)
            for spec in item.fields:
                visit(spec, spec.id, scope_of(values), None, answers, values)
            visitor.group_end(item, 0)
            continue
        entries = visitor.entries(item)
        if entries is None:
            continue
        visitor.group_start(item)
        field_ids = frozenset(f.id for f in item.fields)
        items: list[dict[str, Any]] = []
        for index, source in entries:
            visitor.item_start(item, index)
            item_answers: dict[str, Any] = {}
            item_values: dict[str, Any] = {}
            for spec in item.fields:
                scope = scope_of(values)
                scope.item, scope.item_fields, scope.index = item_values, field_ids, index + 1
                visit(
                    spec, f"{item.id}-{index}-{spec.id}", scope, source, item_answers, item_values
                )
            items.append(item_answers)
        visitor.group_end(item, len(entries))
        answers[item.id] = items
        values[item.id] = [typed_item(item, a) for a in items]
    return answers
