"""The side panel: the selected step's, group's or field's settings as a Django form.

The form's fields come from what every element has (id, label or title, hint)
and, for a field, from its type's `designer_settings` in the registry, so a new
field type brings its own settings. `values()` turns the cleaned data into the
keys `edits.update_element` sets (None removes a key); choice options are rows
(value + label DE/EN) read by `options()`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..checks import AUTOCOMPLETE_TOKENS
from ..fields import registered
from ..fields.base import DesignerSetting
from .edits import ID_MAX, slug_id

TEXT_MAX = 2000
BLANK_OPTION_ROWS = 3
MAX_OPTIONS = 300
OPTION_VALUE_MAX = 60
FILE_EXTENSIONS = (("pdf", "PDF"), ("jpg", "JPG"), ("jpeg", "JPEG"), ("png", "PNG"))
ROLES = (
    ("", _("keine")),
    ("applicant_name", _("Name der antragstellenden Person")),
    ("applicant_given_name", _("Vorname der antragstellenden Person")),
    ("applicant_email", _("E-Mail-Adresse für Nachrichten an die antragstellende Person")),
)
MEGABYTE = 1024 * 1024
_OPTION_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,60}")

_MESSAGES = {
    "required": _("Bitte füllen Sie dieses Feld aus."),
    "max_length": _("Höchstens %(limit_value)d Zeichen."),
    "invalid": _("Bitte geben Sie einen gültigen Wert ein."),
    "min_value": _("Der Wert muss mindestens %(limit_value)s sein."),
    "max_value": _("Der Wert darf höchstens %(limit_value)s sein."),
}


def _text(label, *, required=False, maximum=TEXT_MAX, multiline=False, help_text=""):
    widget = forms.Textarea(attrs={"rows": 3}) if multiline else forms.TextInput()
    return forms.CharField(
        label=label,
        required=required,
        max_length=maximum,
        help_text=help_text,
        widget=widget,
        error_messages=_MESSAGES,
    )


def _translated(fields: dict, key: str, label, *, required=False, multiline=False) -> None:
    """Two inputs for a {de, en} text: `<key>__de` and `<key>__en`."""
    fields[f"{key}__de"] = _text(
        _("%(label)s (deutsch)") % {"label": label}, required=required, multiline=multiline
    )
    fields[f"{key}__en"] = _text(_("%(label)s (englisch)") % {"label": label}, multiline=multiline)


def _setting_field(setting: DesignerSetting) -> dict[str, forms.Field]:
    kind, label, help_text = setting.kind, setting.label, setting.help
    if kind == "bool":
        return {setting.key: forms.BooleanField(label=label, required=False, help_text=help_text)}
    if kind == "int":
        return {
            setting.key: forms.IntegerField(
                label=label,
                required=False,
                min_value=setting.minimum,
                max_value=setting.maximum,
                help_text=help_text,
                error_messages=_MESSAGES,
            )
        }
    if kind in ("number", "megabytes"):
        return {
            setting.key: forms.DecimalField(
                label=label,
                required=False,
                max_digits=15,
                decimal_places=4,
                localize=True,
                help_text=help_text,
                min_value=Decimal(0) if kind == "megabytes" else None,
                error_messages=_MESSAGES,
            )
        }
    if kind == "text":
        return {setting.key: _text(label, maximum=setting.maximum or TEXT_MAX, help_text=help_text)}
    if kind == "date":
        return {
            setting.key: forms.DateField(
                label=label,
                required=False,
                help_text=help_text,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages=_MESSAGES,
            )
        }
    if kind == "select":
        return {
            setting.key: forms.ChoiceField(
                label=label,
                required=False,
                choices=[
                    ("", _("keine") if setting.key == "role" else _("Standard")),
                    *setting.choices,
                ],
                help_text=help_text,
            )
        }
    if kind == "extensions":
        return {
            setting.key: forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=FILE_EXTENSIONS,
                widget=forms.CheckboxSelectMultiple,
                help_text=help_text,
            )
        }
    if kind == "translated":
        fields: dict[str, forms.Field] = {}
        _translated(fields, setting.key, label)
        return fields
    return {}  # "options": rows of their own (see ElementForm.options)


def _initial_text(initial: dict, key: str, value: Any) -> None:
    if isinstance(value, dict):
        initial[f"{key}__de"] = value.get("de", "")
        initial[f"{key}__en"] = value.get("en", "")
    elif isinstance(value, str):
        initial[f"{key}__de"] = value


class ElementForm(forms.Form):
    """Settings of one element; build it with `element_form(...)`."""

    kind: str = "field"
    settings: tuple[DesignerSetting, ...] = ()
    texts: tuple[str, ...] = ()
    has_options = False

    def __init__(self, *args, element: dict[str, Any], option_rows: int = 0, **kwargs):
        self.element = element
        initial = self.initial_from(element)
        super().__init__(*args, initial=initial, **kwargs)
        if self.has_options:
            for index in range(option_rows):
                self.fields[f"option-{index}-value"] = _text(_("Wert"), maximum=OPTION_VALUE_MAX)
                self.fields[f"option-{index}-de"] = _text(_("Beschriftung (deutsch)"))
                self.fields[f"option-{index}-en"] = _text(_("Beschriftung (englisch)"))
                self.fields[f"option-{index}-delete"] = forms.BooleanField(
                    label=_("entfernen"), required=False
                )
            self.option_count = option_rows

    def initial_from(self, element: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"id": element.get("id", "")}
        for key in self.texts:
            _initial_text(initial, key, element.get(key))
        for setting in self.settings:
            value = element.get(setting.key)
            if setting.kind == "translated":
                _initial_text(initial, setting.key, value)
            elif setting.kind == "megabytes" and isinstance(value, int):
                initial[setting.key] = (Decimal(value) / MEGABYTE).quantize(Decimal("0.01"))
            elif value is not None:
                initial[setting.key] = value
        for index, option in enumerate(element.get("options") or []):
            if isinstance(option, dict):
                initial[f"option-{index}-value"] = option.get("value", "")
                label = option.get("label")
                label = label if isinstance(label, dict) else {"de": str(label or "")}
                initial[f"option-{index}-de"] = label.get("de", "")
                initial[f"option-{index}-en"] = label.get("en", "")
        return initial

    # -- reading ------------------------------------------------------------------
    def _translated_value(self, key: str, *, keep_empty: bool = False) -> dict[str, str] | None:
        de = self.cleaned_data.get(f"{key}__de") or ""
        en = self.cleaned_data.get(f"{key}__en") or ""
        if not de and not en and not keep_empty:
            return None
        return {"de": de, "en": en}

    def values(self) -> dict[str, Any]:
        """The keys to set on the element (None: remove the key)."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        if data.get("id"):
            values["id"] = data["id"]
        for key in self.texts:
            values[key] = self._translated_value(key, keep_empty=key in ("label", "title"))
        for setting in self.settings:
            if setting.kind == "options":
                continue
            if setting.kind == "translated":
                values[setting.key] = self._translated_value(setting.key)
                continue
            value = data.get(setting.key)
            if setting.kind == "bool":
                value = True if value else None
            elif setting.kind == "number" and value is not None:
                value = int(value) if value == value.to_integral_value() else float(value)
            elif setting.kind == "megabytes" and value is not None:
                value = int(value * MEGABYTE) or None
            elif setting.kind == "date" and value is not None:
                value = value.isoformat()
            elif setting.kind == "extensions":
                value = list(value) or None
            elif value == "":
                value = None
            values[setting.key] = value
        return values

    def options(self, *, move: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        """The option rows in order, without removed and empty rows; a missing value is
        made from the German label. `move` = (row index, "up"/"down") moves one row."""
        result: list[dict[str, Any]] = []
        rows: list[int] = []
        seen: set[str] = set()
        for index in range(getattr(self, "option_count", 0)):
            data = self.cleaned_data
            if data.get(f"option-{index}-delete"):
                continue
            value = (data.get(f"option-{index}-value") or "").strip()
            de = data.get(f"option-{index}-de") or ""
            en = data.get(f"option-{index}-en") or ""
            if not (value or de or en):
                continue
            if not value:
                value = slug_id(de, fallback="wert")[:OPTION_VALUE_MAX]
                base, number = value, 2
                while value in seen:
                    value = f"{base[: OPTION_VALUE_MAX - 4]}_{number}"
                    number += 1
            seen.add(value)
            result.append({"value": value, "label": {"de": de, "en": en}})
            rows.append(index)
        if move is not None and move[0] in rows:
            here = rows.index(move[0])
            there = here - 1 if move[1] == "up" else here + 1
            if 0 <= there < len(result):
                result[here], result[there] = result[there], result[here]
        return result[:MAX_OPTIONS]

    def clean(self):
        data = super().clean()
        for index in range(getattr(self, "option_count", 0)):
            value = (data.get(f"option-{index}-value") or "").strip()
            if value and not _OPTION_VALUE.fullmatch(value):
                self.add_error(
                    f"option-{index}-value",
                    _(
                        "Der Wert darf nur Buchstaben (ohne Umlaute), Ziffern, Punkt, "
                        "Bindestrich und Unterstrich enthalten."
                    ),
                )
        return data

    # -- showing --------------------------------------------------------------------
    def option_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": index,
                "value": self[f"option-{index}-value"],
                "de": self[f"option-{index}-de"],
                "en": self[f"option-{index}-en"],
                "delete": self[f"option-{index}-delete"],
            }
            for index in range(getattr(self, "option_count", 0))
        ]

    def setting_fields(self) -> list[forms.BoundField]:
        skip = {f for f in self.fields if f.startswith("option-")}
        return [self[name] for name in self.fields if name not in skip]


