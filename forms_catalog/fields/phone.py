"""A telephone number as typed (digits and the usual separators), not normalised.

Kept for the published definitions that use it; `telephone` checks and
normalises numbers with the phonenumbers library.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import register
from .text import TextLike, label_of

_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/\-]{4,38}$")


@register
class PhoneType(TextLike):
    name = "phone"
    designer_title = _("Telefonnummer (wie eingegeben)")
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 40
    input_type = "tel"
    autocomplete = "tel"

    def check_format(self, spec, value, ctx):
        if not _PHONE_RE.match(value):
            raise ValidationError(
                gettext(
                    "Bitte geben Sie bei „%(label)s“ eine gültige Telefonnummer ein "
                    "(Ziffern, Leerzeichen, +, /, -)."
                )
                % {"label": label_of(spec, ctx)}
            )
        return value
