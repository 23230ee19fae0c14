"""An amount in euros with at most two decimal places, stored as "1234.50"."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..definition import parse_decimal
from .base import register
from .number import NumberLike, localized_number


def format_money(amount: Decimal) -> str:
    """The amount in the active language ("1.234,50 €" / "€1,234.50")."""
    return gettext("%(amount)s €") % {"amount": localized_number(amount, 2)}


@register
class MoneyType(NumberLike):
    name = "money"
    designer_title = _("Betrag in Euro")
    client_kind = "money"
    money = True
    inputmode = "decimal"

    def places(self, spec):
        return 2

    def invalid_message(self, label):
        return gettext(
            "Bitte geben Sie bei „%(label)s“ einen Betrag in Euro ein, z. B. 1250,50."
        ) % {"label": label}

    def store(self, spec, number):
        return str(number.quantize(Decimal("0.01")))

    def display(self, spec, value, language):
        amount = parse_decimal(value)
        return format_money(amount) if amount is not None else str(value)

    def decorate(self, node, spec, raw, language):
        super().decorate(node, spec, raw, language)
        node.inputmode = "decimal"
        node.unit = node.unit or gettext("in Euro")
