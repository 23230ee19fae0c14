"""A number, whole by default (`decimals` allows places), optionally with a unit."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..definition import FieldSpec, parse_decimal, tr
from .base import CleanContext, DesignerSetting, FieldType, raw_text, register
from .text import label_of


class AmbiguousNumber(ValueError):
    """The input reads as two different numbers (German "1.45": 1,45 or 145?)."""


class CanonicalNumber(str):
    """A stored answer ("1450.00") handed back to cleaning: read as stored, in any language."""


_DIGITS = r"[0-9]{1,15}"
_GROUPED = {".": r"[0-9]{1,3}(\.[0-9]{3})+", ",": r"[0-9]{1,3}(,[0-9]{3})+"}


def decimal_from_input(text: str, *, money: bool, language: str = "de") -> Decimal | None:
    """The number a person typed, read in the notation of `language`; None if it is none.

    German: "2.150" and "1.450,00" (point groups thousands, comma marks decimals),
    "1450", "1450,5". English: "2,150.00", "1450.5". With both separators the
    later one is the decimal one, so "2,150.00" is read in German too. A lone
    thousands separator groups digits by three ("2.150" in German); after four or
    more digits it can only mark decimals ("1234.50"); otherwise AmbiguousNumber
    is raised ("1.45" in German: 1,45 or a mistyped 1.450?): guessing could turn
    1,45 € into 145 €. ASCII digits only.
    """
    if isinstance(text, CanonicalNumber):
        plain = str(text)
        if not re.fullmatch(rf"-?{_DIGITS}(\.[0-9]+)?", plain):
            return None
        return Decimal(plain)
    text = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if money:
        text = text.replace("€", "").replace("EUR", "")
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    decimal_mark = "." if language == "en" else ","
    group_mark = "," if decimal_mark == "." else "."
    if "," in text and "." in text:
        later = "," if text.rfind(",") > text.rfind(".") else "."
        earlier = "." if later == "," else ","
        whole, _, fraction = text.rpartition(later)
        if not re.fullmatch(_GROUPED[earlier], whole) or not re.fullmatch(r"[0-9]+", fraction):
            return None
        text = f"{whole.replace(earlier, '')}.{fraction}"
    elif group_mark in text:
        if re.fullmatch(_GROUPED[group_mark], text):
            text = text.replace(group_mark, "")
        elif re.fullmatch(r"[0-9]{4,}[.,][0-9]+", text):
            # Four digits before it: the mark cannot group thousands, only mark decimals.
            text = text.replace(group_mark, ".")
        else:
            raise AmbiguousNumber(text)
    elif decimal_mark in text:
        text = text.replace(decimal_mark, ".")
    if not re.fullmatch(rf"{_DIGITS}(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(sign + text)
    except InvalidOperation:
        return None


def localized_number(number: Decimal, places: int | None = None) -> str:
    """The number in the active language's notation, with thousands grouping."""
    return number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)


class NumberLike(FieldType):
    money: ClassVar[bool] = False
    client_kind = "number"
    inputmode: ClassVar[str] = "numeric"
    designer_settings: ClassVar[tuple[DesignerSetting, ...]] = (
        DesignerSetting("min", "number", _("Kleinster Wert")),
        DesignerSetting("max", "number", _("Größter Wert")),
    )
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

    def ambiguous_message(self, label: str, language: str) -> str:
        if language == "en":
            return gettext(
                "Bei „%(label)s“ ist nicht klar, ob das Komma Tausender oder Nachkommastellen"
                " trennt. Schreiben Sie Nachkommastellen mit Punkt, z. B. 1.45, und Tausender"
                " ohne Trennzeichen, z. B. 1450."
            ) % {"label": label}
        return gettext(
            "Bei „%(label)s“ ist nicht klar, ob der Punkt Tausender oder Nachkommastellen"
            " trennt. Schreiben Sie Nachkommastellen mit Komma, z. B. 1,45, und Tausender"
            " ohne Trennzeichen, z. B. 1450."
        ) % {"label": label}

    def raw_from_json(self, spec: FieldSpec, value: Any) -> Any:
        # Stored answers are canonical ("1450.00"): re-checking them must not
        # read the point as a German thousands separator.
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return value
        return CanonicalNumber(value)

    def store(self, spec: FieldSpec, number: Decimal) -> Any:
        return int(number) if self.places(spec) == 0 else str(number)

    def clean(self, spec: FieldSpec, raw: Any, ctx: CleanContext) -> Any:
        text = raw_text(raw).strip()[:64]
        if not text:
            return None
        label = label_of(spec, ctx)
        try:
            number = decimal_from_input(
                raw if isinstance(raw, CanonicalNumber) else text,
                money=self.money,
                language=ctx.language,
            )
        except AmbiguousNumber:
            raise ValidationError(self.ambiguous_message(label, ctx.language)) from None
        if number is None:
            raise ValidationError(self.invalid_message(label))
        places = self.places(spec)
        # Trailing zeros are no places: "1.450,00" is a whole number.
        exponent = number.normalize().as_tuple().exponent
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
        if isinstance(raw, CanonicalNumber):
            # A stored answer is shown in the page's notation, so sending it back unchanged
            # reads the same number ("1450,00" in German).
            stored = parse_decimal(str(raw))
            if stored is not None:
                raw = str(stored) if language == "en" else str(stored).replace(".", ",")
        node.value = "" if raw is None else str(raw)[:20000]
        node.maxlength = 32
        node.inputmode = self.inputmode if not spec.raw.get("decimals") else "decimal"


@register
class NumberType(NumberLike):
    name = "number"
    designer_title = _("Zahl")
    designer_settings = (
        *NumberLike.designer_settings,
        DesignerSetting("decimals", "int", _("Nachkommastellen"), minimum=0, maximum=4),
        DesignerSetting("unit", "translated", _("Einheit (z. B. m²)")),
    )

    def display(self, spec, value, language):
        number = parse_decimal(value)
        if number is None:
            return str(value)
        unit = tr(spec.raw.get("unit"), language)
        return f"{localized_number(number)} {unit}".strip()
