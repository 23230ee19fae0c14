"""A German postcode: exactly five ASCII digits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import validators
from .base import register
from .text import TextLike, label_of


@register
class PostcodeType(TextLike):
    name = "postcode"
    designer_title = _("Postleitzahl")
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 10
    inputmode = "numeric"

    def check_format(self, spec, value, ctx):
        if not validators.ascii_digits(value, count=5):
            raise ValidationError(
                gettext("Bitte geben Sie bei „%(label)s“ eine fünfstellige Postleitzahl ein.")
                % {"label": label_of(spec, ctx)}
            )
        return value
