"""A calendar date entered as day, month and year (GOV.UK pattern), stored as ISO text."""

from __future__ import annotations

import datetime
import re
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..expressions import full_years
from .base import (
    CleanContext,
    DefinitionProblem,
    DesignerSetting,
    FieldType,
    getlist,
    raw_text,
    register,
)
from .text import label_of

_PARTS = ("day", "month", "year")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def format_date(value: datetime.date) -> str:
    """The date in the active language ("01.01.2000" / "1 January 2000")."""
    # The format itself is translated (English: "j F Y"), as Django's own formats were.
    return date_format(value, gettext("d.m.Y"))


class DatePartsWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return tuple((getlist(data, f"{name}_{part}") or [None])[-1] for part in _PARTS)


@register
class DateType(FieldType):
    name = "date"
    widget_class = DatePartsWidget
    designer_title = _("Datum")
    designer_settings = (
        DesignerSetting("past", "bool", _("Nur Daten in der Vergangenheit")),
        DesignerSetting("future", "bool", _("Nur Daten in der Zukunft")),
        DesignerSetting("min_date", "date", _("Frühestes Datum")),
        DesignerSetting("max_date", "date", _("Spätestes Datum")),
        DesignerSetting(
            "min_age", "int", _("Mindestalter in Jahren (bei Geburtsdaten)"), minimum=0, maximum=150
        ),
    )
    schema_properties: ClassVar[dict[str, Any]] = {
        "past": {"type": "boolean"},
        "future": {"type": "boolean"},
        "min_date": {"type": "string", "format": "date"},
        "max_date": {"type": "string", "format": "date"},
        "min_age": {"type": "integer", "minimum": 0, "maximum": 150},
    }

    def definition_problems(self, spec, path, *, in_item):
        problems = []
        if spec.get("past") and spec.get("future"):
            problems.append(
                DefinitionProblem(
                    f"{path}.future", "a date cannot be both in the past and in the future"
                )
            )
        for key in ("min_date", "max_date"):
            if key in spec:
                try:
                    datetime.date.fromisoformat(spec[key])
                except ValueError:
                    problems.append(DefinitionProblem(f"{path}.{key}", "must be YYYY-MM-DD"))
        return problems

    def clean(self, spec, raw: Any, ctx: CleanContext) -> str | None:
        parts = raw if isinstance(raw, (list, tuple)) and len(raw) == 3 else (None, None, None)
        day, month, year = (raw_text(p).strip()[:8] for p in parts)
        if not (day or month or year):
            return None
        label = label_of(spec, ctx)
        invalid = ValidationError(
            gettext("Bitte geben Sie bei „%(label)s“ ein gültiges Datum ein, z. B. 27.3.2007.")
            % {"label": label}
        )
        if not (day and month and year):
            raise ValidationError(
                gettext("Bitte geben Sie bei „%(label)s“ Tag, Monat und Jahr an.")
                % {"label": label}
            )
        if not (
            validators.ascii_digits(day)
            and validators.ascii_digits(month)
            and validators.ascii_digits(year, count=4)
        ):
            raise invalid
        try:
            value = datetime.date(int(year), int(month), int(day))
        except ValueError:
            raise invalid from None
        if value.year < 1850:
            raise invalid
        if spec.raw.get("past") and value >= ctx.today:
            raise ValidationError(
                gettext("„%(label)s“ muss in der Vergangenheit liegen.") % {"label": label}
            )
        if spec.raw.get("future") and value <= ctx.today:
            raise ValidationError(
                gettext("„%(label)s“ muss in der Zukunft liegen.") % {"label": label}
            )
        bound = spec.raw.get("min_date")
        if bound and value < datetime.date.fromisoformat(bound):
            raise ValidationError(
                gettext("„%(label)s“ darf nicht vor dem %(date)s liegen.")
                % {"label": label, "date": format_date(datetime.date.fromisoformat(bound))}
            )
        bound = spec.raw.get("max_date")
        if bound and value > datetime.date.fromisoformat(bound):
            raise ValidationError(
                gettext("„%(label)s“ darf nicht nach dem %(date)s liegen.")
                % {"label": label, "date": format_date(datetime.date.fromisoformat(bound))}
            )
        min_age = spec.raw.get("min_age")
        if min_age is not None and full_years(value, ctx.today) < int(min_age):
            raise ValidationError(
                gettext("Bei „%(label)s“ muss die Person mindestens %(age)s Jahre alt sein.")
                % {"label": label, "age": min_age}
            )
        return value.isoformat()

    def typed(self, spec, value):
        if not isinstance(value, str):
            return value
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None

    def display(self, spec, value, language):
        typed = self.typed(spec, value) if isinstance(value, str) else None
        return format_date(typed) if typed else str(value)

    def raw_from_json(self, spec, value):
        match = _ISO.fullmatch(value) if isinstance(value, str) else None
        if not match:
            return None
        year, month, day = match.groups()
        return (str(int(day)), str(int(month)), year)

    def form_data(self, spec, name, value):
        raw = None if value is None else self.raw_from_json(spec, value)
        if raw is None:
            return {}
        return dict(zip((f"{name}_{p}" for p in _PARTS), raw, strict=True))

    def decorate(self, node, spec, raw, language):
        node.widget = "date"
        node.hint = node.hint or gettext("z. B. 27.3.2007")
        parts = raw if isinstance(raw, (list, tuple)) and len(raw) == 3 else ("", "", "")
        node.parts = {
            p: ("" if v is None else str(v)[:8]) for p, v in zip(_PARTS, parts, strict=True)
        }
