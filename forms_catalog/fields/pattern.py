"""Text that must match the definition's regular expression (ASCII digits for `\\d`)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from .base import DesignerSetting, register
from .text import LENGTH_SETTINGS, PATTERN_SETTINGS, TextLike


@register
class PatternType(TextLike):
    name = "pattern"
    schema_required = ("pattern", "pattern_message")
    designer_title = _("Text mit festem Format (Muster)")
    designer_settings = (
        *PATTERN_SETTINGS,
        *LENGTH_SETTINGS,
        DesignerSetting(
            "inputmode",
            "select",
            _("Bildschirmtastatur"),
            choices=(
                ("text", "Text"),  # the same word in both languages
                ("numeric", _("Ziffern")),
                ("decimal", _("Zahl mit Komma")),
                ("tel", _("Telefon")),
                ("email", _("E-Mail")),
            ),
        ),
    )
    schema_properties: ClassVar[dict[str, Any]] = {
        **TextLike.schema_properties,
        "inputmode": {"enum": ["text", "numeric", "decimal", "tel", "email"]},
    }

    def decorate(self, node, spec, raw, language):
        super().decorate(node, spec, raw, language)
        node.inputmode = spec.raw.get("inputmode", "")
