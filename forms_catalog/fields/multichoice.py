"""Any number of the definition's options (checkboxes), stored in definition order."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import CleanContext, DesignerSetting, FieldType, getlist, raw_text, register
from .choice import OPTIONS_SCHEMA, not_offered, option_nodes, unique_options
from .text import label_of


class MultiValueWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return getlist(data, name)

    def value_omitted_from_data(self, data, files, name):
        return False


@register
class MultichoiceType(FieldType):
    name = "multichoice"
    client_kind = "list"
    widget_class = MultiValueWidget
    schema_required = ("options",)
    designer_title = _("Mehrfachauswahl")
    designer_settings = (
        DesignerSetting("options", "options", _("Antwortmöglichkeiten")),
        DesignerSetting("min_choices", "int", _("Mindestens gewählt"), minimum=1, maximum=300),
        DesignerSetting("max_choices", "int", _("Höchstens gewählt"), minimum=1, maximum=300),
    )
    schema_properties: ClassVar[dict[str, Any]] = {
        "options": OPTIONS_SCHEMA,
        "min_choices": {"type": "integer", "minimum": 1},
        "max_choices": {"type": "integer", "minimum": 1},
    }

    def definition_problems(self, spec, path, *, in_item):
        return unique_options(spec, path)

    def required_message(self, label):
        return gettext("Bitte wählen Sie bei „%(label)s“ eine Antwort aus.") % {"label": label}

    def clean(self, spec, raw: Any, ctx: CleanContext) -> list[str] | None:
        values = raw if isinstance(raw, (list, tuple)) else ([raw] if raw else [])
        values = [raw_text(v).strip()[:200] for v in values[:100] if raw_text(v).strip()]
        if not values:
            return None
        label = label_of(spec, ctx)
        allowed = [str(o["value"]) for o in spec.options]
        if any(v not in allowed for v in values):
            raise not_offered(label)
        chosen = [v for v in allowed if v in set(values)]  # definition order, no duplicates
        minimum, maximum = spec.raw.get("min_choices"), spec.raw.get("max_choices")
        if minimum and len(chosen) < minimum:
            raise ValidationError(
                gettext("Bitte wählen Sie bei „%(label)s“ mindestens %(limit)s Antworten.")
                % {"label": label, "limit": minimum}
            )
        if maximum and len(chosen) > maximum:
            raise ValidationError(
                gettext("Bitte wählen Sie bei „%(label)s“ höchstens %(limit)s Antworten.")
                % {"label": label, "limit": maximum}
            )
        return chosen

    def display(self, spec, value, language):
        if isinstance(value, list):
            return ", ".join(
                self.option_label(spec, v, language) for v in value if isinstance(v, str)
            )
        return str(value)

    def decorate(self, node, spec, raw, language):
        chosen = {str(v) for v in (raw or [])} if isinstance(raw, (list, tuple)) else set()
        node.widget = "checkboxes"
        node.options = option_nodes(node, spec.options, chosen, language)
