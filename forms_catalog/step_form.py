"""The step form: one page of a compiled form as a Django form.

`CompiledForm` (compiler.py) subclasses `StepForm` once per step. Cleaning
walks the step once (`visibility.walk_step`) and lets each field's type clean
its raw input (`fields`); all messages are in the form's language.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.forms.utils import ErrorDict
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from . import expressions, validators
from .definition import FieldSpec, GroupSpec, StepSpec, tr
from .expressions import Scope, evaluate
from .fields import CleanContext, field_type
from .fields.file import file_limits, page_upload_note
from .render import FieldNode, GroupNode, NodeBuilder, ui_texts
from .visibility import StepVisitor, walk_step

if TYPE_CHECKING:
    from .compiler import CompiledForm

StoreUpload = Callable[[str, Any, str], dict[str, Any]]

FIELDS_TEMPLATE = "forms_catalog/step_fields.html"
# Rendered fields of unbound step forms, per process (see StepForm.fields_html).
# A few KB each; the key holds the CompiledForm itself, so an entry of a changed
# draft definition (a new CompiledForm, see selectors.compiled_form) is never
# reused and simply ages out.
_FRAGMENT_CACHE_SIZE = 512
_fragments: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()
_fragments_lock = threading.Lock()


def fields_html_cache_clear(**_kwargs: Any) -> None:
    """Forget every cached rendering (settings such as upload limits are part of the HTML)."""
    with _fragments_lock:
        _fragments.clear()


setting_changed.connect(fields_html_cache_clear, dispatch_uid="forms-catalog-fields-html")


def form_language(language: str | None) -> str:
    """The portal language a form is shown in ("en" or "de")."""
    return "en" if (language or "").lower().startswith("en") else "de"


class SpecField(forms.Field):
    """A Django form field that carries its definition; cleaning is done by the step form."""

    def __init__(self, spec: FieldSpec, language: str) -> None:
        super().__init__(
            required=False, label=tr(spec.label, language), widget=field_type(spec.type).widget()
        )
        self.spec = spec


class _Cleaner(StepVisitor):
    """Cleans the posted values of one step (the walk of `StepForm._clean_fields`)."""

    def __init__(self, form: StepForm) -> None:
        self.form = form

    def entries(self, group: GroupSpec) -> list[tuple[int, Any]]:
        return [(i, None) for i in range(self.form.item_counts.get(group.id, 0))]

    def group_end(self, group: GroupSpec, count: int) -> None:
        if group.repeatable and count < group.min_items:
            self.form.group_error(
                group,
                ngettext(
                    "Bitte geben Sie bei „%(label)s“ mindestens %(limit)s Eintrag an.",
                    "Bitte geben Sie bei „%(label)s“ mindestens %(limit)s Einträge an.",
                    group.min_items,
                )
                % {"label": tr(group.label, self.form.language), "limit": group.min_items},
            )

    def field(self, spec: FieldSpec, name: str, scope: Scope, source: Any) -> Any:
        return self.form.clean_one(spec, name)


class StepForm(forms.Form):
    """Base class of every compiled step form (subclassed per step by CompiledForm).

    kwargs: `answers` (dict, all answers saved so far, used for visibility and
    as initial values), `language` ("de"/"en"), `today` (date, for tests).
    Attributes after validation: `answers` (JSON answers of this step, only
    visible fields), `uploads` (field id -> new uploaded files that passed
    their checks), `upload_errors` (field name -> why its new files were refused),
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
        self.language = form_language(language or self.compiled.default_language())
        self.saved_answers: dict[str, Any] = dict(answers or {})
        self.today = today or timezone.localdate()
        self.pending_action: str | None = None
        self.item_counts: dict[str, int] = {}
        self.group_errors: dict[str, list[str]] = {}
        self._step_answers: dict[str, Any] = {}
        self.uploads: dict[str, list[Any]] = {}
        self.upload_errors: dict[str, list[str]] = {}
        if self.is_bound:
            self.data = self._copy_data(self.data)
        self._init_counts()
        for name, spec in self._field_names():
            self.fields[name] = SpecField(spec, self.language)

    @contextmanager
    def _in_language(self) -> Iterator[None]:
        """Messages and formats follow the form's language, not the request's."""
        with translation.override(self.language):
            yield

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

    def depends_on_step(self, expr: Any) -> bool:
        """Whether an expression refers to an answer given on this very step."""
        return bool(expressions.references(expr) & self.compiled.step_keys[self.step.id])

    # -- cleaning ---------------------------------------------------------
    def is_valid(self) -> bool:
        # Always run full_clean (it records `uploads` even when a button was pressed).
        valid = super().is_valid()
        return valid and self.pending_action is None

    def full_clean(self) -> None:
        with self._in_language():
            if self.pending_action:
                self._errors = ErrorDict()
                self.cleaned_data = {}
                self._keep_uploads()
                return
            super().full_clean()

    def _context(self, spec: FieldSpec) -> CleanContext:
        saved = None if spec.group_id else self.saved_answers.get(spec.id)
        return CleanContext(
            language=self.language, today=self.today, saved=saved, uploads=self.uploads
        )

    def _raw(self, name: str) -> Any:
        return self.fields[name].widget.value_from_datadict(
            self.data, self.files, self.add_prefix(name)
        )

    def _keep_uploads(self) -> None:
        """On an add/remove press, still check new files so the page can keep those that
        passed (`uploads`): nothing the citizen chose is lost by pressing a button."""
        for spec in self.step.top_fields():
            kind = field_type(spec.type)
            if not kind.receives_files:
                continue
            try:
                kind.clean(spec, self._raw(spec.id), self._context(spec))
            except ValidationError:
                self.uploads.pop(spec.id, None)

    def _clean_fields(self) -> None:
        if validators.nul_in_field_names(self.data):
            self.add_error(
                None,
                gettext(
                    "Die Anfrage enthielt unzulässige Steuerzeichen und wurde nicht gespeichert. "
                    "Bitte prüfen Sie Ihre Angaben und senden Sie die Seite erneut ab."
                ),
            )
        values = self._earlier_values()
        self._step_answers = walk_step(
            self.step, _Cleaner(self), values=values, scope_of=self._scope
        )
        self._values = values

    def group_error(self, group: GroupSpec, text: str) -> None:
        self.group_errors.setdefault(group.id, []).append(text)
        self.add_error(None, text)

    def clean_one(self, spec: FieldSpec, name: str) -> Any:
        """Clean one shown field; its JSON answer, or None (errors are added to the form)."""
        kind = field_type(spec.type)
        try:
            value = kind.clean(spec, self._raw(name), self._context(spec))
        except ValidationError as error:
            self.add_error(name, error)
            if kind.receives_files:
                self.upload_errors.setdefault(name, []).extend(error.messages)
            return None
        if kind.is_unanswered(value):
            if spec.required:
                self.add_error(name, kind.required_message(tr(spec.label, self.language)))
            return None
        self.cleaned_data[name] = value
        return value

    def _invalid_ids(self, prefix: str = "") -> set[str]:
        """Ids of this step's fields (and their groups) whose input was refused;
        with `prefix` ("dogs-0-") only the fields of that group item."""
        invalid: set[str] = set()
        for name, spec in self._field_names():
            if name not in self._errors or not name.startswith(prefix):
                continue
            if prefix or name == spec.id:
                invalid.add(spec.id)
            if spec.group_id and not prefix:
                # One refused item field holds back rules over the whole group.
                invalid.add(spec.group_id)
        return invalid

    def clean(self) -> dict[str, Any]:
        # Every rule whose fields were all accepted runs now, so the citizen sees
        # all problems of the page at once; a rule over a refused field would
        # only judge a missing value and waits until that field is corrected.
        values = getattr(self, "_values", {})
        scope = self._scope(values)
        invalid = self._invalid_ids()
        for rule in self.step.rules:
            if expressions.references(rule.expression) & invalid:
                continue
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
                item_invalid = invalid | self._invalid_ids(f"{group.id}-{index}-")
                for rule in group.rules:
                    if expressions.references(rule.expression) & item_invalid:
                        continue
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

    def upload_refused(self, name: str | None, message: str) -> None:
        """A file of field `name` was refused after cleaning (e.g. by storage): show it there."""
        if name not in self.fields:
            if message not in self.non_field_errors():
                self.add_error(None, message)
            return
        known = self.upload_errors.setdefault(name, [])
        if message not in known:
            known.append(message)
            self.add_error(name, message)

    def show_refused_uploads(self, refused: dict[str, list[str]]) -> None:
        """Show why files were refused at their own fields, in place of what a later
        validation against the stored files says there.

        The wizard validates a page again once the files that passed are stored;
        the refused files are then simply absent, and a required field would
        wrongly ask for a file instead of saying why the chosen one was refused.
        """
        self.errors  # noqa: B018 - validation first, so its errors are replaced, not added to
        for name, messages in refused.items():
            if name not in self.fields or not messages:
                continue
            self._errors[name] = self.error_class(list(messages), renderer=self.renderer)
            self.cleaned_data.pop(name, None)
            self.upload_errors[name] = list(messages)

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
            if not field_type(spec.type).receives_files or not isinstance(saved, list):
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
    def upload_note(self) -> str:
        """What the page says about all its files together, if they may exceed one request."""
        with self._in_language():
            return page_upload_note(
                [
                    file_limits(spec)
                    for spec in self.step.top_fields()
                    if field_type(spec.type).receives_files
                ]
            )

    @cached_property
    def ui(self) -> dict[str, str]:
        """Fixed interface texts in the form's language (for the templates).

        Computed once per form: every field template reads it, and each reading
        would switch the active translation twice."""
        with self._in_language():
            return ui_texts()

    def auto_id_for(self, name: str) -> str:
        return f"id_{self.add_prefix(name)}"

    # -- rendering --------------------------------------------------------
    def fields_html(self) -> SafeString:
        """The step's fields as HTML (what `forms_catalog/step_fields.html` renders).

        An unbound form's HTML depends only on the definition, the language,
        today's date and the answers the step shows or its conditions read, so it
        is rendered once per process for each combination of those (published
        versions never change, see selectors.compiled_form) and reused: the first
        visit of a step is the same page for every citizen. A bound form (errors,
        typed input) is always rendered afresh.
        """
        key = self._fields_html_key()
        if key is not None:
            with _fragments_lock:
                cached = _fragments.get(key)
                if cached is not None:
                    _fragments.move_to_end(key)
                    return cached
        html = mark_safe(render_to_string(FIELDS_TEMPLATE, {"form": self}))  # noqa: S308 - template output
        if key is not None:
            with _fragments_lock:
                _fragments[key] = html
                while len(_fragments) > _FRAGMENT_CACHE_SIZE:
                    _fragments.popitem(last=False)
        return html

    def _fields_html_key(self) -> tuple[Any, ...] | None:
        """Everything an unbound form's rendering depends on, or None (not cacheable)."""
        if self.is_bound or self.pending_action or self.upload_errors or self.group_errors:
            return None
        own_keys = self.compiled.step_keys[self.step.id]
        own = {k: v for k, v in self.saved_answers.items() if k in own_keys}
        read = self._referenced_ids() - own_keys
        earlier = self._earlier_values()
        outside = {k: earlier[k] for k in sorted(read) if k in earlier}
        try:
            answers = json.dumps([own, outside], sort_keys=True, default=repr)
        except (TypeError, ValueError):
            return None
        return (
            self.compiled,
            self.step.id,
            self.prefix,
            self.auto_id,
            self.language,
            get_language(),
            self.today,
            tuple(sorted(self.item_counts.items())),
            answers,
        )

    def _referenced_ids(self) -> set[str]:
        """Ids the conditions of this step's fields and groups read (and their groups)."""
        refs: set[str] = set()
        for item in self.step.items:
            refs |= expressions.references(item.visible_if)
            if isinstance(item, GroupSpec):
                for spec in item.fields:
                    refs |= expressions.references(spec.visible_if)
        for group_id, group in self.compiled.definition.groups.items():
            if any(spec.id in refs for spec in group.fields):
                refs.add(group_id)
        return refs

    def nodes(self) -> list[FieldNode | GroupNode]:
        """The render tree of this step (what templates/forms_catalog/step_fields.html walks)."""
        self.errors  # noqa: B018 - validation first, so the nodes carry the errors
        with self._in_language():
            builder = NodeBuilder(self)
            values = self._earlier_values()
            walk_step(self.step, builder, values=values, scope_of=self._scope)
            return builder.nodes

    def saved_value(self, name: str, spec: FieldSpec) -> Any:
        """The stored answer behind a form field name (inside repeatable items too)."""
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
