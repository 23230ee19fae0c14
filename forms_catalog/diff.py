"""Field-level differences between two form definitions, for reviewers (and the designer).

A definition is flattened into elements with a stable key built from ids
(step, field, group, choice value, rule id, fee line id, parameter id), each
with its own attributes (children and the condition are elements of their own).
Elements only in the new definition are "added", only in the old "removed",
in both with different attributes "changed" (listing each attribute old/new).
Pure functions over JSON: no database, usable on unsaved definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

KIND_LABELS = {
    "form": _("Formular"),
    "step": _("Schritt"),
    "group": _("Gruppe"),
    "field": _("Feld"),
    "choice": _("Auswahlmöglichkeit"),
    "condition": _("Bedingung"),
    "rule": _("Prüfregel"),
    "fees": _("Gebühren"),
    "fee": _("Gebührenposition"),
    "parameter": _("Gebührenparameter"),
}
CHANGE_LABELS = {ADDED: _("hinzugefügt"), REMOVED: _("entfernt"), CHANGED: _("geändert")}
ATTRIBUTE_LABELS = {
    "label": _("Beschriftung"),
    "title": _("Titel"),
    "intro": _("Einleitung"),
    "help": _("Hilfetext"),
    "type": _("Feldtyp"),
    "required": _("Pflichtangabe"),
    "visible_if": _("Bedingung"),
    "repeatable": _("wiederholbar"),
    "min": _("mindestens"),
    "max": _("höchstens"),
    "max_length": _("höchstens Zeichen"),
    "min_length": _("mindestens Zeichen"),
    "pattern": _("Muster"),
    "message": _("Meldung"),
    "assert": _("Prüfung"),
    "amount": _("Betrag"),
    "default": _("Vorgabe"),
    "role": _("Rolle"),
    "ref": _("FIM-Referenz"),
    "note": _("Hinweis"),
}

# Attributes that are elements of their own (or lists of them), not values.
_CHILDREN = {"fields", "options", "visible_if", "rules", "steps", "fees", "parameters", "lines"}


@dataclass(frozen=True)
class AttributeChange:
    name: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class DiffEntry:
    """One element that differs. `old`/`new` are display texts ("" where absent)."""

    key: str
    kind: str
    change: str
    path: str
    old: str = ""
    new: str = ""
    attributes: tuple[AttributeChange, ...] = ()

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def change_label(self) -> str:
        return str(CHANGE_LABELS[self.change])


@dataclass
class DefinitionDiff:
    entries: list[DiffEntry] = field(default_factory=list)

    def count(self, change: str) -> int:
        return sum(1 for e in self.entries if e.change == change)

    @property
    def added(self) -> int:
        return self.count(ADDED)

    @property
    def removed(self) -> int:
        return self.count(REMOVED)

    @property
    def changed(self) -> int:
        return self.count(CHANGED)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def by_key(self) -> dict[str, DiffEntry]:
        return {e.key: e for e in self.entries}


@dataclass
class _Element:
    kind: str
    path: str
    attrs: dict[str, Any]


def display_value(value: Any) -> str:
    """A value as reviewers read it: {de, en} texts as "de: …" / "en: …", JSON otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("ja") if value else _("nein"))
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value and set(value) <= {"de", "en", "de-x-ls"}:
        return "\n".join(f"{lang}: {text}" for lang, text in value.items())
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _name(raw: dict[str, Any], fallback: str) -> str:
    text = raw.get("label") or raw.get("title")
    if isinstance(text, dict):
        text = text.get("de") or text.get("en")
    return f"{text} ({fallback})" if isinstance(text, str) and text else fallback


def _own(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in _CHILDREN}


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _add_rules(out: dict[str, _Element], rules: Any, key: str, path: str) -> None:
    for index, rule in enumerate(_as_list(rules)):
        rule = _as_dict(rule)
        rule_id = str(rule.get("id") or index)
        out[f"{key}/rule:{rule_id}"] = _Element("rule", f"{path} › {rule_id}", dict(rule))


def _add_condition(out: dict[str, _Element], raw: dict[str, Any], key: str, path: str) -> None:
    if "visible_if" in raw:
        out[f"{key}/condition"] = _Element(
            "condition", f"{path} › {_('Bedingung')}", {"visible_if": raw["visible_if"]}
        )


