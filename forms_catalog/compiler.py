"""Turns a form definition into per-step Django forms and answer helpers.

`CompiledForm` is built once per version (see selectors.compiled_form). Its
step form classes work as django-formtools wizard step forms: pass the answers
given so far as the form kwarg `answers` (for visibility and for showing the
saved values) and the citizen's `language`.

Visibility has one meaning everywhere: a field, group or step whose
`visible_if` is not true is not validated, not stored, not summarised and not
printed. `CompiledForm.visible_answers` applies it to a whole answers dict.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils import timezone

from . import expressions, validators
from .definition import Definition, FieldSpec, GroupSpec, StepSpec, parse, tr, typed_value
from .expressions import Scope, evaluate, truthy
from .fields import (
    TEXT_TYPES,
    SpecField,
    check_upload,
    clean_choice,
    clean_date,
    clean_multichoice,
    clean_number,
    clean_text,
    file_limits,
    safe_filename,
    valid_attachment_ref,
)
from .messages import message

StoreUpload = Callable[[str, Any, str], dict[str, Any]]


def _language(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else "de"


# --- Render tree for the templates -------------------------------------------
@dataclass
class FieldNode:
    spec: FieldSpec
    name: str  # form field name without prefix
    html_name: str
    id: str
    label: str
    hint: str
    errors: list[str]
    required: bool
    widget: str
    value: Any = ""
    parts: dict[str, str] = field(default_factory=dict)
    options: list[dict[str, Any]] = field(default_factory=list)
    input_type: str = "text"
    autocomplete: str = ""
    inputmode: str = ""
    maxlength: int | None = None
    existing_files: list[dict[str, Any]] = field(default_factory=list)
    accept: str = ""
    multiple: bool = False
    conditional: bool = False
    unit: str = ""
    kind: str = "field"

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint:
            ids.append(self.hint_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def anchor(self) -> str:
        if self.widget == "date":
            return f"{self.id}_day"
        if self.widget in {"radios", "checkboxes"} and self.options:
            return self.options[0]["id"]
        return self.id


@dataclass
class ItemNode:
    index: int
    id: str
    legend: str
    children: list[FieldNode]
    remove_name: str
    can_remove: bool
    remove_label: str = ""


@dataclass
class GroupNode:
    spec: GroupSpec
    id: str
    legend: str
    hint: str
    repeatable: bool
    errors: list[str]
    children: list[FieldNode] = field(default_factory=list)
    items: list[ItemNode] = field(default_factory=list)
    count_name: str = ""
    count: int = 0
    add_name: str = ""
    can_add: bool = False
    add_label: str = ""
    conditional: bool = False
    kind: str = "group"

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        ids = [self.hint_id] if self.hint else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)


UI_TEXT = {
    "de": {
        "optional": "optional",
        "day": "Tag",
        "month": "Monat",
        "year": "Jahr",
        "choose": "Bitte auswählen",
        "uploaded": "Bereits hochgeladen",
        "delete_file": "Datei entfernen",
        "conditional": "Nur ausfüllen, wenn es nach Ihren Angaben auf dieser Seite zutrifft.",
        "date_hint": "Zum Beispiel: 27 3 2007",
        "euro": "in Euro",
    },
    "en": {
        "optional": "optional",
        "day": "Day",
        "month": "Month",
        "year": "Year",
        "choose": "Please select",
        "uploaded": "Already uploaded",
        "delete_file": "Remove file",
        "conditional": "Only fill in if it applies according to your answers on this page.",
        "date_hint": "For example: 27 3 2007",
        "euro": "in euros",
    },
}

BUTTON_TEXT = {
    "add": {"de": "Weiteren Eintrag hinzufügen: {label}", "en": "Add another: {label}"},
    "remove": {"de": "{label} entfernen", "en": "Remove {label}"},
}


class StepForm(forms.Form):
    """Base class of every compiled step form (subclassed per step by CompiledForm).

    kwargs: `answers` (dict, all answers saved so far, used for visibility and
    as initial values), `language` ("de"/"en"), `today` (date, for tests).
    Attributes after validation: `answers` (JSON answers of this step, only
    visible fields), `uploads` (field id -> new uploaded files),
    `pending_action` (set when an add/remove button was pressed: the form is
    then not valid, shows no errors, and must simply be rendered again).
    """

    compiled: CompiledForm
    step: StepSpec

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        answers: dict[str, Any] | None = None,
        language: str | None = None,
        today: datetime.date | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("initial", None)  # initial values come from `answers`
        super().__init__(data, files, **kwargs)
        self.language = _language(language or self.compiled.default_language())
        self.saved_answers: dict[str, Any] = dict(answers or {})
        self.today = today or timezone.localdate()
        self.pending_action: str | None = None
        self.item_counts: dict[str, int] = {}
        self.group_errors: dict[str, list[str]] = {}
        self._step_answers: dict[str, Any] = {}
        self.uploads: dict[str, list[Any]] = {}
        if self.is_bound:
            self.data = self._copy_data(self.data)
        self._init_counts()
        for name, spec in self._field_names():
            self.fields[name] = SpecField(spec, self.language)

    # -- structure --------------------------------------------------------
    def _copy_data(self, data: Any) -> Any:
        return data.copy() if hasattr(data, "copy") else dict(data)

    def _repeatable_groups(self) -> list[GroupSpec]:
        return [g for g in self.step.items if isinstance(g, GroupSpec) and g.repeatable]

    def _init_counts(self) -> None:
        for group in self._repeatable_groups():
            saved = self.saved_answers.get(group.id)
            default = max(group.min_items, len(saved) if isinstance(saved, list) else 0)
            count = min(default, group.max_items)
            if self.is_bound:
                raw = self.data.get(self.add_prefix(f"{group.id}-count"))
                if raw is not None and validators.ascii_digits(str(raw)[:4]):
                    count = min(int(str(raw)[:4]), group.max_items)
                if self.data.get(self.add_prefix(f"{group.id}-add")) is not None:
                    self.pending_action = f"add:{group.id}"
                    count = min(count + 1, group.max_items)
                removed = self.data.get(self.add_prefix(f"{group.id}-remove"))
                if removed is not None:
                    self.pending_action = f"remove:{group.id}"
                    try:
                        index = int(str(removed)[:4])
                    except ValueError:
                        index = -1
                    if 0 <= index < count and count > group.min_items:
                        self._shift_items(group, index, count)
                        count -= 1
                if hasattr(self.data, "_mutable"):
                    self.data._mutable = True
                self.data[self.add_prefix(f"{group.id}-count")] = str(count)
            self.item_counts[group.id] = count

    def _shift_items(self, group: GroupSpec, removed: int, count: int) -> None:
        """Drop item `removed` from the posted data, moving later items up by one."""
        pattern = re.compile(rf"^{re.escape(self.add_prefix(group.id))}-(\d+)-(.+)$")
        if hasattr(self.data, "_mutable"):
            self.data._mutable = True
        moved: dict[str, list] = {}
        for key in list(self.data.keys()):
            match = pattern.match(key)
            if not match:
                continue
            index = int(match.group(1))
            values = self.data.getlist(key) if hasattr(self.data, "getlist") else [self.data[key]]
            del self.data[key]
            if index == removed:
                continue
            new_index = index - 1 if index > removed else index
            moved[f"{self.add_prefix(group.id)}-{new_index}-{match.group(2)}"] = values
        for key, values in moved.items():
            if hasattr(self.data, "setlist"):
                self.data.setlist(key, values)
            else:
                self.data[key] = values[-1] if len(values) == 1 else values

    def _field_names(self) -> list[tuple[str, FieldSpec]]:
        names: list[tuple[str, FieldSpec]] = []
        for item in self.step.items:
            if isinstance(item, FieldSpec):
                names.append((item.id, item))
            elif not item.repeatable:
                names.extend((f.id, f) for f in item.fields)
            else:
                for index in range(self.item_counts.get(item.id, 0)):
                    names.extend((f"{item.id}-{index}-{f.id}", f) for f in item.fields)
        return names

    # -- visibility -------------------------------------------------------
    def _scope(self, values: dict[str, Any]) -> Scope:
        return self.compiled.scope(values, on_date=self.today)

    def _earlier_values(self) -> dict[str, Any]:
        """Typed answers of the other steps (this step's saved answers never leak in)."""
        own = set(self.step.answer_keys())
        pruned = self.compiled.visible_answers(
            {k: v for k, v in self.saved_answers.items() if k not in own}, on_date=self.today
        )
        return self.compiled.typed_answers(pruned)

    def _depends_on_step(self, expr: Any) -> bool:
        return bool(expressions.references(expr) & self.compiled.step_keys[self.step.id])

    # -- cleaning ---------------------------------------------------------
    def is_valid(self) -> bool:
        # Always run full_clean (it records `uploads` even when a button was pressed).
        valid = super().is_valid()
        return valid and self.pending_action is None

    def full_clean(self) -> None:
        if self.pending_action:
            self._errors = ErrorDict()
            self.cleaned_data = {}
            self._keep_uploads()
            return
        super().full_clean()

    def _keep_uploads(self) -> None:
        """On an add/remove press, still check new files so the page can keep those that
        passed (`uploads`): nothing the citizen chose is lost by pressing a button."""
        for spec in self.step.top_fields():
            if spec.type != "file":
                continue
            raw = self.fields[spec.id].widget.value_from_datadict(
                self.data, self.files, self.add_prefix(spec.id)
            )
            try:
                self._clean_files(spec, spec.id, raw)
            except ValidationError:
                self.uploads.pop(spec.id, None)

    def _clean_fields(self) -> None:
        if validators.nul_in_field_names(self.data):
            self.add_error(None, message("control_chars_names", self.language))
        values = self._earlier_values()
        answers: dict[str, Any] = {}
        for item in self.step.items:
            if isinstance(item, FieldSpec):
                self._clean_one(item, item.id, values, answers, self._scope(values))
                continue
            if not self.compiled.is_visible(item.visible_if, self._scope(values)):
                continue
            if not item.repeatable:
                for spec in item.fields:
                    self._clean_one(spec, spec.id, values, answers, self._scope(values))
                continue
            count = self.item_counts.get(item.id, 0)
            items: list[dict[str, Any]] = []
            fids = frozenset(f.id for f in item.fields)
            for index in range(count):
                item_answers: dict[str, Any] = {}
                item_values: dict[str, Any] = {}
                for spec in item.fields:
                    scope = self._scope(values)
                    scope.item, scope.item_fields, scope.index = item_values, fids, index + 1
                    self._clean_one(
                        spec, f"{item.id}-{index}-{spec.id}", item_values, item_answers, scope
                    )
                items.append(item_answers)
            if count < item.min_items:
                self._group_error(item, message("group_min", self.language, limit=item.min_items))
            answers[item.id] = items
            values[item.id] = [self.compiled.typed_item(item, a) for a in items]
        self._step_answers = answers
        self._values = values

    def _group_error(self, group: GroupSpec, text: str) -> None:
        self.group_errors.setdefault(group.id, []).append(text)
        self.add_error(None, text)

    def _clean_one(
        self,
        spec: FieldSpec,
        name: str,
        values: dict[str, Any],
        answers: dict[str, Any],
        scope: Scope,
    ) -> None:
        if not self.compiled.is_visible(spec.visible_if, scope):
            return
        widget = self.fields[name].widget
        raw = widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        try:
            value = self._clean_value(spec, name, raw)
        except ValidationError as error:
            self.add_error(name, error)
            return
        if value is None or value == [] or (spec.type == "consent" and value is False):
            if spec.required:
                key = {
                    "choice": "required_choice",
                    "yesno": "required_choice",
                    "multichoice": "required_choice",
                    "consent": "required_consent",
                    "file": "required_file",
                }.get(spec.type, "required")
                self.add_error(name, message(key, self.language))
            return
        answers[spec.id] = value
        values[spec.id] = typed_value(spec, value)
        self.cleaned_data[name] = value

    def _clean_value(self, spec: FieldSpec, name: str, raw: Any) -> Any:
        kind, language = spec.type, self.language
        if kind in TEXT_TYPES:
            return clean_text(spec, raw, language)
        if kind in {"number", "money"}:
            return clean_number(spec, raw, language)
        if kind == "date":
            return clean_date(spec, raw, language, self.today)
        if kind in {"choice", "yesno", "consent"}:
            return clean_choice(spec, raw, language)
        if kind == "multichoice":
            return clean_multichoice(spec, raw, language)
        if kind == "file":
            return self._clean_files(spec, name, raw)
        raise ValidationError(message("invalid_structure", language))

    def _clean_files(self, spec: FieldSpec, name: str, raw: Any) -> list[dict[str, Any]]:
        _, _, max_files = file_limits(spec)
        saved = self.saved_answers.get(spec.id)
        existing = (
            [i for i in saved if valid_attachment_ref(spec, i)] if isinstance(saved, list) else []
        )
        delete = {str(v) for v in raw.get("delete", [])}
        kept = [i for i in existing if i["attachment_id"] not in delete]
        uploads = [u for u in raw.get("uploads", []) if getattr(u, "name", "")]
        errors = []
        for upload in uploads:
            try:
                upload.portal_content_type = check_upload(spec, upload, self.language)
                upload.portal_name = safe_filename(upload.name)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        if uploads and not spec.raw.get("multiple"):
            kept = []  # a single-file field: the new file replaces the old one
        if len(kept) + len(uploads) > max_files:
            raise ValidationError(message("file_count", self.language, limit=max_files))
        if uploads:
            self.uploads[spec.id] = uploads
        # New uploads count as an answer for "required"; they join the answer in get_answers.
        return kept + [{"pending_upload": True}] * len(uploads) if uploads else kept

    def clean(self) -> dict[str, Any]:
        if self.errors:
            return self.cleaned_data
        values = getattr(self, "_values", {})
        scope = self._scope(values)
        for rule in self.step.rules:
            if evaluate(rule.expression, scope) is False:
                self._rule_error(rule.fields, tr(rule.message, self.language), prefix="")
        for group in self._repeatable_groups():
            items = values.get(group.id) or []
            fids = frozenset(f.id for f in group.fields)
            for index, item_values in enumerate(items):
                item_scope = self._scope(values)
                item_scope.item, item_scope.item_fields, item_scope.index = (
                    item_values,
                    fids,
                    index + 1,
                )
                for rule in group.rules:
                    if evaluate(rule.expression, item_scope) is False:
                        self._rule_error(
                            rule.fields, tr(rule.message, self.language), f"{group.id}-{index}-"
                        )
        return self.cleaned_data

    def _rule_error(self, field_ids: list[str], text: str, prefix: str) -> None:
        for fid in field_ids:
            if f"{prefix}{fid}" in self.fields:
                self.add_error(f"{prefix}{fid}", text)
                return
        self.add_error(None, text)

    # -- results ----------------------------------------------------------
    @property
    def answers(self) -> dict[str, Any]:
        """JSON answers of this step (visible fields only); requires is_valid()."""
        return self.get_answers()

    def get_answers(self, store_upload: StoreUpload | None = None) -> dict[str, Any]:
        """Answers of this step. New uploads are stored through `store_upload(field_id,
        upload, content_type) -> {"attachment_id", "name", "size", "content_type"}`;
        without it a step with new uploads raises ValueError."""
        if self.errors or self.pending_action:
            raise ValueError("answers are only available for a valid form")
        result = {}
        for key, value in self._step_answers.items():
            if isinstance(value, list) and any(
                isinstance(v, dict) and v.get("pending_upload") for v in value
            ):
                if store_upload is None:
                    raise ValueError(f"field {key!r} has new uploads: pass store_upload")
                kept = [v for v in value if not v.get("pending_upload")]
                stored = [
                    store_upload(key, upload, upload.portal_content_type)
                    for upload in self.uploads.get(key, [])
                ]
                value = kept + stored
            result[key] = value
        return result

    def released_attachment_ids(self) -> set[str]:
        """Ids of this step's earlier files that the form deletes or replaces (valid form).

        They still count as stored until the answers are saved; a storage quota
        should not count them against the new uploads that replace them.
        """
        released: set[str] = set()
        answers = getattr(self, "_step_answers", {})
        for spec in self.step.top_fields():
            saved = self.saved_answers.get(spec.id)
            if spec.type != "file" or not isinstance(saved, list):
                continue
            current = answers.get(spec.id) or []
            kept = {i.get("attachment_id") for i in current if isinstance(i, dict)}
            released |= {
                i["attachment_id"]
                for i in saved
                if isinstance(i, dict)
                and isinstance(i.get("attachment_id"), str)
                and i["attachment_id"] not in kept
            }
        return released

    def merged_answers(self, store_upload: StoreUpload | None = None) -> dict[str, Any]:
        """All answers with this step's replaced (the wizard saves this into the draft)."""
        merged = {k: v for k, v in self.saved_answers.items() if k not in self.step.answer_keys()}
        merged.update(self.get_answers(store_upload))
        return merged

    @property
    def error_summary(self) -> list[tuple[str, str]]:
        """(HTML id to link to, message) for the error summary at the top of the page."""
        if not self.is_bound or self.pending_action:
            return []
        self.errors  # noqa: B018 - runs validation once
        summary: list[tuple[str, str]] = []
        for node in self.nodes():
            if isinstance(node, FieldNode):
                summary.extend((node.anchor, e) for e in node.errors)
                continue
            summary.extend((node.id, e) for e in node.errors)
            children = node.children + [c for item in node.items for c in item.children]
            for child in children:
                summary.extend((child.anchor, e) for e in child.errors)
        grouped = {e for errors in self.group_errors.values() for e in errors}
        for error in self.non_field_errors():
            if error not in grouped:
                summary.append((f"{self.auto_id_for('__all__')}", error))
        return summary

    @property
    def ui(self) -> dict[str, str]:
        """Fixed interface texts in the form's language (for the templates)."""
        return UI_TEXT[self.language]

    def auto_id_for(self, name: str) -> str:
        return f"id_{self.add_prefix(name)}"

    # -- rendering --------------------------------------------------------
    def nodes(self) -> list[FieldNode | GroupNode]:
        """The render tree of this step (what templates/forms_catalog/step_fields.html walks)."""
        values = self._earlier_values()
        scope = self._scope(values)
        result: list[FieldNode | GroupNode] = []
        for item in self.step.items:
            if isinstance(item, FieldSpec):
                node = self._field_node(item, item.id, scope)
                if node:
                    result.append(node)
                continue
            if not self._renders(item.visible_if, scope):
                continue
            group_id = self.auto_id_for(item.id)
            group = GroupNode(
                spec=item,
                id=group_id,
                legend=tr(item.label, self.language),
                hint=tr(item.help, self.language),
                repeatable=item.repeatable,
                errors=self.group_errors.get(item.id, []),
                conditional=self._depends_on_step(item.visible_if),
            )
            if not item.repeatable:
                group.children = [n for f in item.fields if (n := self._field_node(f, f.id, scope))]
            else:
                count = self.item_counts.get(item.id, 0)
                group.count_name = self.add_prefix(f"{item.id}-count")
                group.count = count
                group.add_name = self.add_prefix(f"{item.id}-add")
                group.can_add = count < item.max_items
                item_label = tr(item.raw.get("item_label") or item.label, self.language)
                group.add_label = BUTTON_TEXT["add"][self.language].format(label=item_label)
                for index in range(count):
                    legend = item.item_label(index, self.language)
                    item_scope = self._scope(values)
                    item_scope.item = {}
                    item_scope.item_fields = frozenset(f.id for f in item.fields)
                    item_scope.index = index + 1
                    children = [
                        n
                        for f in item.fields
                        if (n := self._field_node(f, f"{item.id}-{index}-{f.id}", item_scope))
                    ]
                    group.items.append(
                        ItemNode(
                            index=index,
                            id=f"{group_id}-{index}",
                            legend=legend,
                            children=children,
                            remove_name=self.add_prefix(f"{item.id}-remove"),
                            can_remove=count > item.min_items,
                            remove_label=BUTTON_TEXT["remove"][self.language].format(label=legend),
                        )
                    )
            result.append(group)
        return result

    def _renders(self, expr: Any, scope: Scope) -> bool:
        if expr is None:
            return True
        if self._depends_on_step(expr) or (scope.item is not None and scope.item == {}):
            # Depends on answers on this very page: without JavaScript the page
            # cannot react, so the field is shown and ignored if it stays hidden.
            return True
        return self.compiled.is_visible(expr, scope)

    def _saved_value(self, name: str, spec: FieldSpec) -> Any:
        if spec.group_id:
            _, index, _ = name.split("-", 2)
            items = self.saved_answers.get(spec.group_id)
            if (
                isinstance(items, list)
                and int(index) < len(items)
                and isinstance(items[int(index)], dict)
            ):
                return items[int(index)].get(spec.id)
            return None
        return self.saved_answers.get(spec.id)

    def _field_node(self, spec: FieldSpec, name: str, scope: Scope) -> FieldNode | None:
        if not self._renders(spec.visible_if, scope):
            return None
        language = self.language
        html_name = self.add_prefix(name)
        node = FieldNode(
            spec=spec,
            name=name,
            html_name=html_name,
            id=f"id_{html_name}",
            label=tr(spec.label, language),
            hint=tr(spec.help, language),
            errors=list(self.errors.get(name, [])) if self.is_bound else [],
            required=spec.required,
            widget="input",
            autocomplete=spec.raw.get("autocomplete", ""),
            conditional=self._depends_on_step(spec.visible_if) if spec.visible_if else False,
            unit=tr(spec.raw.get("unit"), language),
        )
        widget = self.fields[name].widget
        if self.is_bound:
            raw = widget.value_from_datadict(self.data, self.files, html_name)
        else:
            raw = _raw_from_json(spec, self._saved_value(name, spec))
        kind = spec.type
        if kind in TEXT_TYPES or kind in {"number", "money"}:
            node.value = "" if raw is None else str(raw)[:20000]
            node.maxlength = spec.max_length if kind in TEXT_TYPES else 32
            node.widget = "textarea" if kind == "textarea" else "input"
            node.input_type = {"email": "email", "phone": "tel"}.get(kind, "text")
            node.inputmode = {
                "number": "numeric" if not spec.raw.get("decimals") else "decimal",
                "money": "decimal",
                "postcode": "numeric",
                "steuer_id": "numeric",
            }.get(kind, "")
            if kind == "pattern" and spec.raw.get("inputmode"):
                node.inputmode = spec.raw["inputmode"]
            if kind == "money" and not node.unit:
                node.unit = UI_TEXT[language]["euro"]
            if kind == "email" and not node.autocomplete:
                node.autocomplete = "email"
            if kind == "phone" and not node.autocomplete:
                node.autocomplete = "tel"
        elif kind == "date":
            node.widget = "date"
            node.hint = node.hint or UI_TEXT[language]["date_hint"]
            parts = raw if isinstance(raw, (list, tuple)) and len(raw) == 3 else ("", "", "")
            node.parts = {
                p: ("" if v is None else str(v)[:8])
                for p, v in zip(("day", "month", "year"), parts, strict=True)
            }
        elif kind in {"choice", "yesno"}:
            current = "" if raw is None else str(raw)
            options = spec.options if kind == "choice" else _yes_no(language)
            node.widget = "select" if spec.raw.get("widget") == "select" else "radios"
            node.options = [
                {
                    "value": str(o["value"]),
                    "label": tr(o["label"], language),
                    "checked": str(o["value"]) == current,
                    "id": f"{node.id}_{i}",
                }
                for i, o in enumerate(options)
            ]
        elif kind == "multichoice":
            chosen = {str(v) for v in (raw or [])} if isinstance(raw, (list, tuple)) else set()
            node.widget = "checkboxes"
            node.options = [
                {
                    "value": str(o["value"]),
                    "label": tr(o["label"], language),
                    "checked": str(o["value"]) in chosen,
                    "id": f"{node.id}_{i}",
                }
                for i, o in enumerate(spec.options)
            ]
        elif kind == "consent":
            node.widget = "checkbox"
            node.value = "on"
            node.options = [{"checked": str(raw) in {"on", "true", "True", "yes"}}]
        elif kind == "file":
            extensions, _, max_files = file_limits(spec)
            node.widget = "file"
            node.multiple = max_files > 1
            node.accept = ",".join(f".{e}" for e in extensions)
            saved = self.saved_answers.get(spec.id)
            node.existing_files = [
                {**item, "delete_id": f"{node.id}-delete-{i}"}
                for i, item in enumerate(saved if isinstance(saved, list) else [])
                if valid_attachment_ref(spec, item)
            ]
        return node


def _yes_no(language: str) -> list[dict[str, Any]]:
    return [
        {"value": "yes", "label": {"de": "Ja", "en": "Yes"}},
        {"value": "no", "label": {"de": "Nein", "en": "No"}},
    ]


def _raw_from_json(spec: FieldSpec, value: Any) -> Any:
    """A stored answer in the shape the request would carry (for re-display)."""
    if value is None:
        return None
    if spec.type == "date":
        iso = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
        match = re.fullmatch(iso, value) if isinstance(value, str) else None
        if not match:
            return None
        year, month, day = match.groups()
        return (str(int(day)), str(int(month)), year)
    if spec.type == "yesno":
        return "yes" if value is True else "no" if value is False else None
    if spec.type == "consent":
        return "on" if value is True else None
    if spec.type == "money":
        return str(value)
    return value


def form_data_for_field(spec: FieldSpec, name: str, value: Any) -> dict[str, Any]:
    """POST-like data for one stored answer (used to re-validate stored answers)."""
    raw = _raw_from_json(spec, value)
    if raw is None or spec.type == "file":
        return {}
    if spec.type == "date":
        return dict(zip((f"{name}_day", f"{name}_month", f"{name}_year"), raw, strict=True))
    return {name: raw}


# --- The compiled form --------------------------------------------------------
class CompiledForm:
    """Everything derived from one form definition. Immutable; shared between threads."""

    def __init__(self, definition: dict[str, Any], *, version_id: int | None = None) -> None:
        self.version_id = version_id
        self.definition: Definition = parse(definition)
        self.step_keys: dict[str, set[str]] = {}
        for step in self.definition.steps:
            keys = set(step.answer_keys())
            for group in step.items:
                if isinstance(group, GroupSpec) and group.repeatable:
                    keys |= {f.id for f in group.fields}
            self.step_keys[step.id] = keys
        self._forms: dict[str, type[StepForm]] = {}
        for step in self.definition.steps:
            self._forms[step.id] = type(
                f"StepForm_{re.sub(r'[^A-Za-z0-9_]', '_', step.id)}",
                (StepForm,),
                {"compiled": self, "step": step},
            )

    # -- API used by the wizard ---------------------------------------------
    @property
    def steps(self) -> list[StepSpec]:
        return self.definition.steps

    def step_ids(self) -> list[str]:
        return [s.id for s in self.definition.steps]

    def form_list(self) -> list[tuple[str, type[StepForm]]]:
        """[(step id, form class)] in order: the `form_list` of a formtools WizardView."""
        return [(s.id, self._forms[s.id]) for s in self.definition.steps]

    def form_class(self, step_id: str) -> type[StepForm]:
        return self._forms[step_id]

    def step_title(self, step_id: str, language: str) -> str:
        return tr(self.definition.step(step_id).title, _language(language))

    def step_intro(self, step_id: str, language: str) -> str:
        return tr(self.definition.step(step_id).intro, _language(language))

    def default_language(self) -> str:
        return "de"

    def step_is_visible(
        self, step_id: str, answers: dict[str, Any], on_date: datetime.date | None = None
    ) -> bool:
        """Whether a step applies given the answers so far (formtools `condition_dict`)."""
        step = self.definition.step(step_id)
        if step.visible_if is None:
            return True
        pruned = self.visible_answers(answers, on_date=on_date)
        return self.is_visible(step.visible_if, self.scope(self.typed_answers(pruned), on_date))

    def visible_step_ids(self, answers: dict[str, Any], on_date: datetime.date | None = None):
        return [s for s in self.step_ids() if self.step_is_visible(s, answers, on_date)]

    # -- visibility and typed values ------------------------------------------
    def scope(self, values: dict[str, Any], on_date: datetime.date | None = None, params=None):
        groups = {
            k: v for k, v in values.items() if isinstance(v, list) and k in self.definition.groups
        }
        return Scope(values=values, params=params or {}, on_date=on_date, groups=groups)

    @staticmethod
    def is_visible(expr: Any, scope: Scope) -> bool:
        return expr is None or truthy(evaluate(expr, scope))

    def typed_item(self, group: GroupSpec, item: dict[str, Any]) -> dict[str, Any]:
        specs = {f.id: f for f in group.fields}
        return {k: typed_value(specs[k], v) for k, v in item.items() if k in specs}

    def typed_answers(self, answers: dict[str, Any]) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for key, value in answers.items():
            if key in self.definition.fields:
                typed[key] = typed_value(self.definition.fields[key], value)
            elif key in self.definition.groups and isinstance(value, list):
                group = self.definition.groups[key]
                typed[key] = [self.typed_item(group, i) for i in value if isinstance(i, dict)]
        return typed

    def visible_answers(
        self, answers: dict[str, Any], on_date: datetime.date | None = None
    ) -> dict[str, Any]:
        """Answers with everything hidden (or unknown to the definition) removed."""
        result: dict[str, Any] = {}
        values: dict[str, Any] = {}
        answers = answers if isinstance(answers, dict) else {}

        def keep(spec: FieldSpec, source: dict, target: dict, tvalues: dict, scope: Scope):
            if spec.id not in source or not self.is_visible(spec.visible_if, scope):
                return
            value = source[spec.id]
            if value is None or value == "" or value == []:
                return
            target[spec.id] = value
            tvalues[spec.id] = typed_value(spec, value)

        for step in self.definition.steps:
            if not self.is_visible(step.visible_if, self.scope(values, on_date)):
                continue
            for item in step.items:
                if isinstance(item, FieldSpec):
                    keep(item, answers, result, values, self.scope(values, on_date))
                    continue
                if not self.is_visible(item.visible_if, self.scope(values, on_date)):
                    continue
                if not item.repeatable:
                    for spec in item.fields:
                        keep(spec, answers, result, values, self.scope(values, on_date))
                    continue
                raw_items = answers.get(item.id)
                if not isinstance(raw_items, list):
                    continue
                fids = frozenset(f.id for f in item.fields)
                kept_items: list[dict[str, Any]] = []
                for index, raw_item in enumerate(raw_items[: item.max_items]):
                    if not isinstance(raw_item, dict):
                        continue
                    kept: dict[str, Any] = {}
                    item_values: dict[str, Any] = {}
                    for spec in item.fields:
                        scope = self.scope(values, on_date)
                        scope.item, scope.item_fields, scope.index = item_values, fids, index + 1
                        keep(spec, raw_item, kept, item_values, scope)
                    kept_items.append(kept)
                result[item.id] = kept_items
                values[item.id] = [self.typed_item(item, i) for i in kept_items]
        return result

    # -- whole-application checks ----------------------------------------------
    def form_data(self, step_id: str, answers: dict[str, Any], prefix: str | None = None):
        """POST-like data that reproduces stored answers in a step form (no files)."""
        step = self.definition.step(step_id)

        def name(n: str) -> str:
            return f"{prefix}-{n}" if prefix else n

        data: dict[str, Any] = {}
        for item in step.items:
            if isinstance(item, FieldSpec):
                data.update(form_data_for_field(item, name(item.id), answers.get(item.id)))
            elif not item.repeatable:
                for spec in item.fields:
                    data.update(form_data_for_field(spec, name(spec.id), answers.get(spec.id)))
            else:
                items = answers.get(item.id) if isinstance(answers.get(item.id), list) else []
                data[name(f"{item.id}-count")] = str(len(items))
                for index, entry in enumerate(items):
                    entry = entry if isinstance(entry, dict) else {}
                    for spec in item.fields:
                        data.update(
                            form_data_for_field(
                                spec, name(f"{item.id}-{index}-{spec.id}"), entry.get(spec.id)
                            )
                        )
        # A multichoice answer is a list; QueryDict-like consumers read it via getlist.
        return data

    def validate_answers(
        self, answers: dict[str, Any], *, language: str = "de", today: datetime.date | None = None
    ) -> list[tuple[str, str, str]]:
        """Re-check a complete set of stored answers, step by step.

        Returns [(step id, field name, message)]; empty when the application is
        complete and valid. Use before submitting a draft.
        """
        problems: list[tuple[str, str, str]] = []
        for step in self.definition.steps:
            if not self.step_is_visible(step.id, answers, today):
                continue
            form = self._forms[step.id](
                data=self.form_data(step.id, answers), answers=answers, language=language,
                today=today,
            )  # fmt: skip
            if not form.is_valid():
                for field_name, errors in form.errors.items():
                    problems.extend((step.id, field_name, e) for e in errors)
        return problems
