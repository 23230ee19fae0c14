"""Checks a form definition before it may reach citizens.

`definition_errors` returns every problem with the exact JSON path, e.g.
`steps[2].fields[4].visible_if.eq[0].field`: JSON Schema first, then the
meaning (unique ids, expressions, references between fields, patterns,
limits), then every step is rendered once in both languages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from jsonschema import Draft202012Validator

from . import expressions
from .blocks import block_errors_named
from .compiler import CompiledForm
from .fields import field_schema, field_type

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "form-definition.schema.json"

# WHATWG autofill field names the catalogue may use (invalid tokens fail axe checks).
AUTOCOMPLETE_TOKENS = {
    "name", "honorific-prefix", "given-name", "additional-name", "family-name",
    "honorific-suffix", "nickname", "organization", "organization-title", "street-address",
    "address-line1", "address-line2", "address-line3", "address-level1", "address-level2",
    "address-level3", "country", "country-name", "postal-code", "bday", "sex", "email", "tel",
    "tel-national", "off", "on", "transaction-amount",
}  # fmt: skip


@dataclass(frozen=True)
class DefinitionError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


@cache
def schema() -> dict[str, Any]:
    """The definition's JSON Schema: the shared file, completed by the field type registry."""
    return field_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def format_path(parts: Any) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def schema_errors(definition: Any) -> list[DefinitionError]:
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = []
    for error in validator.iter_errors(definition):
        # For "one of these shapes" errors, the deepest sub-error says most.
        best = error
        while best.context:
            best = max(best.context, key=lambda e: len(e.absolute_path))
        errors.append(DefinitionError(format_path(best.absolute_path), best.message[:300]))
    unique = {(e.path, e.message): e for e in errors}
    return sorted(unique.values(), key=lambda e: e.path)


MAX_DEFINITION_BYTES = 1_000_000