def _add_fields(out: dict[str, _Element], fields: Any, key: str, path: str) -> None:
    for index, raw in enumerate(_as_list(fields)):
        raw = _as_dict(raw)
        field_id = str(raw.get("id") or f"#{index}")
        field_key = f"{key}/field:{field_id}"
        field_path = f"{path} › {_name(raw, field_id)}"
        is_group = raw.get("type") == "group" or "fields" in raw
        out[field_key] = _Element("group" if is_group else "field", field_path, _own(raw))
        _add_condition(out, raw, field_key, field_path)
        for option_index, option in enumerate(_as_list(raw.get("options"))):
            option = _as_dict(option)
            value = str(option.get("value", f"#{option_index}"))
            out[f"{field_key}/choice:{value}"] = _Element(
                "choice", f"{field_path} › {_name(option, value)}", dict(option)
            )
        _add_rules(out, raw.get("rules"), field_key, field_path)
        _add_fields(out, raw.get("fields"), field_key, field_path)


def flatten(definition: Any) -> dict[str, _Element]:
    """Every element of a definition by stable key, in the definition's order."""
    definition = _as_dict(definition)
    out: dict[str, _Element] = {}
    form_attrs = _own(definition)
    if form_attrs:
        out["form"] = _Element("form", str(_("Formular")), form_attrs)
    for index, param in enumerate(_as_list(definition.get("parameters"))):
        param = _as_dict(param)
        param_id = str(param.get("id") or index)
        out[f"parameter:{param_id}"] = _Element("parameter", _name(param, param_id), dict(param))
    for index, step in enumerate(_as_list(definition.get("steps"))):
        step = _as_dict(step)
        step_id = str(step.get("id") or f"#{index}")
        key = f"step:{step_id}"
        path = _name(step, step_id)
        out[key] = _Element("step", path, _own(step))
        _add_condition(out, step, key, path)
        _add_fields(out, step.get("fields"), key, path)
        _add_rules(out, step.get("rules"), key, path)
    _add_rules(out, definition.get("rules"), "form", str(_("Formular")))
    fees = _as_dict(definition.get("fees"))
    if fees:
        fees_path = str(_("Gebühren"))
        out["fees"] = _Element("fees", fees_path, _own(fees))
        for index, line in enumerate(_as_list(fees.get("lines"))):
            line = _as_dict(line)
            line_id = str(line.get("id") or index)
            out[f"fees/line:{line_id}"] = _Element(
                "fee", f"{fees_path} › {_name(line, line_id)}", dict(line)
            )
    return out


def _describe(attrs: dict[str, Any]) -> str:
    return "\n".join(
        f"{ATTRIBUTE_LABELS.get(name, name)}: {display_value(value)}"
        for name, value in attrs.items()
        if name != "id"
    )


def definition_diff(*, old: Any, new: Any) -> DefinitionDiff:
    """What changed from `old` to `new`, element by element, in the new definition's order
    (removed elements right after their former predecessor). `old=None`: all added."""
    before = flatten(old) if old is not None else {}
    after = flatten(new)
    order = list(after)
    previous: str | None = None
    for key in before:
        if key not in after:
            position = order.index(previous) + 1 if previous in order else 0
            order.insert(position, key)
        previous = key
    entries = []
    for key in order:
        was, now = before.get(key), after.get(key)
        if was is None and now is not None:
            entries.append(DiffEntry(key, now.kind, ADDED, now.path, new=_describe(now.attrs)))
        elif now is None and was is not None:
            entries.append(DiffEntry(key, was.kind, REMOVED, was.path, old=_describe(was.attrs)))
        elif was is not None and now is not None and was.attrs != now.attrs:
            names = list(now.attrs) + [n for n in was.attrs if n not in now.attrs]
            changes = tuple(
                AttributeChange(
                    name,
                    str(ATTRIBUTE_LABELS.get(name, name)),
                    display_value(was.attrs.get(name)),
                    display_value(now.attrs.get(name)),
                )
                for name in names
                if was.attrs.get(name) != now.attrs.get(name)
            )
            entries.append(
                DiffEntry(
                    key,
                    now.kind,
                    CHANGED,
                    now.path,
                    old=_describe(was.attrs),
                    new=_describe(now.attrs),
                    attributes=changes,
                )
            )
    return DefinitionDiff(entries)
