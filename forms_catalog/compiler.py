"""Turns a form definition into per-step Django forms and answer helpers.

`CompiledForm` is built once per version (see selectors.compiled_form). Its
step form classes (step_form.StepForm) are the citizen wizard's step forms:
pass the answers given so far as the form kwarg `answers` (for
visibility and for showing the saved values) and the citizen's `language`.

Visibility has one meaning everywhere (see visibility.py);
`CompiledForm.visible_answers` applies it to a whole answers dict.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from typing import Any

from .definition import Definition, FieldSpec, GroupSpec, StepSpec, parse, tr
from .expressions import Scope
from .fields import field_type, typed_value
from .step_form import StepForm, form_language
from .visibility import StepVisitor, is_visible, typed_item, walk_step


def form_data_for_field(spec: FieldSpec, name: str, value: Any) -> dict[str, Any]:
    """POST-like data for one stored answer (used to re-validate stored answers)."""
    return field_type(spec.type).form_data(spec, name, value)


class _KeepVisible(StepVisitor):
    """Keeps the stored answers of shown fields (the walk of `visible_answers`)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def entries(self, group: GroupSpec) -> list[tuple[int, Any]] | None:
        raw_items = self.answers.get(group.id)
        if not isinstance(raw_items, list):
            return None
        return [
            (index, raw_item)
            for index, raw_item in enumerate(raw_items[: group.max_items])
            if isinstance(raw_item, dict)
        ]

    def field(self, spec: FieldSpec, name: str, scope: Scope, source: Any) -> Any:
        source = self.answers if source is None else source
        value = source.get(spec.id)
        return None if value == "" or value == [] else value


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
        """[(step id, form class)] in the definition's order."""
        return [(s.id, self._forms[s.id]) for s in self.definition.steps]

    def form_class(self, step_id: str) -> type[StepForm]:
        return self._forms[step_id]

    def step_title(self, step_id: str, language: str) -> str:
        return tr(self.definition.step(step_id).title, form_language(language))

    def step_intro(self, step_id: str, language: str) -> str:
        return tr(self.definition.step(step_id).intro, form_language(language))

    def default_language(self) -> str:
        return "de"

    def step_is_visible(
        self, step_id: str, answers: dict[str, Any], on_date: datetime.date | None = None
    ) -> bool:
        """Whether a step applies given the answers so far."""
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
        return is_visible(expr, scope)

    def typed_item(self, group: GroupSpec, item: dict[str, Any]) -> dict[str, Any]:
        return typed_item(group, item)

    def typed_answers(self, answers: dict[str, Any]) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for key, value in answers.items():
            if key in self.definition.fields:
                typed[key] = typed_value(self.definition.fields[key], value)
            elif key in self.definition.groups and isinstance(value, list):
                group = self.definition.groups[key]
                typed[key] = [typed_item(group, i) for i in value if isinstance(i, dict)]
        return typed

    def visible_answers(
        self, answers: dict[str, Any], on_date: datetime.date | None = None
    ) -> dict[str, Any]:
        """Answers with everything hidden (or unknown to the definition) removed."""
        result: dict[str, Any] = {}
        values: dict[str, Any] = {}
        answers = answers if isinstance(answers, dict) else {}
        keep = _KeepVisible(answers)

        def scope_of(current: dict[str, Any]) -> Scope:
            return self.scope(current, on_date)

        for step in self.definition.steps:
            if not self.is_visible(step.visible_if, scope_of(values)):
                continue
            result.update(walk_step(step, keep, values=values, scope_of=scope_of))
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
        self,
        answers: dict[str, Any],
        *,
        language: str = "de",
        today: datetime.date | None = None,
        steps: Collection[str] | None = None,
    ) -> list[tuple[str, str, str]]:
        """Re-check a complete set of stored answers, step by step.

        Returns [(step id, field name, message)]; empty when the application is
        complete and valid. Use before submitting a draft. With `steps`, only
        those steps are checked (each still against all the answers, so rules
        and conditions that read other steps apply as before).
        """
        problems: list[tuple[str, str, str]] = []
        for step in self.definition.steps:
            if steps is not None and step.id not in steps:
                continue
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
