"""Long text: line breaks and tabs allowed, rendered as a textarea."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import register
from .text import LENGTH_SETTINGS, TextLike


@register
class TextareaType(TextLike):
    name = "textarea"
    multiline = True
    designer_title = _("Text (mehrzeilig)")
    designer_settings = LENGTH_SETTINGS
    default_max_length = 5000
