"""The one place that knows how the catalogue's compiled forms are driven by the wizard.

Everything the citizen pages need from `forms_catalog.selectors.compiled_form`
goes through FormFlow, so the wizard, the check page and the tests speak one
small vocabulary: step ids, visible steps, a form per step, the answers a
valid step contributes, and a final check of all answers.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms

from forms_catalog.definition import GroupSpec
from forms_catalog.fields import field_type
from forms_catalog.models import FormVersion
from forms_catalog.selectors import compiled_form


class FormFlow:
    def __init__(self, version: FormVersion, language: str):
        self.version = version
        self.language = language
        self.compiled = compiled_form(version=version)

    def step_ids(self) -> list[str]:
        return self.compiled.step_ids()

    def title(self, step_id: str) -> str:
        return self.compiled.step_title(step_id, self.language)

    def intro(self, step_id: str) -> str:
        return self.compiled.step_intro(step_id, self.language)

    def visible_step_ids(self, answers: dict[str, Any]) -> list[str]:
        return self.compiled.visible_step_ids(answers)

    def form_class(self, step_id: str) -> type[forms.Form]:
        return self.compiled.form_class(step_id)

    def form_kwargs(self, answers: dict[str, Any]) -> dict[str, Any]:
        return {"answers": answers, "language": self.language}

    def merged_answers(self, form: forms.Form, store_upload) -> dict[str, Any]:
        """All answers with the valid step's answers replaced; new files go through store_upload."""
        return form.merged_answers(store_upload)

    def released_attachment_ids(self, form: forms.Form) -> set[str]:
        """Earlier files of the valid step that its answers delete or replace."""
        return form.released_attachment_ids()

    def problems(
        self, answers: dict[str, Any], steps: Collection[str] | None = None
    ) -> list[tuple[str, str, str]]:
        """[(step id, field, message)] of a complete application; empty when it may be submitted.

        With `steps`, only those steps are checked (against all the answers)."""
        return self.compiled.validate_answers(answers, language=self.language, steps=steps)

    def step_receives_files(self, step_id: str) -> bool:
        """Whether any field of the step (inside groups too) takes files."""
        for item in self.compiled.definition.step(step_id).items:
            specs = item.fields if isinstance(item, GroupSpec) else [item]
            if any(field_type(spec.type).receives_files for spec in specs):
                return True
        return False

    def form_data(self, step_id: str, answers: dict[str, Any], prefix: str) -> dict[str, Any]:
        """POST-like data reproducing stored answers (to show a stored step's errors again)."""
        return self.compiled.form_data(step_id, answers, prefix=prefix)

    def failed_field_keys(self, form: forms.Form, step_id: str) -> list[str]:
        """The funnel keys of the fields `form` refused: "field", "group.field" for a
        repeatable group's field (once, whichever items failed), ":step" for errors of the
        page as a whole (rules without a field, group limits). No values, only ids."""
        if not form.is_bound or getattr(form, "pending_action", None):
            return []
        keys: set[str] = set()
        for name in form.errors:
            spec = getattr(form.fields.get(name), "spec", None)
            if spec is None:
                keys.add(f":{step_id}")
            else:
                keys.add(f"{spec.group_id}.{spec.id}" if spec.group_id else spec.id)
        return sorted(keys)
