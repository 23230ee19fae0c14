"""Text that must match the definition's regular expression (ASCII digits for `\\d`)."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import register
from .text import TextLike


@register
class PatternType(TextLike):
    name = "pattern"
    schema_required = ("pattern", "pattern_message")
    schema_properties: ClassVar[dict[str, Any]] = {
        **TextLike.schema_properties,
        "inputmode": {"enum": ["text", "numeric", "decimal", "tel", "email"]},
    }

    def decorate(self, node, spec, raw, language):
        super().decorate(node, spec, raw, language)
        node.inputmode = spec.raw.get("inputmode", "")
