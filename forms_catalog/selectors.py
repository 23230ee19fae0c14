"""Read API of the form catalogue. Other apps use only these functions.

How the citizen wizard uses it (`citizen/views/wizard.py`)::

    version = published_version(service=service)        # or draft.form_version (pinned!)
    compiled = compiled_form(version=version)
    form_list = compiled.form_list()                     # [(step_id, StepForm class)]
    compiled.step_is_visible(step_id, answers)           # does the step apply?
    # per step: form_class(data, files, prefix=step_id, answers=draft.data, language=lang)
    # template: {% include "forms_catalog/error_summary.html" %}
    #           {% include "forms_catalog/step_fields.html" %}   (inside your <form
    #           method="post" enctype="multipart/form-data" novalidate>)
    # if form.pending_action: an add/remove button was pressed -> just render again
    # if form.is_valid(): draft.data = form.merged_answers(store_upload=...)
    # before submitting: compiled.validate_answers(draft.data) must be empty

Answers are a JSON dict keyed by field id; a repeatable group is a list of
dicts; a file answer is a list of {"attachment_id", "name", "size",
"content_type"}. Hidden answers (visible_if not true) are never validated,
kept, summarised, exported or used for fees: every function here prunes them.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from typing import Any

from .compiler import CompiledForm
from .diff import DefinitionDiff, definition_diff
from .fees import FeeResult, FeeStatement, Rate, calculate, statement
from .fields import field_type
from .models import FormVersion, FormVersionEvent, Service
from .services import definition_checksum
from .summary import SummaryRow, SummarySection, export
from .summary import summarize as _summarize

__all__ = [
    "CompiledForm",
    "DefinitionDiff",
    "FeeResult",
    "FeeStatement",
    "Rate",
    "SummaryRow",
    "SummarySection",
    "applicant_contact",
    "calculate_fee",
    "compiled_form",
    "declared_parameters",
    "export_answers",
    "fee_statement",
    "form_version_base",
    "form_version_diff",
    "form_version_history",
    "published_version",
    "summarize",
    "visible_answers",
]

_CACHE_SIZE = 128
_cache: OrderedDict[tuple[int | None, str], CompiledForm] = OrderedDict()
_cache_lock = threading.Lock()


def published_version(*, service: Service) -> FormVersion | None:
    """The version new applications start on, or None if the service has none (retired).

    An application already started stays on its own version (Draft.form_version),
    whatever the status of that version is now.
    """
    return (
        FormVersion.objects.filter(service=service, status=FormVersion.Status.PUBLISHED)
        .order_by("-published_at", "-number")
        .first()
    )


def form_version_base(*, version: FormVersion) -> FormVersion | None:
    """What `version` is compared with: the published version of its service, or (for
    the published version itself, or a service with none) the next lower number."""
    base = published_version(service=version.service)
    if base is None or base.pk == version.pk:
        base = (
            FormVersion.objects.filter(service_id=version.service_id, number__lt=version.number)
            .order_by("-number")
            .first()
        )
    return base


def form_version_diff(*, version: FormVersion) -> tuple[FormVersion | None, DefinitionDiff]:
    """(base, field-level diff from base to version): steps, fields, groups, choices,
    conditions, rules, fees and parameters added, removed or changed."""
    base = form_version_base(version=version)
    return base, definition_diff(old=base.definition if base else None, new=version.definition)


def form_version_history(*, version: FormVersion) -> list[FormVersionEvent]:
    """Who did what to this version and when, oldest first."""
    return list(
        FormVersionEvent.objects.filter(version_id=version.pk)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def compiled_form(*, version: FormVersion) -> CompiledForm:
    """The compiled definition of a version: step form classes, visibility, validation.

    Cached in-process per (version id, checksum), LRU of 128. Published
    versions never change, so the cache needs no invalidation; a draft being
    edited gets a new checksum and therefore a new entry.
    """
    checksum = version.checksum if version.status != FormVersion.Status.DRAFT else ""
    checksum = checksum or definition_checksum(version.definition)
    key = (version.pk, checksum)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    compiled = CompiledForm(version.definition, version_id=version.pk)
    with _cache_lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def summarize(
    *,
    version: FormVersion,
    answers: dict[str, Any],
    language: str,
    on_date: datetime.date | None = None,
) -> list[SummarySection]:
    """The answers as people read them, per visible step: [SummarySection(step_id, title,
    rows=[SummaryRow(path, label, value, step_id)])]. Values are plain display text
    (escape them when rendering, as Django templates do). Hidden fields are left
    out; visible unanswered fields appear with the value "—"."""
    return _summarize(compiled_form(version=version), answers, language, on_date)


def visible_answers(
    *, version: FormVersion, answers: dict[str, Any], on_date: datetime.date | None = None
) -> dict[str, Any]:
    """The answers exactly as the check page shows them: every answer of a step,
    group or field hidden by these answers' own `visible_if` (and every key the
    definition does not know) removed; what is kept is returned unchanged."""
    return compiled_form(version=version).visible_answers(answers, on_date=on_date)


def export_answers(
    *, version: FormVersion, answers: dict[str, Any], on_date: datetime.date | None = None
) -> dict[str, Any]:
    """Machine-readable answers: {"service", "version", "checksum", "answers": visible
    answers (JSON, normalised: dates ISO, money "1234.50", IBAN without spaces),
    "fields": [{"path", "step", "type", "label": {"de", "en"}, "value", "fim"?}]}; "fim" is
    {"id", "version"} of the FIM data field the answer stands for, where known."""
    meta = {
        "service": version.service.slug,
        "version": version.number,
        "checksum": version.checksum or definition_checksum(version.definition),
    }
    return export(compiled_form(version=version), answers, meta=meta, on_date=on_date)


def calculate_fee(
    *,
    version: FormVersion,
    answers: dict[str, Any],
    parameters: dict[str, Any] | None,
    on_date: datetime.date | None = None,
    language: str = "de",
    examples: bool = True,
) -> FeeResult | None:
    """The fee for these answers: FeeResult(amount, lines=[(label, Decimal)]).

    `parameters` are the municipality's values (municipalities.selectors.fee_parameters);
    undeclared keys are ignored, missing ones take the definition's default. Returns
    None when the form has no fee rules or a needed value is unknown; a free
    service returns FeeResult(Decimal("0.00"), []). `on_date` fixes "today" (age).
    With `examples=False` (what citizens see and what a submission records) the
    example default of a `local` parameter is not used: unset there means unknown.
    """
    return calculate(
        compiled_form(version=version),
        answers,
        parameters,
        on_date=on_date,
        language=language,
        examples=examples,
    )


def fee_statement(
    *,
    version: FormVersion,
    configured: dict[str, Any] | None,
    municipality: str,
    answers: dict[str, Any] | None = None,
    on_date: datetime.date | None = None,
    language: str = "de",
) -> FeeStatement:
    """The fee wording for the service page and the check page (one source for both).

    `configured` are only the municipality's own values (fee_parameters);
    `municipality` its display name. Kind, period and payment in the language;
    rates split into the municipality's own, fixed by law, and examples (never
    presented as the municipality's). With `answers`, `calculation` is the fee
    from real values only (None when an amount is not configured).
    """
    return statement(
        compiled_form(version=version),
        configured,
        municipality=municipality,
        answers=answers,
        on_date=on_date,
        language=language,
    )


def applicant_contact(*, version: FormVersion, answers: dict[str, Any]) -> tuple[str, str]:
    """(name, email) of the applicant from the fields marked with a `role`; "" where
    the form has no such field or it was not answered (or is hidden).

    A definition that marks no role at all falls back to the first top-level
    e-mail field and to fields with the ids `name` or `given_names` + `surname`.
    """
    compiled = compiled_form(version=version)
    visible = compiled.visible_answers(answers)
    specs = list(compiled.definition.fields.values())
    roles: dict[str, str] = {}
    for spec in specs:
        if spec.role and isinstance(visible.get(spec.id), str):
            roles[spec.role] = visible[spec.id]
    if not any(spec.role for spec in specs):
        emails = [
            s.id
            for s in specs
            if field_type(s.type).is_email_address and isinstance(visible.get(s.id), str)
        ]
        if emails:
            roles["applicant_email"] = visible[emails[0]]
        for role, field_id in (
            ("applicant_name", "surname"),
            ("applicant_given_name", "given_names"),
            ("applicant_name", "name"),
        ):
            if isinstance(visible.get(field_id), str):
                roles[role] = visible[field_id]
    name = " ".join(
        part for part in (roles.get("applicant_given_name"), roles.get("applicant_name")) if part
    )
    return name, roles.get("applicant_email", "")


def declared_parameters(*, service: Service) -> list[dict[str, Any]]:
    """The fee parameters the published form declares: [{"id", "type", "label": {de, en},
    "default"}]. Municipalities set their own values under these ids (LocalFeeParameter.key)."""
    version = published_version(service=service)
    if version is None:
        return []
    return list(compiled_form(version=version).definition.parameters)
