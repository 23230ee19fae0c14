"""A number, whole by default (`decimals` allows places), optionally with a unit."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext

from ..definition import FieldSpec, parse_decimal, tr
from .base import CleanContext, FieldType, raw_text, register
from .text import label_of


def decimal_from_input(text: str, *, money: bool) -> Decimal | None:
    """German or English notation ("1.234,50", "1,234.50") as a Decimal; ASCII digits only."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if money:
        text = text.replace("€", "").replace("EUR", "")
    if "," in text and "." in text:
        # The later separator is the decimal one: 1.234,50 or 1,234.50.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def localized_number(number: Decimal, places: int | None = None) -> str:
    """The number in the active language's notation, with thousands grouping."""
    return number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)


class NumberLike(FieldType):
    money: ClassVar[bool] = False
    inputmode: ClassVar[str] = "numeric"
    schema_properties: ClassVar[dict[str, Any]] = {
        "min": {"type": "number"},
        "max": {"type": "number"},
        "decimals": {"type": "integer", "minimum": 0, "maximum": 4},
        "unit": {"$ref": "#/$defs/text"},
    }

    def places(self, spec: FieldSpec) -> int:
        return int(spec.raw.get("decimals", 0))

    def invalid_message(self, label: str) -> str:
        return gettext("Bitte geben Sie bei „%(label)s“ eine Zahl ein.") % {"label": label}

    def store(self, spec: FieldSpec, number: Decimal) -> Any:
        return int(number) if self.places(spec) == 0 else str(number)

    def clean(self, spec: FieldSpec, raw: Any, ctx: CleanContext) -> Any:
        text = raw_text(raw).strip()[:64]
        if not text:
            return None
        label = label_of(spec, ctx)
        number = decimal_from_input(text, money=self.money)
        if number is None:
            raise ValidationError(self.invalid_message(label))
        places = self.places(spec)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            if places == 0:
                raise ValidationError(
                    gettext("Bitte geben Sie bei „%(label)s“ eine ganze Zahl ein.")
                    % {"label": label}
                )
            raise ValidationError(
                gettext("Bitte geben Sie bei „%(label)s“ höchstens %(places)s Nachkommastellen an.")
                % {"label": label, "places": places}
            )
        minimum, maximum = spec.raw.get("min"), spec.raw.get("max")
        if minimum is not None and number < Decimal(str(minimum)):
            raise ValidationError(
                gettext("„%(label)s“ muss mindestens %(limit)s betragen.")
                % {"label": label, "limit": minimum}
            )
        if maximum is not None and number > Decimal(str(maximum)):
            raise ValidationError(
                gettext("„%(label)s“ darf höchstens %(limit)s betragen.")
                % {"label": label, "limit": maximum}
            )
        return self.store(spec, number)

    def typed(self, spec, value):
        return parse_decimal(value)

    def decorate(self, node, spec, raw, language):
        node.value = "" if raw is None else str(raw)[:20000]
        node.maxlength = 32
        node.inputmode = self.inputmode if not spec.raw.get("decimals") else "decimal"


@register
class NumberType(NumberLike):
    name = "number"

    def display(self, spec, value, language):
        number = parse_decimal(value)
        if number is None:
            return str(value)
        unit = tr(spec.raw.get("unit"), language)
        return f"{localized_number(number)} {unit}".strip()
