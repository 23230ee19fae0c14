"""Answers as people read them (summary page, PDFs) and as machines read them (export)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from .compiler import CompiledForm
from .definition import FieldSpec, GroupSpec, tr
from .fields import display_value, export_value


@dataclass(frozen=True)
class SummaryRow:
    path: str  # e.g. "surname" or "dogs[1].chip_number"
    label: str
    value: str  # display text, never HTML
    step_id: str


@dataclass(frozen=True)
class SummarySection:
    step_id: str
    title: str
    rows: list[SummaryRow] = field(default_factory=list)


def summarize(
    compiled: CompiledForm, answers: dict[str, Any], language: str, on_date=None
) -> list[SummarySection]:
    language = "en" if language == "en" else "de"
    if not compiled.steps:
        return _plain_listing(answers, language)
    visible = compiled.visible_answers(answers, on_date=on_date)
    visible_steps = set(compiled.visible_step_ids(answers, on_date))
    sections = []
    for step in compiled.steps:
        if step.id not in visible_steps:
            continue
        rows: list[SummaryRow] = []

        def row(
            spec: FieldSpec,
            value: Any,
            path: str,
            prefix: str = "",
            rows: list[SummaryRow] = rows,
            step_id: str = step.id,
        ) -> None:
            label = tr(spec.label, language)
            rows.append(
                SummaryRow(
                    path=path,
                    label=f"{prefix}: {label}" if prefix else label,
                    value=display_value(spec, value, language),
                    step_id=step_id,
                )
            )

        for item in step.items:
            if isinstance(item, FieldSpec):
                if item.id in visible or _shown_empty(compiled, item, visible, on_date):
                    row(item, visible.get(item.id), item.id)
                continue
            assert isinstance(item, GroupSpec)
            legend = tr(item.label, language)
            if not _shown_empty(compiled, item, visible, on_date):
                continue  # a hidden group: none of its fields is listed
            if not item.repeatable:
                for spec in item.fields:
                    if spec.id in visible or _shown_empty(compiled, spec, visible, on_date):
                        row(spec, visible.get(spec.id), spec.id, legend)
                continue
            if item.id not in visible:
                continue
            entries = visible[item.id]
            if not entries:
                rows.append(SummaryRow(item.id, legend, "—", step.id))
            for index, entry in enumerate(entries):
                prefix = item.item_label(index, language)
                for spec in item.fields:
                    if spec.id in entry:
                        row(spec, entry[spec.id], f"{item.id}[{index}].{spec.id}", prefix)
        sections.append(SummarySection(step.id, tr(step.title, language), rows))
    return sections


def _plain_listing(answers: Any, language: str) -> list[SummarySection]:
    """A version without steps (a placeholder, never a published catalogue form) has no
    labels to offer: list what was stored, so nothing becomes invisible."""
    if not isinstance(answers, dict) or not answers:
        return []
    rows = [
        SummaryRow(path=str(key), label=str(key), value=_plain(value), step_id="")
        for key, value in answers.items()
    ]
    with translation.override(language):
        title = gettext("Angaben")
    return [SummarySection("", title, rows)]


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return "—" if value is None or value == "" else str(value)


def _shown_empty(
    compiled: CompiledForm, spec: FieldSpec | GroupSpec, visible: dict, on_date
) -> bool:
    """A visible but unanswered optional field is listed as "—"; a hidden one never."""
    if spec.visible_if is None:
        return True
    scope = compiled.scope(compiled.typed_answers(visible), on_date=on_date)
    return compiled.is_visible(spec.visible_if, scope)


def export(
    compiled: CompiledForm, answers: dict[str, Any], *, meta: dict[str, Any], on_date=None
) -> dict[str, Any]:
    """Machine-readable answers: only visible ones, normalised JSON values, plus labels."""
    if not compiled.steps:
        return {**meta, "answers": answers if isinstance(answers, dict) else {}, "fields": []}
    visible = compiled.visible_answers(answers, on_date=on_date)
    fields: list[dict[str, Any]] = []
    for step in compiled.steps:
        for item in step.items:
            specs = [item] if isinstance(item, FieldSpec) else item.fields
            if isinstance(item, GroupSpec) and item.repeatable:
                for index, entry in enumerate(visible.get(item.id) or []):
                    for spec in item.fields:
                        if spec.id in entry:
                            fields.append(
                                _export_field(
                                    spec, f"{item.id}[{index}].{spec.id}", entry[spec.id], step.id
                                )
                            )
                continue
            for spec in specs:
                if spec.id in visible:
                    fields.append(_export_field(spec, spec.id, visible[spec.id], step.id))
    return {**meta, "answers": visible, "fields": fields}


def _export_field(spec: FieldSpec, path: str, value: Any, step_id: str) -> dict[str, Any]:
    exported = {
        "path": path,
        "step": step_id,
        "type": spec.type,
        "label": {"de": tr(spec.label, "de"), "en": tr(spec.label, "en")},
        "value": export_value(spec, value),
    }
    fim = spec.raw.get("fim")
    if fim:
        # The office's software can map the answer to the FIM data field it stands for.
        exported["fim"] = {"id": fim["id"], "version": fim["version"]}
    return exported
