"""Fees of a form (the definition's `fees`): the calculation and what the citizen is told.

`calculate` adds up the fee lines for some answers; `statement` says what kind of
charge it is (Gebühr, Steuer, Auslagen), how often and when it is paid, and which
amounts are the municipality's own, fixed by law, or only an example. A
parameter declared `"local": true` is set by each municipality: its default is
an example and is never shown or charged as a municipality's rate.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from .compiler import CompiledForm
from .definition import tr
from .expressions import evaluate, truthy
from .fields import display_value
from .fields.money import format_money

CENT = Decimal("0.01")


@dataclass(frozen=True)
class FeeResult:
    amount: Decimal
    lines: list[tuple[str, Decimal]] = field(default_factory=list)


def parameter_values(
    compiled: CompiledForm, parameters: dict[str, Any] | None, *, examples: bool = True
) -> dict:
    """Declared parameters: the municipality's value if it is a valid number, else the default.

    With `examples=False` the default of a `local` parameter (an example) counts
    as missing: only the municipality's own value is used.
    """
    values: dict[str, Decimal | None] = {}
    given = parameters if isinstance(parameters, dict) else {}
    for declared in compiled.definition.parameters:
        fallback = declared["default"]
        if declared.get("local") and not examples:
            fallback = None
        value = given.get(declared["id"], fallback)
        if isinstance(value, bool):
            value = fallback
        try:
            number = None if value is None else Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if number is not None and (not number.is_finite() or abs(number) > Decimal("1e9")):
            number = None if fallback is None else Decimal(str(fallback))
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
    examples: bool = True,
) -> FeeResult | None:
    fees = compiled.definition.raw.get("fees")
    if not fees:
        return None
    if fees.get("free"):
        return FeeResult(Decimal("0.00"), [])
    visible = compiled.visible_answers(answers, on_date=on_date)
    values = compiled.typed_answers(visible)
    scope = compiled.scope(
        values,
        on_date=on_date,
        params=parameter_values(compiled, parameters, examples=examples),
    )
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


@dataclass(frozen=True)
class Rate:
    label: str
    amount: Decimal
    text: str  # the amount as written in the statement's language ("50,00 €" / "€50.00")


@dataclass(frozen=True)
class FeeStatement:
    """What the citizen is told about the charge for a service in one municipality.

    `kind`, `period` and `payment` are the definition's codes ("" when it does not
    say); the `*_label`/`*_text` fields are their wording in the requested language.
    Rates are split by who sets them: `own_rates` the municipality configured,
    `fixed_rates` are the same everywhere (law), `example_rates` are examples for
    amounts the municipality sets but has not configured here (`set_locally`).
    `calculation` is the total for the given answers from own and fixed rates
    only, None when an amount is unknown (never an example or an invented one).
    """

    free: bool
    has_fees: bool
    kind: str
    period: str
    payment: str
    kind_label: str
    period_label: str
    payment_text: str
    note: str
    own_rates: list[Rate]
    fixed_rates: list[Rate]
    example_rates: list[Rate]
    set_locally: bool
    set_locally_text: str
    own_caption: str
    fixed_caption: str
    example_caption: str
    calculation: FeeResult | None
    calculation_lines: list[Rate]
    total_label: str
    total_text: str


def _kind_label(kind: str) -> str:
    return {
        "gebuehr": gettext("Gebühr"),
        "steuer": gettext("Steuer"),
        "auslagen": gettext("Auslagen"),
    }.get(kind, "")


def _period_label(period: str) -> str:
    return {"einmalig": gettext("einmalig"), "jaehrlich": gettext("jährlich")}.get(period, "")


def _payment_text(payment: str) -> str:
    return {
        "appointment": gettext("Bezahlt wird beim Termin vor Ort."),
        "bescheid": gettext(
            "Sie erhalten einen schriftlichen Bescheid über den Betrag und bezahlen danach."
        ),
        "online_later": gettext(
            "Sie bezahlen später online; die Zahlungsaufforderung schickt Ihnen die Behörde."
        ),
    }.get(payment, "")


_NO_FEE = FeeResult(Decimal("0.00"), [])


def _written(rate: Rate) -> Rate:
    return Rate(rate.label, rate.amount, format_money(rate.amount))


def _configured_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number.quantize(CENT) if number.is_finite() and abs(number) <= Decimal("1e9") else None


def statement(
    compiled: CompiledForm,
    configured: dict[str, Any] | None,
    *,
    municipality: str,
    answers: dict[str, Any] | None = None,
    on_date: datetime.date | None = None,
    language: str = "de",
) -> FeeStatement:
    """The fee wording for `municipality` (its display name) with its `configured` values.

    `configured` holds only what the municipality set (municipalities.selectors.
    fee_parameters); a declared default of a `local` parameter is an example.
    With `answers` the statement also carries the calculation (`examples=False`).
    """
    fees = compiled.definition.raw.get("fees") or {}
    given = configured if isinstance(configured, dict) else {}
    own: list[Rate] = []
    fixed: list[Rate] = []
    examples: list[Rate] = []
    set_locally = False
    for declared in compiled.definition.parameters:
        label = tr(declared["label"], language)
        amount = _configured_amount(given.get(declared["id"]))
        default = _configured_amount(declared["default"])
        if amount is not None:
            own.append(Rate(label, amount, ""))
        elif declared.get("local"):
            set_locally = True
            if default is not None:
                examples.append(Rate(label, default, ""))
        elif default is not None:
            fixed.append(Rate(label, default, ""))
        else:
            set_locally = True  # nobody has given this amount: the office sets it
    calculation = None
    if answers is not None and fees:
        calculation = calculate(
            compiled, answers, given, on_date=on_date, language=language, examples=False
        )
    kind, period, payment = fees.get("kind", ""), fees.get("period", ""), fees.get("payment", "")
    with translation.override(language):
        own, fixed, examples = ([_written(r) for r in rates] for rates in (own, fixed, examples))
        lines = [Rate(label, amount, "") for label, amount in (calculation or _NO_FEE).lines]
        return FeeStatement(
            free=bool(fees.get("free")),
            has_fees=bool(fees.get("lines")),
            kind=kind,
            period=period,
            payment=payment,
            kind_label=_kind_label(kind),
            period_label=_period_label(period),
            payment_text=_payment_text(payment),
            note=tr(fees["note"], language) if fees.get("note") else "",
            own_rates=own,
            fixed_rates=fixed,
            example_rates=examples,
            set_locally=set_locally,
            set_locally_text=gettext(
                "Den Betrag legt %(name)s selbst fest. Er ist hier nicht hinterlegt; "
                "die zuständige Behörde nennt ihn Ihnen."
            )
            % {"name": municipality}
            if set_locally
            else "",
            own_caption=gettext("Beträge von %(name)s") % {"name": municipality},
            fixed_caption=gettext("Beträge nach Gesetz oder Verordnung, überall gleich"),
            example_caption=gettext("Nur Beispiele, nicht die Beträge von %(name)s")
            % {"name": municipality},
            calculation=calculation,
            calculation_lines=[_written(r) for r in lines],
            total_label=gettext("Gesamt pro Jahr") if period == "jaehrlich" else gettext("Gesamt"),
            total_text=format_money(calculation.amount) if calculation else "",
        )
