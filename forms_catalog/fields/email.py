"""An email address (Django's validator), stored in lower case."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import register
from .text import TextLike, label_of


@register
class EmailType(TextLike):
    name = "email"
    designer_title = _("E-Mail-Adresse")
    # A fixed format: nothing to set beyond what every field has.
    designer_settings = ()
    default_max_length = 254
    input_type = "email"
    autocomplete = "email"
    is_email_address = True

    def check_format(self, spec, value, ctx):
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                gettext(
                    "Bitte geben Sie bei „%(label)s“ eine gültige E-Mail-Adresse ein, "
                    "z. B. name@example.de."
                )
                % {"label": label_of(spec, ctx)}
            ) from None
        return value.lower() if value.count("@") == 1 else value
