"""The neutral FIM model -> a form definition of our definition language.

Mapping (docs/fim.md has the full table):
- top-level Datenfeldgruppe (1:1) -> step; its groups -> groups (fieldsets), deeper
  groups are dissolved into their parent group (our groups do not nest);
- top-level optional or repeating group -> a step holding a repeatable group;
- Datenfelder directly under the schema -> a step "Weitere Angaben";
- `anzahl` min >= 1 -> required; a group 0:1 / n:m -> repeatable group with min/max;
  a field with max > 1 -> multichoice (select), several files (file) or a
  repeatable group around the field;
- feldart label -> intro of the step / help of the group; hidden, locked -> left out;
- rules -> `fim.rules` notes for the editor, never executed.
Everything that is not carried over as it was is a line of the report.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from ..checks import definition_errors
from ..fields import field_type
from .codelists import MAX_CODES, codelist_find
from .report import MappingReport
from .xdf_read import CodeList, FimElement, FimImportError, FimRule, FimSchema

TEXT_MAX = 2000
MAX_STEPS, MAX_STEP_FIELDS, MAX_GROUP_FIELDS, MAX_ITEMS = 40, 80, 40, 50
MAX_FILES = 30
TEXTAREA_FROM = 500  # longer text fields become a textarea
SELECT_FROM = 9  # from this many options a select box instead of radio buttons
FILE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg"]
MEDIA_TYPES = {
    "application/pdf": ["pdf"],
    "image/png": ["png"],
    "image/jpeg": ["jpg", "jpeg"],
    "image/jpg": ["jpg", "jpeg"],
}
# FIM `time` and `datetime` have no own type here: text with a fixed pattern. The
# exporter recognises these patterns and writes the FIM data type again.
TIME_PATTERN = r"([01][0-9]|2[0-3]):[0-5][0-9]"
DATETIME_PATTERN = (
    r"(0[1-9]|[12][0-9]|3[01])\.(0[1-9]|1[0-2])\.[0-9]{4} ([01][0-9]|2[0-3]):[0-5][0-9]"
)
TIME_MESSAGE = {
    "de": "Bitte geben Sie eine Uhrzeit im Format HH:MM ein, z. B. 14:30.",
    "en": "Enter a time as HH:MM, for example 14:30.",
}
DATETIME_MESSAGE = {
    "de": "Bitte geben Sie Datum und Uhrzeit im Format TT.MM.JJJJ HH:MM ein.",
    "en": "Enter date and time as DD.MM.YYYY HH:MM.",
}
SYNTHETIC_STEP_TITLE = "Weitere Angaben"
WRAPPER_SUFFIX = "liste"

_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def T(text: str) -> dict[str, str]:
    """A {de, en} text; FIM has German only, so English starts as the German text."""
    return {"de": text, "en": text}


def ascii_slug(text: str, *, lower: bool = True) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS))
    text = text.encode("ascii", "ignore").decode("ascii")
    return text.lower() if lower else text


def number_value(text: str) -> int | float | None:
    try:
        number = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


class _Mapper:
    def __init__(self, codelists: list[CodeList], report: MappingReport) -> None:
        self.codelists = codelists
        self.report = report
        self.used_ids: set[str] = set()

    # -- helpers --------------------------------------------------------------
    def new_id(self, base: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", ascii_slug(base)).strip("_")[:50] or "feld"
        if not slug[0].isalpha():
            slug = f"f_{slug}"[:50]
        candidate, n = slug, 2
        while candidate in self.used_ids:
            candidate, n = f"{slug}_{n}", n + 1
        self.used_ids.add(candidate)
        return candidate

    def text(self, value: str, ref: str, what: str) -> dict[str, str]:
        if len(value) > TEXT_MAX:
            self.report.add(
                ref,
                _("%(what)s auf %(limit)s Zeichen gekürzt.") % {"what": what, "limit": TEXT_MAX},
            )
            value = value[: TEXT_MAX - 1] + "…"
        return T(value)

    def fim(self, el: FimElement | FimSchema) -> dict[str, Any]:
        reference: dict[str, Any] = {"id": el.id, "version": el.version}
        if el.name:
            reference["name"] = el.name
        if el.rules:
            reference["rules"] = [self.rule(r, el.id) for r in el.rules[:100]]
        return reference

    def rule(self, rule: FimRule, owner: str) -> dict[str, str]:
        self.report.add(
            f"{rule.id} {rule.version}".strip(),
            _(
                "Regel „%(name)s“ (bei %(owner)s) als Hinweis für die Redaktion übernommen; "
                "sie wird nicht ausgeführt. Bitte als Bedingung oder Prüfung nachbauen."
            )
            % {"name": rule.name or rule.id, "owner": owner},
        )
        note = {"id": rule.id, "text": rule.text}
        for key in ("version", "name", "script"):
            if getattr(rule, key):
                note[key] = getattr(rule, key)
        return note

    @staticmethod
    def append_text(holder: dict[str, Any], key: str, text: str) -> None:
        current = holder.get(key, {}).get("de", "")
        combined = f"{current}\n\n{text}" if current else text
        holder[key] = T(combined[:TEXT_MAX])

    # -- structure --------------------------------------------------------------
    def definition(self, schema: FimSchema) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        pending: dict[str, Any] | None = None  # step collecting top-level fields
        for el in schema.children:
            if el.kind == "group" and el.min >= 1 and el.max == 1:
                pending = None
                steps.append(self.step_from_group(el))
            elif el.kind == "group":
                pending = None
                group, moved = self.repeatable_group(el)
                step = {
                    "id": self.new_id(f"{el.name or el.id} schritt"),
                    "title": self.text(el.label or el.name or el.id, el.ref, _("Titel")),
                    "fields": [group, *moved] if group["fields"] else moved,
                }
                steps.append(step)
            else:
                if pending is None:
                    pending = {
                        "id": self.new_id("weitere_angaben"),
                        "title": T(SYNTHETIC_STEP_TITLE),
                        "fields": [],
                    }
                    steps.append(pending)
                self.add_field(el, pending["fields"], pending, "intro", in_item=False, moved=[])
        kept = []
        for step in self.split_large(steps):
            if step["fields"]:
                kept.append(step)
            else:
                self.report.add(
                    step.get("fim", {}).get("id", ""),
                    _("Schritt „%(title)s“ enthält keine übertragbaren Felder und entfällt.")
                    % {"title": step["title"]["de"]},
                )
        if not kept:
            raise FimImportError(
                _("Das Schema enthält keine Felder, die übernommen werden können.")
            )
        if len(kept) > MAX_STEPS:
            raise FimImportError(
                _("Das Schema ergibt %(count)s Schritte; ein Formular hat höchstens %(limit)s.")
                % {"count": len(kept), "limit": MAX_STEPS}
            )
        definition: dict[str, Any] = {"schema_version": 1, "fim": self.fim(schema), "steps": kept}
        return definition

    def part(self, spec: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """A continuation of a step or group that was too large ("… (Teil 2)")."""
        title = f"{spec[key]['de']} (Teil {number})"[:TEXT_MAX]
        return {"id": self.new_id(f"{spec['id']} teil {number}"), key: T(title)}

    def split_large(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Steps and fieldsets above the definition's limits continue in further parts."""
        result = []
        for step in steps:
            items: list[dict[str, Any]] = []
            for item in step["fields"]:
                fields = item.get("fields", [])
                if item.get("repeatable") or len(fields) <= MAX_GROUP_FIELDS:
                    items.append(item)
                    continue
                self.report.add(
                    item.get("fim", {}).get("id", item["id"]),
                    _("Gruppe mit %(count)s Feldern in Teile zu höchstens %(limit)s aufgeteilt.")
                    % {"count": len(fields), "limit": MAX_GROUP_FIELDS},
                )
                for start in range(0, len(fields), MAX_GROUP_FIELDS):
                    chunk = fields[start : start + MAX_GROUP_FIELDS]
                    number = start // MAX_GROUP_FIELDS + 1
                    if number == 1:
                        items.append({**item, "fields": chunk})
                    else:
                        items.append(
                            {**self.part(item, "label", number), "type": "group", "fields": chunk}
                        )
            if not items:
                result.append(step)  # reported as empty by the caller
                continue
            if len(items) > MAX_STEP_FIELDS:
                self.report.add(
                    step.get("fim", {}).get("id", step["id"]),
                    _("Schritt mit %(count)s Einträgen in Teile zu höchstens %(limit)s aufgeteilt.")
                    % {"count": len(items), "limit": MAX_STEP_FIELDS},
                )
            for start in range(0, len(items), MAX_STEP_FIELDS):
                chunk = items[start : start + MAX_STEP_FIELDS]
                number = start // MAX_STEP_FIELDS + 1
                if number == 1:
                    result.append({**step, "fields": chunk})
                else:
                    result.append({**self.part(step, "title", number), "fields": chunk})
        return result

    def step_from_group(self, group: FimElement) -> dict[str, Any]:
        step: dict[str, Any] = {
            "id": self.new_id(group.name or group.id),
            "title": self.text(group.label or group.name or group.id, group.ref, _("Titel")),
            "fim": self.fim(group),
            "fields": [],
        }
        if group.help:
            step["intro"] = self.text(group.help, group.ref, _("Hilfetext"))
        for item in group.children:
            if item.kind == "field":
                self.add_field(item, step["fields"], step, "intro", in_item=False, moved=[])
            elif item.min >= 1 and item.max == 1:
                fieldset: dict[str, Any] = {
                    "id": self.new_id(item.name or item.id),
                    "type": "group",
                    "label": self.text(
                        item.label or item.name or item.id, item.ref, _("Bezeichnung")
                    ),
                    "fim": self.fim(item),
                    "fields": [],
                }
                if item.help:
                    fieldset["help"] = self.text(item.help, item.ref, _("Hilfetext"))
                moved: list[dict[str, Any]] = []
                self.flatten(item, fieldset, in_item=False, moved=moved)
                if fieldset["fields"]:
                    step["fields"].append(fieldset)
                else:
                    self.report_empty_group(item)
                step["fields"].extend(moved)
            else:
                fieldset, moved = self.repeatable_group(item)
                if fieldset["fields"]:
                    step["fields"].append(fieldset)
                step["fields"].extend(moved)
        return step

    def repeatable_group(self, el: FimElement) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        maximum = el.max
        if maximum is None or maximum > MAX_ITEMS:
            self.report.add(
                el.ref,
                _("Anzahl %(min)s:%(max)s: höchstens %(limit)s Einträge übernommen.")
                % {"min": el.min, "max": "*" if maximum is None else maximum, "limit": MAX_ITEMS},
            )
            maximum = MAX_ITEMS
        minimum = min(el.min, maximum)
        if el.min == 0 and maximum == 1:
            self.report.add(
                el.ref,
                _(
                    "Optionale Gruppe (0:1) als wiederholbare Gruppe mit höchstens einem "
                    "Eintrag übernommen."
                ),
            )
        group: dict[str, Any] = {
            "id": self.new_id(el.name or el.id),
            "type": "group",
            "label": self.text(el.label or el.name or el.id, el.ref, _("Bezeichnung")),
            "fim": self.fim(el),
            "repeatable": True,
            "min": minimum,
            "max": maximum,
            "fields": [],
        }
        if el.help:
            group["help"] = self.text(el.help, el.ref, _("Hilfetext"))
        moved: list[dict[str, Any]] = []
        self.flatten(el, group, in_item=True, moved=moved)
        for upload in moved:
            upload["multiple"] = True
            upload["max_files"] = min(maximum, MAX_FILES)
        if group["fields"]:
            self.check_group_size(group, el)
        else:
            self.report_empty_group(el)
        return group, moved

    def flatten(
        self, el: FimElement, group: dict[str, Any], *, in_item: bool, moved: list[dict[str, Any]]
    ) -> None:
        """Our groups do not nest: the fields of deeper groups join `group`."""
        for item in el.children:
            if item.kind == "field":
                self.add_field(item, group["fields"], group, "help", in_item=in_item, moved=moved)
                continue
            self.report.add(
                item.ref,
                _("Verschachtelte Gruppe aufgelöst: ihre Felder stehen direkt in „%(parent)s“.")
                % {"parent": group["label"]["de"]},
            )
            if item.max != 1 or item.min != 1:
                self.report.add(
                    item.ref,
                    _("Anzahl %(min)s:%(max)s der verschachtelten Gruppe nicht übernommen (1:1).")
                    % {"min": item.min, "max": "*" if item.max is None else item.max},
                )
            if item.rules:
                group["fim"].setdefault("rules", []).extend(
                    self.rule(r, item.id) for r in item.rules
                )
            self.flatten(item, group, in_item=in_item, moved=moved)

    def check_group_size(self, group: dict[str, Any], el: FimElement) -> None:
        if len(group["fields"]) > MAX_GROUP_FIELDS:
            raise FimImportError(
                _("Gruppe %(ref)s hätte %(count)s Felder; höchstens %(limit)s sind möglich.")
                % {"ref": el.ref, "count": len(group["fields"]), "limit": MAX_GROUP_FIELDS}
            )

    def report_empty_group(self, el: FimElement) -> None:
        self.report.add(el.ref, _("Gruppe ohne übertragbare Felder entfällt."))

    # -- fields -----------------------------------------------------------------
    def add_field(
        self,
        el: FimElement,
        target: list[dict[str, Any]],
        holder: dict[str, Any],
        text_key: str,
        *,
        in_item: bool,
        moved: list[dict[str, Any]],
    ) -> None:
        if el.feldart == "label":
            text = el.inhalt or el.label or el.name
            if text:
                self.append_text(holder, text_key, text)
            self.report.add(
                el.ref,
                _("Hinweistext (Feldart label) als Einleitungs- bzw. Hilfetext übernommen.")
                if text_key == "intro"
                else _("Hinweistext (Feldart label) als Hilfetext der Gruppe übernommen."),
            )
            return
        spec = self.field(el, in_item=in_item)
        if spec is None:
            return
        if spec["type"] == "file" and in_item:
            self.report.add(
                el.ref,
                _(
                    "Dateifeld in einer wiederholbaren Gruppe: hinter die Gruppe verschoben, "
                    "mehrere Dateien möglich."
                ),
            )
            moved.append(spec)
            return
        repeated = el.max is None or el.max > 1
        if repeated and spec["type"] not in {"multichoice", "file"}:
            if in_item:
                self.report.add(
                    el.ref,
                    _(
                        "Mehrfachangabe innerhalb einer wiederholbaren Gruppe "
                        "als Einzelangabe übernommen."
                    ),
                )
            elif text_key == "help":
                # Our groups do not nest: the repeatable group follows the fieldset.
                self.report.add(
                    el.ref,
                    _("Mehrfach anzugebendes Feld steht hinter seiner Gruppe."),
                )
                moved.append(self.wrapper(el, spec))
                return
            else:
                target.append(self.wrapper(el, spec))
                return
        target.append(spec)

    def wrapper(self, el: FimElement, spec: dict[str, Any]) -> dict[str, Any]:
        """A field that may be given several times: a repeatable group around it."""
        maximum = MAX_ITEMS if el.max is None else min(el.max, MAX_ITEMS)
        self.report.add(
            el.ref,
            _(
                "Mehrfach anzugebendes Feld als wiederholbare Gruppe "
                "(%(min)s bis %(max)s) übernommen."
            )
            % {"min": min(el.min, maximum), "max": maximum},
        )
        spec["required"] = True
        return {
            "id": self.new_id(f"{spec['id']} {WRAPPER_SUFFIX}"),
            "type": "group",
            "label": dict(spec["label"]),
            "repeatable": True,
            "min": min(el.min, maximum),
            "max": maximum,
            "fields": [spec],
        }

    def field(self, el: FimElement, *, in_item: bool) -> dict[str, Any] | None:
        if el.feldart in {"hidden", "locked"}:
            self.report.add(
                el.ref,
                _(
                    "Feldart „%(feldart)s“ wird nicht übernommen "
                    "(Bürgerinnen und Bürger geben es nicht ein)."
                )
                % {"feldart": el.feldart},
            )
            return None
        if el.feldart not in {"input", "select"}:
            self.report.add(
                el.ref,
                _("Unbekannte Feldart „%(feldart)s“ als Eingabefeld übernommen.")
                % {"feldart": el.feldart or "—"},
            )
        if el.datentyp == "obj":
            self.report.add(el.ref, _("Datentyp „obj“ (Objekt) kann nicht übernommen werden."))
            return None
        spec: dict[str, Any] = {
            "id": self.new_id(el.name or el.id),
            "type": "text",
            "label": self.text(el.label or el.name or el.id, el.ref, _("Bezeichnung")),
            "required": el.min >= 1,
            "fim": self.fim(el),
        }
        if el.help:
            spec["help"] = self.text(el.help, el.ref, _("Hilfetext"))
        if el.praezisierung_problem:
            self.report.add(
                el.ref,
                _("Präzisierung „%(text)s“ ist kein JSON-Objekt und wurde nicht übernommen.")
                % {"text": el.praezisierung_problem},
            )
        if el.feldart == "select":
            options = self.options(el)
            if options is not None:
                self.choice(el, spec, options)
                self.ignore_praezisierung(el, set())
                return spec
            self.text_field(el, spec)
            return spec
        kind = el.datentyp
        if kind in {"text", "text_latin", ""}:
            if kind == "text_latin":
                self.report.add(
                    el.ref,
                    _(
                        "Datentyp text_latin als Text übernommen "
                        "(Zeichenprüfung nach DIN SPEC 91379 entfällt)."
                    ),
                )
            self.text_field(el, spec)
        elif kind == "date":
            spec["type"] = "date"
            self.ignore_praezisierung(el, set())
        elif kind in {"time", "datetime"}:
            spec["pattern"] = TIME_PATTERN if kind == "time" else DATETIME_PATTERN
            spec["pattern_message"] = dict(TIME_MESSAGE if kind == "time" else DATETIME_MESSAGE)
            self.report.add(
                el.ref,
                _("Datentyp „%(kind)s“ als Textfeld mit Formatprüfung übernommen.")
                % {"kind": kind},
            )
            self.ignore_praezisierung(el, set())
        elif kind == "bool":
            spec["type"] = "yesno"
            self.ignore_praezisierung(el, set())
        elif kind in {"num", "num_int", "num_currency"}:
            spec["type"] = "money" if kind == "num_currency" else "number"
            if kind == "num":
                digits = self.int_setting(el, "fractionDigits")
                digits = 2 if digits is None else min(digits, 4)
                if digits:
                    spec["decimals"] = digits
            self.limits(el, spec)
        elif kind == "file":
            self.file_field(el, spec)
        else:
            self.report.add(
                el.ref,
                _("Unbekannter Datentyp „%(kind)s“ als Textfeld übernommen.") % {"kind": kind},
            )
            self.text_field(el, spec)
        return spec

    def ignore_praezisierung(self, el: FimElement, used: set[str]) -> None:
        for key in sorted(set(el.praezisierung) - used):
            if el.praezisierung[key] == "":
                continue
            self.report.add(
                el.ref,
                _("Präzisierung „%(key)s=%(value)s“ nicht übernommen.")
                % {"key": key, "value": el.praezisierung[key][:100]},
            )

    def int_setting(self, el: FimElement, key: str) -> int | None:
        raw = el.praezisierung.get(key, "").strip()
        if not raw:
            return None
        if not re.fullmatch(r"\d{1,9}", raw):
            self.report.add(
                el.ref,
                _(
                    "Präzisierung „%(key)s=%(value)s“ ist keine ganze Zahl "
                    "und wurde nicht übernommen."
                )
                % {"key": key, "value": raw[:100]},
            )
            return None
        return int(raw)

    def text_field(self, el: FimElement, spec: dict[str, Any]) -> None:
        maximum = self.int_setting(el, "maxLength")
        minimum = self.int_setting(el, "minLength")
        if maximum is not None:
            maximum = max(1, min(maximum, 20000))
            spec["max_length"] = maximum
            if maximum > TEXTAREA_FROM:
                spec["type"] = "textarea"
        if minimum is not None:
            if maximum is not None and minimum > maximum:
                self.report.add(el.ref, _("Mindestlänge größer als Höchstlänge: nicht übernommen."))
            elif minimum:
                spec["min_length"] = minimum
        pattern = el.praezisierung.get("pattern", "")
        if pattern:
            problems = field_type("text").definition_problems(
                {"pattern": pattern}, "pattern", in_item=False
            )
            if problems:
                self.report.add(
                    el.ref,
                    _("Muster „%(pattern)s“ ist hier nicht verwendbar (%(problem)s) und entfällt.")
                    % {"pattern": pattern[:200], "problem": problems[0].message},
                )
            else:
                spec["pattern"] = pattern
        self.ignore_praezisierung(el, {"maxLength", "minLength", "pattern"})

    def limits(self, el: FimElement, spec: dict[str, Any]) -> None:
        for key, target in (("minValue", "min"), ("maxValue", "max")):
            raw = el.praezisierung.get(key, "")
            if not raw:
                continue
            value = number_value(raw)
            if value is None:
                self.report.add(
                    el.ref,
                    _("Präzisierung „%(key)s=%(value)s“ ist keine Zahl und wurde nicht übernommen.")
                    % {"key": key, "value": raw[:100]},
                )
            else:
                spec[target] = value
        if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
            self.report.add(el.ref, _("Mindestwert größer als Höchstwert: nicht übernommen."))
            del spec["min"], spec["max"]
        self.ignore_praezisierung(el, {"minValue", "maxValue", "fractionDigits"})

    def file_field(self, el: FimElement, spec: dict[str, Any]) -> None:
        spec["type"] = "file"
        extensions: list[str] = []
        for media_type in el.media_types:
            known = MEDIA_TYPES.get(media_type.lower())
            if known is None:
                self.report.add(
                    el.ref,
                    _("Dateityp „%(type)s“ wird nicht angenommen (nur PDF, PNG, JPEG).")
                    % {"type": media_type[:100]},
                )
            else:
                extensions += [e for e in known if e not in extensions]
        spec["extensions"] = extensions or list(FILE_EXTENSIONS)
        if el.max_size:
            self.report.add(
                el.ref,
                _("Größenangabe „%(size)s“ nicht übernommen; es gilt die Grenze der Plattform.")
                % {"size": el.max_size[:50]},
            )
        if el.max is None or el.max > 1:
            spec["multiple"] = True
            spec["max_files"] = MAX_FILES if el.max is None else min(el.max, MAX_FILES)
        self.ignore_praezisierung(el, set())

    def options(self, el: FimElement) -> list[dict[str, Any]] | None:
        codes = el.codes
        if not codes and el.codelist is not None:
            found = codelist_find(el.codelist, self.codelists)
            if found is None:
                self.report.add(
                    el.ref,
                    _(
                        "Codeliste %(uri)s (Version %(version)s) wurde nicht mitgeliefert: "
                        "als Textfeld übernommen. Mit der Codeliste erneut importieren, um "
                        "Auswahlwerte zu erhalten."
                    )
                    % {
                        "uri": el.codelist.uri or el.codelist.list_id or "?",
                        "version": el.codelist.version or "?",
                    },
                )
                return None
            codes = found.codes(code_key=el.codelist.code_key, name_key=el.codelist.name_key)
        if not codes:
            self.report.add(el.ref, _("Auswahlfeld ohne Werte: als Textfeld übernommen."))
            return None
        if len(codes) > MAX_CODES:
            self.report.add(
                el.ref,
                _("Mehr als %(limit)s Auswahlwerte: als Textfeld übernommen.")
                % {"limit": MAX_CODES},
            )
            return None
        options, seen = [], set()
        for index, code in enumerate(codes):
            value = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_slug(code.code, lower=False))[:60]
            value = value.strip("_") or f"wert_{index + 1}"
            base, n = value, 2
            while value in seen:
                value, n = f"{base[:55]}_{n}", n + 1
            seen.add(value)
            if value != code.code:
                self.report.add(
                    el.ref,
                    _("Code „%(code)s“ als „%(value)s“ übernommen.")
                    % {"code": code.code[:60], "value": value},
                )
            options.append(
                {"value": value, "label": self.text(code.name or code.code, el.ref, _("Wert"))}
            )
        return options

    def choice(self, el: FimElement, spec: dict[str, Any], options: list[dict[str, Any]]) -> None:
        spec["options"] = options
        if el.max is None or el.max > 1:
            spec["type"] = "multichoice"
            if el.min > 1:
                spec["min_choices"] = el.min
            if el.max is not None:
                spec["max_choices"] = min(el.max, len(options))
        else:
            spec["type"] = "choice"
            if len(options) >= SELECT_FROM:
                spec["widget"] = "select"


def schema_to_definition(
    schema: FimSchema, *, codelists: list[CodeList], report: MappingReport
) -> dict[str, Any]:
    """A complete, checked form definition for `schema`; raises FimImportError.

    The result passes `definition_errors` (schema, meaning and rendering), so
    the draft it becomes can be published as it is.
    """
    mapper = _Mapper(codelists, report)
    definition = mapper.definition(schema)
    report.add(
        "",
        _(
            "Das Schema enthält nur deutsche Texte; die englischen Texte sind vorerst "
            "die deutschen und müssen übersetzt werden."
        ),
    )
    errors = definition_errors(definition)
    if errors:
        listed = "; ".join(str(e) for e in errors[:10])
        raise FimImportError(
            _("Das Schema ließ sich nicht in ein gültiges Formular übertragen: %(errors)s")
            % {"errors": listed}
        )
    return definition
