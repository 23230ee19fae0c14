"""Single-line text, and the base of every text-like type (length, pattern, reject)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..definition import FieldSpec, tr
from .base import (
    RAW_CAP,
    CleanContext,
    DefinitionProblem,
    DesignerSetting,
    FieldType,
    raw_text,
    register,
)

# A quantified group that itself contains a quantifier: (a+)+, (\\d*)*, (x+){2,}.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


LENGTH_SETTINGS = (
    DesignerSetting("min_length", "int", _("Mindestlänge (Zeichen)"), minimum=0, maximum=20000),
    DesignerSetting("max_length", "int", _("Höchstlänge (Zeichen)"), minimum=1, maximum=20000),
)
PATTERN_SETTINGS = (
    DesignerSetting(
        "pattern",
        "text",
        _("Muster (regulärer Ausdruck)"),
        help=_("Die ganze Eingabe muss passen, z. B. [0-9]{5} für fünf Ziffern."),
        maximum=500,
    ),
    DesignerSetting("pattern_message", "translated", _("Meldung, wenn das Muster nicht passt")),
)


def label_of(spec: FieldSpec, ctx: CleanContext) -> str:
    return tr(spec.label, ctx.language)


class TextLike(FieldType):
    client_kind = "text"
    """Text input: normalised, free of control characters, bounded, optionally patterned."""

    multiline: ClassVar[bool] = False
    default_max_length: ClassVar[int] = 200
    input_type: ClassVar[str] = "text"
    inputmode: ClassVar[str] = ""
    autocomplete: ClassVar[str] = ""
    designer_settings = LENGTH_SETTINGS + PATTERN_SETTINGS
    schema_properties: ClassVar[dict[str, Any]] = {
        "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 20000},
        "pattern": {"type": "string", "maxLength": 500},
        "pattern_message": {"$ref": "#/$defs/text"},
        "reject": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "message"],
                "additionalProperties": False,
                "properties": {
                    "text": {"type": "string", "minLength": 2},
                    "message": {"$ref": "#/$defs/text"},
                },
            },
        },
    }

    def definition_problems(self, spec, path, *, in_item):
        if not spec.get("pattern"):
            return []
        try:
            # Compiled as answers are checked: `\\d` is rewritten to ASCII digits.
            validators.compiled_pattern(spec["pattern"])
        except re.error as exc:
            return [DefinitionProblem(f"{path}.pattern", f"invalid regular expression: {exc}")]
        if _NESTED_QUANTIFIER.search(spec["pattern"]):
            # Python's re has no timeout: (a+)+ can hang a worker on crafted input.
            return [
                DefinitionProblem(
                    f"{path}.pattern", "nested quantifier (e.g. (a+)+) may backtrack forever"
                )
            ]
        return []

    def max_length(self, spec: FieldSpec) -> int:
        return spec.raw.get("max_length") or self.default_max_length

    def check_format(self, spec: FieldSpec, value: str, ctx: CleanContext) -> str:
        """The type's own format check on normalised text; returns the value to store."""
        return value

    def clean(self, spec: FieldSpec, raw: Any, ctx: CleanContext) -> str | None:
        label = label_of(spec, ctx)
        value = validators.normalize_text(raw_text(raw)[: RAW_CAP + 1], multiline=self.multiline)
        if not value:
            return None
        if validators.forbidden_characters(value, multiline=self.multiline):
            raise ValidationError(
                gettext(
                    "Die Eingabe bei „%(label)s“ enthält unzulässige Steuerzeichen. "
                    "Bitte entfernen Sie diese."
                )
                % {"label": label}
            )
        limit = self.max_length(spec)
        if len(value) > limit:
            raise ValidationError(
                gettext(
                    "Bitte geben Sie bei „%(label)s“ höchstens %(limit)s Zeichen ein "
                    "(derzeit %(length)s)."
                )
                % {"label": label, "limit": limit, "length": len(value)}
            )
        minimum = spec.raw.get("min_length")
        if minimum and len(value) < minimum:
            raise ValidationError(
                gettext("Bitte geben Sie bei „%(label)s“ mindestens %(limit)s Zeichen ein.")
                % {"label": label, "limit": minimum}
            )
        value = self.check_format(spec, value, ctx)
        pattern = spec.raw.get("pattern")
        if pattern and not validators.compiled_pattern(pattern).fullmatch(value):
            custom = spec.raw.get("pattern_message")
            raise ValidationError(
                tr(custom, ctx.language)
                if custom
                else gettext("Die Eingabe bei „%(label)s“ hat nicht das erwartete Format.")
                % {"label": label}
            )
        for forbidden in spec.raw.get("reject", []):
            # Catch-all phrases an office cannot work with ("Waren aller Art").
            if forbidden["text"].casefold() in value.casefold():
                raise ValidationError(tr(forbidden["message"], ctx.language))
        return value

    def decorate(self, node, spec, raw, language):
        node.value = "" if raw is None else str(raw)[:RAW_CAP]
        node.maxlength = self.max_length(spec)
        node.widget = "textarea" if self.multiline else "input"
        node.input_type = self.input_type
        node.inputmode = self.inputmode
        node.autocomplete = node.autocomplete or self.autocomplete


@register
class TextType(TextLike):
    name = "text"
    designer_title = _("Text (eine Zeile)")
