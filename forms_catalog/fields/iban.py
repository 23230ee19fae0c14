"""An IBAN, checked with schwifty (country, length, BBAN format, check digits).

Stored compact in upper case; shown in groups of four.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from .base import register
from .text import TextLike, label_of


def normalize_iban(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def iban_is_valid(value: str) -> bool:
    """True for a valid IBAN made of ASCII letters and digits only.

    schwifty accepts any Unicode digit Python's `int` reads; offices' systems
    expect ASCII, so other digits are refused before it is asked.
    """
    iban = normalize_iban(value)
    if not iban.isascii() or not iban.isalnum():
        return False
    try:
        IBAN(iban)
    except SchwiftyException:
        return False
    return True


@register
class IbanType(TextLike):
    name = "iban"
    designer_title = "IBAN"  # the same word in both languages
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 42

    def check_format(self, spec, value, ctx):
        value = normalize_iban(value)
        if not iban_is_valid(value):
            raise ValidationError(
                gettext(
                    "Die IBAN bei „%(label)s“ ist ungültig. "
                    "Bitte prüfen Sie Ländercode, Länge und Prüfziffer."
                )
                % {"label": label_of(spec, ctx)}
            )
        return value

    def display(self, spec, value, language):
        if not isinstance(value, str):
            return str(value)
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
