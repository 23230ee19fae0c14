"""A yes/no question, stored as true/false."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .base import CleanContext, raw_text, register
from .choice import SingleChoice, not_offered
from .text import label_of


@register
class YesNoType(SingleChoice):
    name = "yesno"
    designer_title = _("Ja/Nein-Frage")
    client_kind = "yesno"

    def options(self, spec):
        return [{"value": "yes", "label": gettext("Ja")}, {"value": "no", "label": gettext("Nein")}]

    def clean(self, spec, raw: Any, ctx: CleanContext) -> bool | None:
        text = raw_text(raw).strip()[:200]
        if not text:
            return None
        if text not in {"yes", "no"}:
            raise not_offered(label_of(spec, ctx))
        return text == "yes"

    def display(self, spec, value, language):
        if isinstance(value, bool):
            return gettext("Ja") if value else gettext("Nein")
        return str(value)

    def raw_from_json(self, spec, value):
        return "yes" if value is True else "no" if value is False else None
