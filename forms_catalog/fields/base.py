"""What every field type provides, and the registry that knows them all.

A field type is one class in its own module of this package, registered with
`@register`. It owns everything that differs between types: its part of the
JSON Schema, its definition checks, its Django widget, the cleaning of raw
request input into the stored JSON answer, the typed value expressions see,
the text people read (summary, PDF), the value machines read (export) and
how a stored answer is shown again in the form. Nothing outside this package
branches on a field's type.

Messages are produced with gettext: callers activate the citizen's language
(`translation.override`) around cleaning, rendering and summarising.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils.translation import gettext

from ..definition import FieldSpec, tr

if TYPE_CHECKING:
    from ..render import FieldNode

# Absolute cap on any raw value before parsing: a 10 MB "number" is refused early.
RAW_CAP = 20000


# --- Widgets: only how values are read from the request ---------------------
# The markup is rendered by the templates in templates/forms_catalog/, so the
# widgets here only implement value_from_datadict.
def getlist(data: Any, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class SingleValueWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        values = getlist(data, name)
        return values[-1] if values else None


def raw_text(value: Any) -> str:
    """One submitted value as text (the last one if a crafted request repeats the name)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


@dataclass
class CleanContext:
    """What cleaning one answer may need besides the raw input.

    `saved` is the answer stored so far for this field (file fields keep earlier
    uploads); a file field records newly uploaded files in `uploads[field id]`.
    """

    language: str
    today: datetime.date
    saved: Any = None
    uploads: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DefinitionProblem:
    path: str
    message: str


@dataclass(frozen=True)
class DesignerSetting:
    """One setting of a field type as the form designer offers it in its side panel.

    `kind` says how it is edited and stored: "bool", "int", "number" (int or
    decimal), "text", "translated" ({de, en}), "date" (YYYY-MM-DD), "select"
    (one of `choices`), "options" (the choice list: value + label DE/EN),
    "extensions" (file types), "megabytes" (stored as bytes). Labels are German
    (gettext_lazy). Keys are the definition's JSON keys of the type.
    """

    key: str
    kind: str
    label: Any
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    minimum: int | None = None
    maximum: int | None = None


class FieldType:
    """Base class of the field types. Subclasses set `name` and override what differs."""

    name: ClassVar[str]
    widget_class: ClassVar[type[forms.Widget]] = SingleValueWidget
    # JSON Schema of the properties only this type uses (merged into the field schema).
    schema_properties: ClassVar[dict[str, Any]] = {}
    # Properties a definition must give for this type.
    schema_required: ClassVar[tuple[str, ...]] = ()
    # Whether answers are uploaded files (kept on the form until stored, see StepForm).
    receives_files: ClassVar[bool] = False
    # Whether the answer is an e-mail address (a form without roles writes to the first).
    is_email_address: ClassVar[bool] = False
    # How the browser reads the typed answer from the inputs for same-page conditions
    # ("text", "yesno", "list", "number", "money"; see static/portal/conditions.js);
    # None: a condition on this field is not evaluated in the browser.
    client_kind: ClassVar[str | None] = None
    # The form designer (forms_catalog/designer): the type's name for editors, the
    # type's own settings in the side panel (label, hint, required, role and
    # autocomplete are common to all types) and the keys a new field starts with.
    designer_title: ClassVar[Any] = ""
    designer_settings: ClassVar[tuple[DesignerSetting, ...]] = ()
    designer_defaults: ClassVar[dict[str, Any]] = {}

    # -- definition -------------------------------------------------------------
    def definition_problems(
        self, spec: dict[str, Any], path: str, *, in_item: bool
    ) -> list[DefinitionProblem]:
        """Problems of one field definition that JSON Schema cannot express."""
        return []

    # -- input --------------------------------------------------------------------
    def widget(self) -> forms.Widget:
        return self.widget_class()

    def clean(self, spec: FieldSpec, raw: Any, ctx: CleanContext) -> Any:
        """Raw request input -> JSON answer (None: no answer); raises ValidationError."""
        raise NotImplementedError

    def is_unanswered(self, value: Any) -> bool:
        return value is None or value == []

    def required_message(self, label: str) -> str:
        return gettext("Bitte geben Sie „%(label)s“ an.") % {"label": label}

    # -- stored answer ------------------------------------------------------------
    def typed(self, spec: FieldSpec, value: Any) -> Any:
        """The stored JSON answer as the Python value expressions compare."""
        return value

    def display(self, spec: FieldSpec, value: Any, language: str) -> str:
        """The answer as people read it (summary page, PDF), complete; never raises.

        Called with the language active; `value` is not empty."""
        return str(value)

    def export(self, spec: FieldSpec, value: Any) -> Any:
        """The answer in the machine-readable export (normalised JSON)."""
        return value

    def raw_from_json(self, spec: FieldSpec, value: Any) -> Any:
        """A stored answer in the shape the request would carry (for re-display)."""
        return value

    def form_data(self, spec: FieldSpec, name: str, value: Any) -> dict[str, Any]:
        """POST-like data for one stored answer (used to re-validate stored answers)."""
        raw = None if value is None else self.raw_from_json(spec, value)
        return {} if raw is None else {name: raw}

    # -- rendering ----------------------------------------------------------------
    def decorate(self, node: FieldNode, spec: FieldSpec, raw: Any, language: str) -> None:
        """Fill the render node's type-specific attributes from the raw value."""
        node.value = "" if raw is None else str(raw)[:RAW_CAP]

    def option_label(self, spec: FieldSpec, value: Any, language: str) -> str:
        for option in spec.options:
            if option["value"] == value:
                return tr(option["label"], language)
        return str(value)


_REGISTRY: dict[str, FieldType] = {}


def register(cls: type[FieldType]) -> type[FieldType]:
    """Class decorator: make a field type known under its `name`."""
    if cls.name in _REGISTRY:
        raise ValueError(f"field type {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def registered() -> dict[str, FieldType]:
    return _REGISTRY