def definition_errors(definition: Any, *, render: bool = True) -> list[DefinitionError]:
    """Every problem of a definition; empty list means it may be published."""
    try:
        size = len(json.dumps(definition, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        return [DefinitionError("", "not JSON data")]
    if size > MAX_DEFINITION_BYTES:
        return [DefinitionError("", f"definition too large ({size} bytes, at most 1 MB)")]
    errors = schema_errors(definition)
    if not errors:
        errors = semantic_errors(definition)
    if not errors and render:
        errors = render_errors(definition)
    return block_errors_named(definition, errors)


def semantic_errors(definition: dict[str, Any]) -> list[DefinitionError]:
    errors: list[DefinitionError] = []

    def err(path: str, text: str) -> None:
        errors.append(DefinitionError(path, text))

    params = {p["id"] for p in definition.get("parameters", [])}
    if len(params) != len(definition.get("parameters", [])):
        err("parameters", "parameter ids must be unique")
    for i, param in enumerate(definition.get("parameters", [])):
        if param["default"] is not None and not re.fullmatch(
            r"-?[0-9]+(\.[0-9]{1,2})?", str(param["default"])
        ):
            err(f"parameters[{i}].default", "must be a number with at most 2 decimals")

    seen_ids: dict[str, str] = {}
    step_ids: set[str] = set()
    known_fields: set[str] = set()  # top-level fields defined so far (document order)
    known_groups: dict[str, set[str]] = {}
    roles: dict[str, str] = {}

    def claim(identifier: str, path: str) -> None:
        if identifier in seen_ids:
            err(f"{path}.id", f"id '{identifier}' is already used at {seen_ids[identifier]}")
        else:
            seen_ids[identifier] = path

    def check_expr(expr: Any, path: str, ctx: expressions.CheckContext) -> None:
        for problem in expressions.check(expr, ctx, path):
            err(problem.path, problem.message)

    def context(item_fields: set[str] | None = None) -> expressions.CheckContext:
        return expressions.CheckContext(
            fields=set(known_fields),
            groups={k: set(v) for k, v in known_groups.items()},
            params=params,
            item_fields=set(item_fields or ()),
            in_item=item_fields is not None,
        )

    def check_field(spec: dict[str, Any], path: str, item_fields: set[str] | None) -> None:
        kind = spec["type"]
        if "visible_if" in spec:
            check_expr(spec["visible_if"], f"{path}.visible_if", context(item_fields))
        for low, high in (
            ("min_length", "max_length"),
            ("min", "max"),
            ("min_choices", "max_choices"),
            ("min_date", "max_date"),
        ):
            if low in spec and high in spec and spec[low] > spec[high]:
                err(f"{path}.{low}", f"{low} is greater than {high}")
        for problem in field_type(kind).definition_problems(
            spec, path, in_item=item_fields is not None
        ):
            err(problem.path, problem.message)
        if "autocomplete" in spec:
            tokens = spec["autocomplete"].split()
            if not tokens or tokens[-1] not in AUTOCOMPLETE_TOKENS:
                err(
                    f"{path}.autocomplete",
                    f"'{spec['autocomplete']}' is not a valid autofill token",
                )
        if "role" in spec:
            if spec["role"] in roles:
                err(f"{path}.role", f"role '{spec['role']}' already given at {roles[spec['role']]}")
            elif item_fields is not None:
                err(f"{path}.role", "an applicant role cannot be inside a repeatable group")
            else:
                roles[spec["role"]] = path

    for s_index, step in enumerate(definition["steps"]):
        s_path = f"steps[{s_index}]"
        if step["id"] in step_ids:
            err(f"{s_path}.id", f"step id '{step['id']}' is used twice")
        step_ids.add(step["id"])
        if "visible_if" in step:
            check_expr(step["visible_if"], f"{s_path}.visible_if", context())
        for i_index, item in enumerate(step["fields"]):
            i_path = f"{s_path}.fields[{i_index}]"
            claim(item["id"], i_path)
            if item["type"] != "group":
                check_field(item, i_path, None)
                known_fields.add(item["id"])
                continue
            if "visible_if" in item:
                check_expr(item["visible_if"], f"{i_path}.visible_if", context())
            repeatable = item.get("repeatable", False)
            if not repeatable and ("min" in item or "max" in item):
                err(f"{i_path}.min", "min/max only apply to repeatable groups")
            if repeatable and item.get("min", 0) > item.get("max", 20):
                err(f"{i_path}.min", "min is greater than max")
            item_ids: set[str] = set()
            for f_index, spec in enumerate(item["fields"]):
                f_path = f"{i_path}.fields[{f_index}]"
                if repeatable:
                    if spec["id"] in item_ids:
                        err(f"{f_path}.id", f"id '{spec['id']}' is used twice in this group")
                    check_field(spec, f_path, set(item_ids))
                    item_ids.add(spec["id"])
                else:
                    claim(spec["id"], f_path)
                    check_field(spec, f_path, None)
                    known_fields.add(spec["id"])
            if repeatable:
                known_groups[item["id"]] = item_ids
                known_fields.add(item["id"])
                for r_index, rule in enumerate(item.get("rules", [])):
                    r_path = f"{i_path}.rules[{r_index}]"
                    check_expr(rule["assert"], f"{r_path}.assert", context(item_ids))
                    for k, fid in enumerate(rule.get("fields", [])):
                        if fid not in item_ids:
                            err(f"{r_path}.fields[{k}]", f"'{fid}' is not a field of this group")
        step_field_ids = _step_field_ids(step)
        for r_index, rule in enumerate(step.get("rules", [])):
            r_path = f"{s_path}.rules[{r_index}]"
            check_expr(rule["assert"], f"{r_path}.assert", context())
            for k, fid in enumerate(rule.get("fields", [])):
                if fid not in step_field_ids:
                    err(f"{r_path}.fields[{k}]", f"'{fid}' is not a field of this step")

    fees = definition.get("fees") or {}
    for l_index, line in enumerate(fees.get("lines", [])):
        l_path = f"fees.lines[{l_index}]"
        ctx = context()
        ctx.allow_params = True
        group = line.get("for_each")
        if group is not None:
            if group not in known_groups:
                err(f"{l_path}.for_each", f"'{group}' is not a repeatable group")
                continue
            ctx = context(known_groups[group])
            ctx.allow_params = True
        for key in ("when", "amount"):
            if key in line:
                check_expr(line[key], f"{l_path}.{key}", ctx)
    if fees.get("free") and fees.get("lines"):
        err("fees.free", "a free service has no fee lines")
    return errors


def _step_field_ids(step: dict[str, Any]) -> set[str]:
    ids = set()
    for item in step["fields"]:
        ids.add(item["id"])
        if item["type"] == "group" and not item.get("repeatable"):
            ids |= {f["id"] for f in item["fields"]}
    return ids


def render_errors(definition: dict[str, Any]) -> list[DefinitionError]:
    """Render every step in both languages, empty and with errors; a failure names its step."""
    errors: list[DefinitionError] = []
    try:
        compiled = CompiledForm(definition)
    except Exception as exc:  # any failure here must block publishing, with a reason
        return [DefinitionError("", f"cannot compile: {exc!r}")]
    for index, step in enumerate(compiled.steps):
        for language in ("de", "en"):
            try:
                form_class = compiled.form_class(step.id)
                # Once empty and once submitted empty, so that the error markup renders too.
                for form in (
                    form_class(answers={}, language=language),
                    form_class(data={}, answers={}, language=language),
                ):
                    form.is_valid()
                    render_to_string("forms_catalog/error_summary.html", {"form": form})
                    render_to_string("forms_catalog/step_fields.html", {"form": form})
            except Exception as exc:
                errors.append(DefinitionError(f"steps[{index}]", f"cannot render: {exc!r}"))
                break
    return errors
