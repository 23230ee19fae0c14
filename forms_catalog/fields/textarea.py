"""Long text: line breaks and tabs allowed, rendered as a textarea."""

from __future__ import annotations

from .base import register
from .text import TextLike


@register
class TextareaType(TextLike):
    name = "textarea"
    multiline = True
    default_max_length = 5000
