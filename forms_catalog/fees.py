"""Fee calculation from answers and municipality parameters (the definition's `fees`)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .compiler import CompiledForm
from .definition import tr
from .expressions import evaluate, truthy
from .fields import display_value

CENT = Decimal("0.01")


@dataclass(frozen=True)
class FeeResult:
    amount: Decimal
    lines: list[tuple[str, Decimal]] = field(default_factory=list)


def parameter_values(compiled: CompiledForm, parameters: dict[str, Any] | None) -> dict:
    """Declared parameters: the municipality's value if it is a valid number, else the default."""
    values: dict[str, Decimal | None] = {}
    given = parameters if isinstance(parameters, dict) else {}
    for declared in compiled.definition.parameters:
        value = given.get(declared["id"], declared["default"])
        if isinstance(value, bool):
            value = declared["default"]
        try:
            number = None if value is None else Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if number is not None and (not number.is_finite() or abs(number) > Decimal("1e9")):
            default = declared["default"]
            number = None if default is None else Decimal(str(default))
        values[declared["id"]] = number
    return values


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    amount = Decimal(value)
    # Bounded and finite: an absurd stored answer yields "fee unknown", not an exception.
    return amount if amount.is_finite() and abs(amount) < Decimal("1e12") else None


def _label(template: dict[str, str], language: str, values: dict[str, str]) -> str:
    # Only {name} placeholders: never str.format on definition text.
    return re.sub(
        r"\{([a-z_][a-z0-9_]*)\}", lambda m: values.get(m.group(1), ""), tr(template, language)
    )


def calculate(
    compiled: CompiledForm,
    answers: dict[str, Any],
    parameters: dict[str, Any] | None,
    *,
    on_date: datetime.date | None = None,
    language: str = "de",
) -> FeeResult | None:
    fees = compiled.definition.raw.get("fees")
    if not fees:
        return None
    if fees.get("free"):
        return FeeResult(Decimal("0.00"), [])
    visible = compiled.visible_answers(answers, on_date=on_date)
    values = compiled.typed_answers(visible)
    scope = compiled.scope(values, on_date=on_date, params=parameter_values(compiled, parameters))
    lines: list[tuple[str, Decimal]] = []
    for line in fees.get("lines", []):
        group_id = line.get("for_each")
        if group_id:
            group = compiled.definition.groups[group_id]
            specs = {f.id: f for f in group.fields}
            fids = frozenset(specs)
            for index, item in enumerate(visible.get(group_id) or []):
                item_scope = compiled.scope(values, on_date=on_date, params=scope.params)
                item_scope.item = compiled.typed_item(group, item)
                item_scope.item_fields, item_scope.index = fids, index + 1
                if "when" in line and not truthy(evaluate(line["when"], item_scope)):
                    continue
                amount = _amount(evaluate(line["amount"], item_scope))
                if amount is None:
                    return None  # a needed parameter or answer is missing: fee unknown
                texts = {k: display_value(specs[k], v, language) for k, v in item.items()}
                texts["index"] = str(index + 1)
                lines.append((_label(line["label"], language, texts), amount.quantize(CENT)))
            continue
        if "when" in line and not truthy(evaluate(line["when"], scope)):
            continue
        amount = _amount(evaluate(line["amount"], scope))
        if amount is None:
            return None
        lines.append((_label(line["label"], language, {}), amount.quantize(CENT)))
    total = sum((amount for _, amount in lines), Decimal("0.00"))
    return FeeResult(max(total, Decimal("0.00")).quantize(CENT), lines)
