"""A telephone number checked and normalised with the phonenumbers library.

Numbers without a country code are read as German ones. The answer is stored
and exported in E.164 ("+493643762222"); the summary shows a German number in
national format ("03643 762222") and a foreign one in international format
("+43 1 5331234"), so that a clerk can dial either as written.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import register
from .text import TextLike, label_of

DEFAULT_REGION = "DE"
# What people type around the digits. Letters ("0800-FLOWERS") and digits other
# than ASCII are refused: phonenumbers would convert them silently.
_TYPED = re.compile(r"^\+?[0-9 ()/.\-]+$")


def parse_telephone(value: str) -> phonenumbers.PhoneNumber | None:
    """The number if it is valid (German unless it has a country code), else None."""
    if not _TYPED.fullmatch(value):
        return None
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


@register
class TelephoneType(TextLike):
    name = "telephone"
    designer_title = _("Telefonnummer (geprüft, international)")
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 40
    input_type = "tel"
    inputmode = "tel"
    autocomplete = "tel"

    def check_format(self, spec, value, ctx):
        number = parse_telephone(value)
        if number is None:
            raise ValidationError(
                gettext(
                    "Bitte geben Sie bei „%(label)s“ eine gültige Telefonnummer ein, "
                    "z. B. 03643 762222 oder +49 3643 762222."
                )
                % {"label": label_of(spec, ctx)}
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def display(self, spec, value, language):
        number = parse_telephone(value) if isinstance(value, str) else None
        if number is None:
            return str(value)
        german = phonenumbers.region_code_for_number(number) == DEFAULT_REGION
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if german
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return phonenumbers.format_number(number, style)