def _id_field() -> forms.CharField:
    return forms.CharField(
        label=_("Kennung"),
        max_length=ID_MAX,
        required=True,
        help_text=_(
            "Technischer Name in Exporten: Kleinbuchstaben, Ziffern und Unterstriche. "
            "Wird aus der Beschriftung erzeugt; Bezüge in Bedingungen ändern sich mit."
        ),
        error_messages=_MESSAGES,
    )


def element_form(element: dict[str, Any], *, kind: str, in_repeatable_group: bool = False):
    """The form class for a step, group or field and how many option rows it needs."""
    fields: dict[str, forms.Field] = {"id": _id_field()}
    settings: tuple[DesignerSetting, ...] = ()
    texts: tuple[str, ...]
    has_options = False
    if kind == "step":
        _translated(fields, "title", _("Titel"), required=True)
        _translated(fields, "intro", _("Einleitung"), multiline=True)
        texts = ("title", "intro")
    elif kind == "group":
        _translated(fields, "label", _("Überschrift"), required=True)
        _translated(fields, "help", _("Hinweis"), multiline=True)
        texts = ("label", "help")
        settings = (
            DesignerSetting("repeatable", "bool", _("Wiederholbar (eine Liste von Einträgen)")),
            DesignerSetting("min", "int", _("Mindestens Einträge"), minimum=0, maximum=50),
            DesignerSetting("max", "int", _("Höchstens Einträge"), minimum=1, maximum=50),
            DesignerSetting("item_label", "translated", _("Bezeichnung eines Eintrags")),
        )
    else:
        _translated(fields, "label", _("Beschriftung"), required=True)
        _translated(fields, "help", _("Hinweis"), multiline=True)
        texts = ("label", "help")
        field_kind = registered().get(str(element.get("type")))
        own = tuple(field_kind.designer_settings) if field_kind else ()
        common = [DesignerSetting("required", "bool", _("Pflichtfeld"))]
        if not in_repeatable_group:
            common.append(DesignerSetting("role", "select", _("Rolle"), choices=ROLES[1:]))
        common.append(
            DesignerSetting(
                "autocomplete",
                "select",
                _("Automatisches Ausfüllen (autocomplete)"),
                choices=tuple((t, t) for t in sorted(AUTOCOMPLETE_TOKENS)),
            )
        )
        settings = (*common, *own)
        has_options = any(s.kind == "options" for s in own)
    for setting in settings:
        for name, form_field in _setting_field(setting).items():
            fields[name] = form_field
    attrs = {
        **fields,
        "kind": kind,
        "settings": settings,
        "texts": texts,
        "has_options": has_options,
    }
    form_class = type("ElementSettingsForm", (ElementForm,), attrs)
    rows = len(element.get("options") or []) + BLANK_OPTION_ROWS if has_options else 0
    return form_class, min(rows, MAX_OPTIONS + BLANK_OPTION_ROWS)
