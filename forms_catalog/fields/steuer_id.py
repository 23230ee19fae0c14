"""The Steuerliche Identifikationsnummer (§ 139b AO), checked with python-stdnum."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum.de import idnr
from stdnum.exceptions import ValidationError as StdnumError

from .. import validators
from .base import register
from .text import TextLike, label_of


def normalize_steuer_id(value: str) -> str:
    return re.sub(r"[\s/.-]", "", value)


def steuer_id_is_valid(value: str) -> bool:
    """11 ASCII digits that pass `stdnum.de.idnr` (digit-frequency rule and check digit),
    without one digit three times in a row."""
    number = normalize_steuer_id(value)
    if not validators.ascii_digits(number, count=11):
        return False
    try:
        idnr.validate(number)
    except StdnumError:
        return False
    # Since 2016 a digit may occur three times, but never three times in a row;
    # stdnum checks only how often digits occur.
    return not re.search(r"(\d)\1\1", number[:10])


@register
class SteuerIdType(TextLike):
    name = "steuer_id"
    designer_title = _("Steuer-Identifikationsnummer")
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 20
    inputmode = "numeric"

    def check_format(self, spec, value, ctx):
        value = normalize_steuer_id(value)
        if not steuer_id_is_valid(value):
            raise ValidationError(
                gettext(
                    "Die Steuer-Identifikationsnummer bei „%(label)s“ ist ungültig "
                    "(11 Ziffern mit Prüfziffer)."
                )
                % {"label": label_of(spec, ctx)}
            )
        return value
