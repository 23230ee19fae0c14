"""A single checkbox the citizen must tick to confirm something; stored as true."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import CleanContext, FieldType, raw_text, register
from .choice import not_offered
from .text import label_of


@register
class ConsentType(FieldType):
    name = "consent"
    designer_title = _("Bestätigung (Kästchen zum Ankreuzen)")

    def clean(self, spec, raw: Any, ctx: CleanContext) -> bool | None:
        text = raw_text(raw).strip()[:200]
        if not text:
            return None
        if text not in {"on", "true", "yes", "1"}:
            raise not_offered(label_of(spec, ctx))
        return True

    def is_unanswered(self, value):
        return value is None or value is False

    def required_message(self, label):
        return gettext("Bitte bestätigen Sie „%(label)s“, um fortzufahren.") % {"label": label}

    def display(self, spec, value, language):
        if isinstance(value, bool):
            return gettext("Ja") if value else gettext("Nein")
        return str(value)

    def raw_from_json(self, spec, value):
        return "on" if value is True else None

    def decorate(self, node, spec, raw, language):
        node.widget = "checkbox"
        node.value = "on"
        node.options = [{"checked": str(raw) in {"on", "true", "True", "yes"}}]
