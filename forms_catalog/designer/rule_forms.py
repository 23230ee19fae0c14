"""Forms of the condition, validation and fee pickers.

The condition rows are read from the POST data by hand (`rows_from_post`) and
shown by `ConditionPicker`: each row's value input depends on the field chosen
in that row, which a Django form class cannot know ahead. Everything else is a
plain Django form. Checking the meaning is left to the services
(`rule_services`), whose German `RowError`s are put back next to the input they
name; every typed value is shown again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .rule_expressions import (
    COMPARISON_LABELS,
    DATE_OPERATOR_LABELS,
    MAX_ROWS,
    NO_VALUE,
    OPERATOR_LABELS,
    Comparison,
    PickerField,
    Row,
)

# Typed input is kept (and shown again) up to this length; the services refuse
# what is longer than their limits with a message.
KEEP_CHARS = 5000


def _value(data: Any, name: str) -> str:
    value = data.get(name, "")
    return value[:KEEP_CHARS] if isinstance(value, str) else ""


def _list(data: Any, name: str) -> list[str]:
    values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
    return [v[:KEEP_CHARS] for v in values if isinstance(v, str)][: MAX_ROWS * 5]


def rows_from_post(data: Any, prefix: str) -> list[Row]:
    """The rows as typed (at most one more than allowed, so the service can say so)."""
    try:
        count = int(data.get(f"{prefix}-count", "0"))
    except (TypeError, ValueError):
        count = 0
    rows = []
    for index in range(max(0, min(count, MAX_ROWS + 1))):
        name = f"{prefix}-{index}"
        row = Row(
            field=_value(data, f"{name}-field"),
            op=_value(data, f"{name}-op"),
            value=_value(data, f"{name}-value"),
            values=_list(data, f"{name}-values"),
        )
        if row.op == "in" and not row.values and row.value:
            # A text field's "ist einer von": the values separated by semicolons.
            row.values = [v.strip() for v in row.value.split(";") if v.strip()]
        rows.append(row)
    return rows


def combine_from_post(data: Any, prefix: str) -> str:
    return _value(data, f"{prefix}-combine") or "and"


@dataclass
class RowView:
    prefix: str
    index: int
    row: Row
    picker: PickerField | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.prefix}-{self.index}"

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def operators(self) -> list[tuple[str, str]]:
        codes = self.picker.operators if self.picker else tuple(OPERATOR_LABELS)
        date = self.picker is not None and self.picker.kind == "date"
        return [
            (
                code,
                str(
                    (
                        DATE_OPERATOR_LABELS
                        if date and code in DATE_OPERATOR_LABELS
                        else OPERATOR_LABELS
                    )[code]
                ),
            )
            for code in codes
        ]

    @property
    def kind(self) -> str:
        return self.picker.kind if self.picker else "text"

    @property
    def needs_value(self) -> bool:
        return self.row.op not in NO_VALUE and self.kind != "file"

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


@dataclass
class ConditionPicker:
    """The rows of one condition picker ("Anzeigen, wenn …" or "nur wenn …")."""

    prefix: str
    fields: list[PickerField]
    combine: str = "and"
    rows: list[RowView] = field(default_factory=list)
    error: str = ""

    @classmethod
    def build(
        cls, *, prefix: str, fields: list[PickerField], combine: str, rows: list[Row]
    ) -> ConditionPicker:
        by_id = {f.id: f for f in fields}
        picker = cls(
            prefix=prefix, fields=fields, combine=combine if combine in ("and", "or") else "and"
        )
        for index, row in enumerate(rows):
            chosen = by_id.get(row.field)
            if chosen is None and not row.field and fields:
                chosen = fields[0]
                row.field = chosen.id
            if chosen is not None and row.op not in chosen.operators:
                row.op = chosen.operators[0]
            picker.rows.append(RowView(prefix, index, row, chosen))
        return picker

    @property
    def grouped_fields(self) -> list[tuple[str, list[PickerField]]]:
        groups: list[tuple[str, list[PickerField]]] = []
        for picker in self.fields:
            if not groups or groups[-1][0] != picker.step_title:
                groups.append((picker.step_title, []))
            groups[-1][1].append(picker)
        return groups

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def data_id(self) -> str:
        return f"{self.prefix}-fields-data"

    @property
    def client_data(self) -> dict[str, Any]:
        """What designer_rules.js needs to follow a changed field without the server."""
        fields = {}
        for picker in self.fields:
            labels = DATE_OPERATOR_LABELS if picker.kind == "date" else {}
            fields[picker.id] = {
                "kind": picker.kind,
                "ops": [
                    [code, str(labels.get(code, OPERATOR_LABELS[code]))]
                    for code in picker.operators
                ],
                "options": [list(option) for option in picker.options],
            }
        return {
            "fields": fields,
            "labels": {
                "value": gettext("Wert"),
                "values": gettext("Werte bei „ist einer von“"),
                "yes": gettext("Ja"),
                "no": gettext("Nein"),
                "file": gettext("Bei Dateien wird nur geprüft, ob etwas hochgeladen ist."),
                "hints": {
                    "number": gettext("Zahl, z. B. 12 oder 2,5."),
                    "date": gettext("Datum."),
                    "text": gettext("Bei „ist einer von“ mehrere Werte mit Semikolon trennen."),
                },
            },
        }

    def add_error(self, index: int | None, key: str, message: str) -> None:
        if index is not None and 0 <= index < len(self.rows):
            self.rows[index].errors[key if key in ("field", "op") else "value"] = message
        else:
            self.error = message


# --- Validation rules ---------------------------------------------------------------
def _choice_field(label: Any, choices: list[tuple[str, str]], **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        error_messages={
            "required": _("Bitte wählen Sie aus."),
            "invalid_choice": _("Bitte wählen Sie einen der angebotenen Einträge."),
        },
        **kwargs,
    )


def _text_field(label: Any, *, required: bool = True, rows: int = 0) -> forms.CharField:
    widget = (
        forms.Textarea(attrs={"rows": rows, "cols": 60})
        if rows
        else forms.TextInput(attrs={"size": 50})
    )
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        widget=widget,
        error_messages={
            "required": _("Bitte füllen Sie dieses Feld aus."),
            "max_length": _("Höchstens %(limit_value)d Zeichen."),
        },
    )


class ValidationRuleForm(forms.Form):
    """ "<Feld A> muss <Vergleich> <Feld B | Wert | heute> sein", message DE/EN, shown at."""

    rule_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=63)
    left = _choice_field(_("Feld A"), [])
    op = _choice_field(_("muss … sein"), list(COMPARISON_LABELS.items()))
    right_kind = _choice_field(
        _("verglichen mit"),
        [("field", _("einem anderen Feld")), ("value", _("einem Wert")), ("today", _("heute"))],
        widget=forms.RadioSelect,
    )
    right_field = _choice_field(_("anderes Feld (Feld B)"), [], required=False)
    right_value = forms.CharField(
        label=_("Wert"), required=False, max_length=KEEP_CHARS, widget=forms.TextInput
    )
    message_de = _text_field(_("Fehlermeldung (deutsch)"), rows=2)
    message_en = _text_field(_("Fehlermeldung (englisch)"), rows=2)
    show_at = forms.MultipleChoiceField(
        label=_("Meldung anzeigen bei"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Ohne Auswahl erscheint die Meldung bei Feld A."),
        error_messages={
            "required": _("Bitte wählen Sie mindestens ein Feld."),
            "invalid_choice": _("Bitte wählen Sie Felder dieses Schritts."),
        },
    )

    def __init__(
        self, *args: Any, fields: list[PickerField], shown_at: list[PickerField], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        comparable = [(f.id, f.label) for f in fields if f.kind not in ("file", "multichoice")]
        self.fields["left"].choices = comparable
        self.fields["right_field"].choices = [("", _("— bitte wählen —")), *comparable]
        self.fields["show_at"].choices = [(f.id, f.label) for f in shown_at]
        by_id = {f.id: f for f in fields}
        left = self.data.get(self.add_prefix("left")) if self.is_bound else self.initial.get("left")
        chosen = by_id.get(left) or (by_id.get(comparable[0][0]) if comparable else None)
        widget: forms.Widget = forms.TextInput(attrs={"size": 30})
        if chosen and chosen.kind == "date":
            widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        elif chosen and chosen.kind == "number":
            widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 12})
        elif chosen and chosen.kind == "yesno":
            widget = forms.Select(choices=[("yes", _("Ja")), ("no", _("Nein"))])
        elif chosen and chosen.kind == "choice":
            widget = forms.Select(choices=list(chosen.options))
        self.fields["right_value"].widget = widget

    def comparison(self) -> Comparison:
        data = self.cleaned_data
        return Comparison(
            left=data.get("left", ""),
            op=data.get("op", ""),
            right_kind=data.get("right_kind", ""),
            right_field=data.get("right_field", ""),
            right_value=data.get("right_value", ""),
        )


# --- Fees -----------------------------------------------------------------------------
class FeeSettingsForm(forms.Form):
    free = forms.BooleanField(label=_("Die Leistung ist gebührenfrei"), required=False)
    kind = _choice_field(
        _("Art der Zahlung"),
        [
            ("", _("— keine Angabe —")),
            ("gebuehr", _("Gebühr")),
            ("steuer", _("Steuer")),
            ("auslagen", _("Auslagen")),
        ],
        required=False,
    )
    period = _choice_field(
        _("Wie oft"),
        [("", _("— keine Angabe —")), ("einmalig", _("einmalig")), ("jaehrlich", _("jährlich"))],
        required=False,
    )
    payment = _choice_field(
        _("Wann wird bezahlt"),
        [
            ("", _("— keine Angabe —")),
            ("online_later", _("später online")),
            ("appointment", _("beim Termin vor Ort")),
            ("bescheid", _("nach einem schriftlichen Bescheid")),
        ],
        required=False,
    )
    note_de = _text_field(_("Hinweis (deutsch)"), required=False, rows=2)
    note_en = _text_field(_("Hinweis (englisch)"), required=False, rows=2)


class ParameterForm(forms.Form):
    param_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=63)
    label_de = _text_field(_("Bezeichnung (deutsch)"))
    label_en = _text_field(_("Bezeichnung (englisch)"))
    money = _choice_field(
        _("Art"), [("money", _("Betrag in Euro")), ("number", _("Zahl"))], initial="money"
    )
    default = forms.CharField(
        label=_("Betrag (z. B. 25,00; leer lassen, wenn keiner gilt)"),
        required=False,
        max_length=KEEP_CHARS,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    local = forms.BooleanField(
        label=_("Jede Gemeinde legt den Betrag selbst fest (der Betrag hier ist nur ein Beispiel)"),
        required=False,
    )


class FeeLineForm(forms.Form):
    line_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=63)
    label_de = _text_field(_("Bezeichnung (deutsch)"))
    label_en = _text_field(_("Bezeichnung (englisch)"))
    amount_kind = _choice_field(
        _("Betrag"),
        [("fixed", _("fester Betrag")), ("param", _("angelegter Betrag"))],
        widget=forms.RadioSelect,
        initial="fixed",
    )
    amount = forms.CharField(
        label=_("fester Betrag in Euro (z. B. 25,00)"),
        required=False,
        max_length=KEEP_CHARS,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    param = _choice_field(_("angelegter Betrag"), [], required=False)
    for_each = _choice_field(_("Berechnet"), [], required=False)

    def __init__(
        self,
        *args: Any,
        params: list[tuple[str, str]],
        groups: list[tuple[str, str]],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["param"].choices = [("", _("— bitte wählen —")), *params]
        self.fields["for_each"].choices = [
            ("", _("einmal")),
            *[(gid, _("für jeden Eintrag in „%(g)s“") % {"g": label}) for gid, label in groups],
        ]
