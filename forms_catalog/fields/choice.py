"""One answer out of the definition's options (radio buttons or a select box)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..definition import tr
from .base import CleanContext, DefinitionProblem, DesignerSetting, FieldType, raw_text, register
from .text import label_of

OPTIONS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 300,
    "items": {"$ref": "#/$defs/option"},
}


def not_offered(label: str) -> ValidationError:
    return ValidationError(
        gettext("Bitte wählen Sie bei „%(label)s“ eine der angebotenen Antworten.")
        % {"label": label}
    )


def unique_options(spec: dict[str, Any], path: str) -> list[DefinitionProblem]:
    values = [o["value"] for o in spec["options"]]
    if len(values) != len(set(values)):
        return [DefinitionProblem(f"{path}.options", "option values must be unique")]
    return []


def option_nodes(node, options: list[dict[str, Any]], chosen: set[str], language: str) -> list:
    return [
        {
            "value": str(o["value"]),
            "label": tr(o["label"], language),
            "checked": str(o["value"]) in chosen,
            "id": f"{node.id}_{i}",
        }
        for i, o in enumerate(options)
    ]


class SingleChoice(FieldType):
    """Base of the types answered by picking one option."""

    client_kind = "text"

    def required_message(self, label):
        return gettext("Bitte wählen Sie bei „%(label)s“ eine Antwort aus.") % {"label": label}

    def options(self, spec) -> list[dict[str, Any]]:
        return spec.options

    def decorate(self, node, spec, raw, language):
        current = "" if raw is None else str(raw)
        node.widget = "select" if spec.raw.get("widget") == "select" else "radios"
        node.options = option_nodes(node, self.options(spec), {current}, language)


@register
class ChoiceType(SingleChoice):
    name = "choice"
    schema_required = ("options",)
    designer_title = _("Auswahl (eine Antwort)")
    designer_settings = (
        DesignerSetting("options", "options", _("Antwortmöglichkeiten")),
        DesignerSetting(
            "widget",
            "select",
            _("Darstellung"),
            choices=(("radio", _("Optionsfelder")), ("select", _("Auswahlliste"))),
        ),
    )
    schema_properties: ClassVar[dict[str, Any]] = {
        "options": OPTIONS_SCHEMA,
        "widget": {"enum": ["radio", "select"]},
    }

    def definition_problems(self, spec, path, *, in_item):
        return unique_options(spec, path)

    def clean(self, spec, raw: Any, ctx: CleanContext) -> str | None:
        text = raw_text(raw).strip()[:200]
        if not text:
            return None
        if text not in {str(o["value"]) for o in spec.options}:
            raise not_offered(label_of(spec, ctx))
        return text

    def display(self, spec, value, language):
        if isinstance(value, str):
            return self.option_label(spec, value, language)
        return str(value)
