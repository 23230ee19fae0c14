"""Writes of the designer's pickers: conditions, cross-field validations, fees.

Each service reads the draft under lock (service row, then version row, the
order every writer of `forms_catalog.services` uses), changes one part of a
copy of its definition, checks that part with the definition checks
(`checks.definition_errors`) and stores the copy through
`form_version_update_draft`, which refuses everything but drafts and
non-editors. Problems of the picker's input raise `RowError` (German, naming
the row or input); refusals of the version raise `FormVersionError`. Nothing is
stored on any error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from ..checks import DefinitionError, definition_errors
from ..models import EDITOR_PERMISSION, FormVersion, Service
from ..services import FormVersionError, form_version_update_draft
from .rule_expressions import (
    Comparison,
    Element,
    Row,
    RowError,
    all_top_level_fields,
    amount_expression,
    comparison_expression,
    fields_before,
    fields_of_group,
    fields_of_step,
    group_item_fields,
    locate,
    repeatable_groups,
    rows_to_expression,
    rule_assertion,
    unique_id,
)

TEXT_MAX_LENGTH = 2000  # the schema's bound for a text
FEE_KINDS = ("gebuehr", "steuer", "auslagen")
FEE_PERIODS = ("einmalig", "jaehrlich")
FEE_PAYMENTS = ("online_later", "appointment", "bescheid")


def _require_editor(user: Any) -> None:
    if not (
        user is not None
        and getattr(user, "is_active", False)
        and getattr(user, "pk", None)
        and user.has_perm(EDITOR_PERMISSION)
    ):
        raise FormVersionError(
            gettext("Nur Mitglieder des Kompetenzzentrums dürfen Formularversionen bearbeiten.")
        )


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _edit(
    *, version: FormVersion, user: Any, change: Callable[[dict[str, Any]], str]
) -> FormVersion:
    """Apply `change` to a copy of the draft's definition and store it.

    `change` mutates the copy and returns the JSON path of what it changed;
    definition errors under that path refuse the change (errors elsewhere in a
    draft under construction are the structure editor's business).
    """
    _require_editor(user)
    with transaction.atomic():
        Service.objects.select_for_update().get(pk=version.service_id)
        locked = FormVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != FormVersion.Status.DRAFT:
            raise FormVersionError(
                gettext(
                    "Nur Entwürfe können geändert werden; diese Version ist nicht (mehr) "
                    "im Entwurf."
                )
            )
        definition = copy.deepcopy(locked.definition)
        if not isinstance(definition, dict):
            raise FormVersionError(gettext("Die Definition muss ein JSON-Objekt sein."))
        prefix = change(definition)
        problems = [
            e for e in definition_errors(definition, render=False) if _under(e.path, prefix)
        ]
        if problems:
            raise FormVersionError(german_problem(problems[0]), problems)
        return form_version_update_draft(version=locked, definition=definition, user=user)


def german_problem(error: DefinitionError) -> str:
    """A definition check's finding in German for the picker (the path stays for experts)."""
    message = error.message
    for needle, text in (
        ("unknown or later field", gettext("Die Bedingung nennt ein Feld, das nicht davor steht.")),
        ("undeclared parameter", gettext("Der Betrag verweist auf einen nicht angelegten Betrag.")),
        (
            "is not a field of this",
            gettext("Die Meldung soll bei einem Feld erscheinen, das es hier nicht gibt."),
        ),
        ("is not a repeatable group", gettext("Diese Gruppe ist nicht wiederholbar.")),
    ):
        if needle in message:
            return text
    return gettext("Die Prüfung der Definition lehnt diese Angabe ab: %(detail)s") % {
        "detail": message
    }


def _element(definition: dict[str, Any], path: Any) -> Element:
    element = locate(definition, path)
    if element is None:
        raise FormVersionError(gettext("Dieses Element gibt es in diesem Entwurf nicht."))
    return element


def _text(de: Any, en: Any, key: str) -> dict[str, str]:
    texts = {}
    for language, value, name in (("de", de, f"{key}_de"), ("en", en, f"{key}_en")):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise RowError(gettext("Bitte füllen Sie dieses Feld aus."), None, name)
        if len(text) > TEXT_MAX_LENGTH:
            raise RowError(gettext("Höchstens %(n)s Zeichen.") % {"n": TEXT_MAX_LENGTH}, None, name)
        texts[language] = text
    return texts


# --- Conditions -------------------------------------------------------------------
def condition_set(
    *, version: FormVersion, user: Any, element_path: str, combine: str, rows: list[Row]
) -> FormVersion:
    """Set (or with no rows remove) the `visible_if` of a step, group or field.

    Only fields defined earlier can be chosen; values are checked against the
    field's kind and options. Refusals: RowError (a row), FormVersionError.
    """

    def change(definition: dict[str, Any]) -> str:
        element = _element(definition, element_path)
        expr = rows_to_expression(rows, combine, fields_before(definition, element))
        if expr is None:
            element.raw.pop("visible_if", None)
        else:
            element.raw["visible_if"] = expr
        return f"{element.json_path}.visible_if"

    return _edit(version=version, user=user, change=change)


# --- Cross-field validations --------------------------------------------------------
def _rule_container(definition: dict[str, Any], path: Any) -> Element:
    element = _element(definition, path)
    if element.kind == "step" or element.repeatable_group:
        return element
    raise FormVersionError(
        gettext("Prüfregeln gehören zu einem Schritt oder einer wiederholbaren Gruppe.")
    )


def rule_fields(definition: dict[str, Any], container: Element) -> tuple[list, list]:
    """(fields a rule may compare, fields its message may be shown at) of a container."""
    if container.kind == "step":
        comparable = fields_of_step(definition, container.step_index)
        own_ids = set()
        for item in container.raw.get("fields", []):
            if isinstance(item, dict):
                own_ids.add(item.get("id"))
                if item.get("type") == "group" and not item.get("repeatable"):
                    own_ids |= {f.get("id") for f in item.get("fields", []) if isinstance(f, dict)}
        shown_at = [f for f in comparable if f.id in own_ids]
        return comparable, shown_at
    comparable = fields_of_group(definition, container)
    return comparable, [f for f in comparable if f.in_item]


def validation_rule_save(
    *,
    version: FormVersion,
    user: Any,
    container_path: str,
    rule_id: str | None,
    comparison: Comparison,
    combine: str,
    rows: list[Row],
    message_de: str,
    message_en: str,
    show_at: list[str],
) -> str:
    """Add (`rule_id=None`) or replace a rule of a step or repeatable group; returns its id.

    "<Feld A> muss <Vergleich> <Feld B | Wert | heute> sein", optionally only
    when the condition rows hold; the message (German and English) is shown at
    the first of `show_at`, which must be fields of the container (empty: at field A,
    if it is one).
    """
    result: dict[str, str] = {}

    def change(definition: dict[str, Any]) -> str:
        container = _rule_container(definition, container_path)
        comparable, shown = rule_fields(definition, container)
        compare = comparison_expression(comparison, comparable)
        condition = rows_to_expression(rows, combine, comparable)
        message = _text(message_de, message_en, "message")
        shown_ids = {f.id for f in shown}
        chosen = [f for f in show_at if isinstance(f, str)]
        if not chosen and comparison.left in shown_ids:
            chosen = [comparison.left]  # by default at field A, where the mistake usually is
        if not chosen:
            raise RowError(gettext("Bitte wählen Sie mindestens ein Feld."), None, "show_at")
        if any(f not in shown_ids for f in chosen):
            raise RowError(
                gettext("Die Meldung kann nur bei Feldern dieses Schritts erscheinen."),
                None,
                "show_at",
            )
        rules = container.raw.setdefault("rules", [])
        taken = {r.get("id") for r in rules if isinstance(r, dict)}
        if rule_id is None:
            new_id = unique_id(f"{comparison.left}_{comparison.op}", taken, "regel")
            index = len(rules)
            rules.append({})
        else:
            index = next(
                (i for i, r in enumerate(rules) if isinstance(r, dict) and r.get("id") == rule_id),
                None,
            )
            if index is None:
                raise FormVersionError(gettext("Diese Prüfregel gibt es nicht (mehr)."))
            new_id = rule_id
        rules[index] = {
            "id": new_id,
            "assert": rule_assertion(compare, condition),
            "fields": list(dict.fromkeys(chosen)),
            "message": message,
        }
        result["id"] = new_id
        return f"{container.json_path}.rules[{index}]"

    _edit(version=version, user=user, change=change)
    return result["id"]


def validation_rule_delete(
    *, version: FormVersion, user: Any, container_path: str, rule_id: str
) -> FormVersion:
    """Remove a rule of a step or repeatable group (unknown id: FormVersionError)."""

    def change(definition: dict[str, Any]) -> str:
        container = _rule_container(definition, container_path)
        rules = container.raw.get("rules", [])
        kept = [r for r in rules if not (isinstance(r, dict) and r.get("id") == rule_id)]
        if len(kept) == len(rules):
            raise FormVersionError(gettext("Diese Prüfregel gibt es nicht (mehr)."))
        if kept:
            container.raw["rules"] = kept
        else:
            container.raw.pop("rules", None)
        return f"{container.json_path}.rules"

    return _edit(version=version, user=user, change=change)


# --- Fees -------------------------------------------------------------------------
def fee_settings_save(
    *,
    version: FormVersion,
    user: Any,
    free: bool,
    kind: str,
    period: str,
    payment: str,
    note_de: str,
    note_en: str,
) -> FormVersion:
    """What the citizen is told about the charge: free, kind, period, payment, note.

    Empty codes leave the statement silent about that point; a note needs both
    languages or none.
    """
    for value, allowed, key in (
        (kind, FEE_KINDS, "kind"),
        (period, FEE_PERIODS, "period"),
        (payment, FEE_PAYMENTS, "payment"),
    ):
        if value and value not in allowed:
            raise RowError(gettext("Bitte wählen Sie einen der angebotenen Werte."), None, key)

    def change(definition: dict[str, Any]) -> str:
        fees = definition.setdefault("fees", {})
        if free and fees.get("lines"):
            raise RowError(
                gettext(
                    "Eine gebührenfreie Leistung hat keine Gebührenpositionen. Entfernen Sie "
                    "zuerst die Positionen."
                ),
                None,
                "free",
            )
        if free:
            fees["free"] = True
        else:
            fees.pop("free", None)
        for key, value in (("kind", kind), ("period", period), ("payment", payment)):
            if value:
                fees[key] = value
            else:
                fees.pop(key, None)
        if (note_de or "").strip() or (note_en or "").strip():
            fees["note"] = _text(note_de, note_en, "note")
        else:
            fees.pop("note", None)
        return "fees"

    return _edit(version=version, user=user, change=change)


def fee_parameter_save(
    *,
    version: FormVersion,
    user: Any,
    param_id: str | None,
    label_de: str,
    label_en: str,
    money: bool,
    default: Decimal | None,
    local: bool,
) -> str:
    """Add (`param_id=None`) or change a fee parameter; returns its id.

    `default=None`: no amount given (for a `local` one each municipality sets it).
    """
    result: dict[str, str] = {}

    def change(definition: dict[str, Any]) -> str:
        label = _text(label_de, label_en, "label")
        params = definition.setdefault("parameters", [])
        taken = {p.get("id") for p in params if isinstance(p, dict)}
        if param_id is None:
            new_id = unique_id(label["de"], taken, "betrag")
            index = len(params)
            params.append({})
        else:
            index = next(
                (
                    i
                    for i, p in enumerate(params)
                    if isinstance(p, dict) and p.get("id") == param_id
                ),
                None,
            )
            if index is None:
                raise FormVersionError(gettext("Diesen Betrag gibt es nicht (mehr)."))
            new_id = param_id
        entry: dict[str, Any] = {
            "id": new_id,
            "type": "money" if money else "number",
            "label": label,
            "default": None if default is None else str(default),
        }
        if local:
            entry["local"] = True
        params[index] = entry
        result["id"] = new_id
        return f"parameters[{index}]"

    _edit(version=version, user=user, change=change)
    return result["id"]


def fee_parameter_delete(*, version: FormVersion, user: Any, param_id: str) -> FormVersion:
    """Remove a parameter no fee line uses (a used one is refused with the line's name)."""

    def change(definition: dict[str, Any]) -> str:
        params = definition.get("parameters", [])
        kept = [p for p in params if not (isinstance(p, dict) and p.get("id") == param_id)]
        if len(kept) == len(params):
            raise FormVersionError(gettext("Diesen Betrag gibt es nicht (mehr)."))
        for line in (definition.get("fees") or {}).get("lines", []):
            if param_id in _params_used(line):
                raise FormVersionError(
                    gettext("Der Betrag wird in der Position „%(line)s“ verwendet.")
                    % {"line": (line.get("label") or {}).get("de", line.get("id"))}
                )
        definition["parameters"] = kept
        return "parameters"

    return _edit(version=version, user=user, change=change)


def _params_used(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "param" and isinstance(value, str):
                found.add(value)
            else:
                found |= _params_used(value)
    elif isinstance(node, list):
        for item in node:
            found |= _params_used(item)
    return found


def fee_line_save(
    *,
    version: FormVersion,
    user: Any,
    line_id: str | None,
    label_de: str,
    label_en: str,
    amount_kind: str,
    amount: str,
    param: str,
    for_each: str,
    combine: str,
    rows: list[Row],
) -> str:
    """Add (`line_id=None`) or replace a fee line; returns its id.

    Amount: a fixed euro amount ("25,00") or a declared parameter, once or per
    item of a repeatable group (`for_each`); optionally only when the condition
    rows hold (inside `for_each` also about the item's own fields).
    """
    result: dict[str, str] = {}

    def change(definition: dict[str, Any]) -> str:
        label = _text(label_de, label_en, "label")
        params = [p.get("id") for p in definition.get("parameters", []) if isinstance(p, dict)]
        value = amount_expression(amount_kind, amount, param, params)
        groups = {gid for gid, _ in repeatable_groups(definition)}
        if for_each and for_each not in groups:
            raise RowError(gettext("Bitte wählen Sie eine wiederholbare Gruppe."), None, "for_each")
        fields = all_top_level_fields(definition)
        if for_each:
            fields += group_item_fields(definition, for_each)
        condition = rows_to_expression(rows, combine, fields)
        fees = definition.setdefault("fees", {})
        if fees.get("free"):
            raise RowError(
                gettext("Die Leistung ist als gebührenfrei eingestellt. Heben Sie das zuerst auf."),
                None,
                "label_de",
            )
        lines = fees.setdefault("lines", [])
        taken = {line.get("id") for line in lines if isinstance(line, dict)}
        if line_id is None:
            new_id = unique_id(label["de"], taken, "position")
            index = len(lines)
            lines.append({})
        else:
            index = next(
                (
                    i
                    for i, li in enumerate(lines)
                    if isinstance(li, dict) and li.get("id") == line_id
                ),
                None,
            )
            if index is None:
                raise FormVersionError(gettext("Diese Gebührenposition gibt es nicht (mehr)."))
            new_id = line_id
        line: dict[str, Any] = {"id": new_id, "label": label}
        if for_each:
            line["for_each"] = for_each
        if condition is not None:
            line["when"] = condition
        line["amount"] = value
        lines[index] = line
        result["id"] = new_id
        return f"fees.lines[{index}]"

    _edit(version=version, user=user, change=change)
    return result["id"]


def fee_line_delete(*, version: FormVersion, user: Any, line_id: str) -> FormVersion:
    def change(definition: dict[str, Any]) -> str:
        fees = definition.get("fees") or {}
        lines = fees.get("lines", [])
        kept = [li for li in lines if not (isinstance(li, dict) and li.get("id") == line_id)]
        if len(kept) == len(lines):
            raise FormVersionError(gettext("Diese Gebührenposition gibt es nicht (mehr)."))
        fees["lines"] = kept
        return "fees.lines"

    return _edit(version=version, user=user, change=change)
