"""A form definition -> an XDatenfelder 3.0.0 Stammdatenschema (XML bytes).

Elements that came from FIM keep their id and version; the others get
generated ids (`S99…`/`G99…`/`F99…` counted per export) and the form
version's number as version. The inverse of `mapping`: a schema imported,
exported and imported again gives the same definition. What the exchange
format cannot carry (English texts, conditions, validations, fees, roles) is
listed in the returned report.
"""

from __future__ import annotations

import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, register_namespace, tostring

from django.utils.translation import gettext as _

from ..definition import tr
from .mapping import (
    DATETIME_PATTERN,
    SYNTHETIC_STEP_TITLE,
    TEXTAREA_FROM,
    TIME_PATTERN,
)
from .report import MappingReport
from .xdf_read import NS_XDF3, ROOT_SCHEMA

X = f"{{{NS_XDF3}}}"
register_namespace("xdf", NS_XDF3)
STATUS_LIST_VERSION = "2020-03-19"
FIXED_PATTERNS = {"postcode": "[0-9]{5}", "steuer_id": "[0-9]{11}"}
NUMERIC = {"number", "money"}


def _el(parent: Element, name: str, text: str | None = None, **attrs: str) -> Element:
    node = SubElement(parent, X + name, attrs)
    if text is not None:
        node.text = text
    return node


def _code(parent: Element, name: str, code: str, **attrs: str) -> None:
    # The code element itself is unqualified in XDatenfelder.
    SubElement(_el(parent, name, **attrs), "code").text = code


class _Writer:
    def __init__(self, *, version_number: int, now: datetime.datetime, report: MappingReport):
        self.version = f"{version_number}.0.0"
        self.now = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.report = report
        self.counters = {"S": 0, "G": 0, "F": 0, "R": 0}

    def ident(self, spec: dict[str, Any], prefix: str, fallback_name: str) -> tuple[str, str, str]:
        fim = spec.get("fim")
        if fim:
            return fim["id"], fim.get("version", ""), fim.get("name") or fallback_name
        self.counters[prefix] += 1
        return f"{prefix}99{self.counters[prefix]:07d}", self.version, fallback_name

    def common(self, node: Element, ident: tuple[str, str, str], label: str, help_text: str):
        identification = _el(node, "identifikation")
        _el(identification, "id", ident[0])
        _el(identification, "version", ident[1])
        _el(node, "name", ident[2])
        _el(node, "beschreibung", "")
        _el(node, "definition", "")
        _el(node, "bezug", "")
        _code(node, "freigabestatus", "2", listVersionID=STATUS_LIST_VERSION)
        _el(node, "letzteAenderung", self.now)
        _el(node, "bezeichnungEingabe", label)
        _el(node, "bezeichnungAusgabe", label)
        _code(node, "schemaelementart", "HAR")
        _el(node, "hilfetextEingabe", help_text)
        _el(node, "hilfetextAusgabe", "")

    def rules(self, node: Element, spec: dict[str, Any]) -> None:
        for rule in (spec.get("fim") or {}).get("rules", []):
            regel = _el(node, "regel")
            identification = _el(regel, "identifikation")
            _el(identification, "id", rule["id"])
            _el(identification, "version", rule.get("version", ""))
            _el(regel, "name", rule.get("name", ""))
            _el(regel, "beschreibung", "")
            _el(regel, "freitextRegel", rule["text"])
            _el(regel, "letzteAenderung", self.now)
            if rule.get("script"):
                _el(regel, "skript", rule["script"])

    def struktur(self, parent: Element, anzahl: str) -> Element:
        struktur = _el(parent, "struktur")
        _el(struktur, "anzahl", anzahl)
        _el(struktur, "bezug", "")
        return _el(struktur, "enthaelt")

    # -- elements ----------------------------------------------------------------
    def items(self, parent: Element, items: list[dict[str, Any]]) -> None:
        index = 0
        while index < len(items):
            spec = items[index]
            index += 1
            trailing: list[dict[str, Any]] = []
            if spec.get("type") == "group" and spec.get("repeatable") and spec.get("fim"):
                # File fields the importer moved out of a repeating group (ours cannot
                # hold files) go back into it; importing again moves them out the same way.
                files = min(int(spec.get("max", 20)), 30)
                while (
                    index < len(items)
                    and items[index].get("type") == "file"
                    and items[index].get("multiple")
                    and items[index].get("max_files") == files
                ):
                    trailing.append(items[index])
                    index += 1
            self.item(parent, spec, trailing)

    def group(self, parent: Element, spec: dict[str, Any], anzahl: str, items: list[dict], **kw):
        node = _el(self.struktur(parent, anzahl), "datenfeldgruppe")
        ident = self.ident(spec, "G", spec.get("id", ""))
        self.common(node, ident, kw["label"], kw.get("help", ""))
        self.rules(node, spec)
        self.items(node, items)

    def item(
        self, parent: Element, spec: dict[str, Any], trailing: list[dict[str, Any]] | None = None
    ) -> None:
        if spec.get("type") != "group":
            self.field(parent, spec)
            return
        fields = spec["fields"] + (trailing or [])
        if spec.get("repeatable"):
            anzahl = f"{spec.get('min', 0)}:{spec.get('max', 20)}"
            if not spec.get("fim") and len(fields) == 1 and not trailing:
                # A field that may be given several times (see mapping.wrapper).
                self.field(parent, fields[0], anzahl=anzahl)
                return
        else:
            anzahl = "1:1"
        self.group(
            parent,
            spec,
            anzahl,
            fields,
            label=tr(spec["label"], "de"),
            help=tr(spec.get("help"), "de"),
        )

    def label_field(self, parent: Element, text: str) -> None:
        node = _el(self.struktur(parent, "1:1"), "datenfeld")
        self.counters["F"] += 1
        ident = (f"F99{self.counters['F']:07d}", self.version, "Hinweis")
        self.common(node, ident, "Hinweis", "")
        _code(node, "feldart", "label")
        _code(node, "datentyp", "text")
        _el(node, "inhalt", text)
        _code(node, "vorbefuellung", "keine")

    def field(self, parent: Element, spec: dict[str, Any], anzahl: str | None = None) -> None:
        kind = spec["type"]
        required = bool(spec.get("required"))
        if anzahl is None:
            anzahl = "1:1" if required else "0:1"
            if kind == "multichoice":
                low = spec.get("min_choices") or (1 if required else 0)
                anzahl = f"{low}:{spec.get('max_choices', '*')}"
            elif kind == "file" and spec.get("multiple"):
                anzahl = f"{1 if required else 0}:{spec.get('max_files', 10)}"
        node = _el(self.struktur(parent, anzahl), "datenfeld")
        ident = self.ident(spec, "F", spec["id"])
        self.common(node, ident, tr(spec["label"], "de"), tr(spec.get("help"), "de"))
        feldart, datentyp, praezisierung = "input", "text", {}
        if kind in {"choice", "multichoice"}:
            feldart = "select"
        elif kind == "date":
            datentyp = "date"
        elif kind in {"yesno", "consent"}:
            datentyp = "bool"
        elif kind == "number":
            datentyp = "num" if spec.get("decimals") else "num_int"
        elif kind == "money":
            datentyp = "num_currency"
        elif kind == "file":
            datentyp = "file"
        elif spec.get("pattern") == TIME_PATTERN:
            datentyp = "time"
        elif spec.get("pattern") == DATETIME_PATTERN:
            datentyp = "datetime"
        else:
            pattern = spec.get("pattern") or FIXED_PATTERNS.get(kind)
            if spec.get("min_length"):
                praezisierung["minLength"] = str(spec["min_length"])
            maximum = spec.get("max_length") or (5000 if kind == "textarea" else None)
            if kind == "textarea" and maximum <= TEXTAREA_FROM:
                maximum = TEXTAREA_FROM + 1  # stays a textarea when imported again
            if maximum:
                praezisierung["maxLength"] = str(maximum)
            if pattern:
                praezisierung["pattern"] = pattern
        if kind == "number" and spec.get("decimals"):
            praezisierung["fractionDigits"] = str(spec["decimals"])
        if kind in NUMERIC:
            if "min" in spec:
                praezisierung["minValue"] = str(spec["min"])
            if "max" in spec:
                praezisierung["maxValue"] = str(spec["max"])
        _code(node, "feldart", feldart)
        _code(node, "datentyp", datentyp)
        if praezisierung:
            _el(node, "praezisierung", **praezisierung)
        _el(node, "inhalt", "")
        _code(node, "vorbefuellung", "keine")
        if feldart == "select":
            werte = _el(node, "werte")
            for option in spec["options"]:
                wert = _el(werte, "wert")
                _el(wert, "code", option["value"])
                _el(wert, "name", tr(option["label"], "de"))
                _el(wert, "hilfe", "")
        self.rules(node, spec)

    # -- the whole form --------------------------------------------------------
    def step(self, parent: Element, step: dict[str, Any]) -> None:
        fields = step["fields"]
        intro = tr(step.get("intro"), "de")
        if not step.get("fim") and self.is_synthetic(step):
            # Steps the importer made for top-level fields or a repeating top-level
            # group are written back as top-level elements (see mapping.definition).
            if intro:
                self.label_field(parent, intro)
            self.items(parent, fields)
            return
        self.group(parent, step, "1:1", fields, label=tr(step["title"], "de"), help=intro)

    @staticmethod
    def is_synthetic(step: dict[str, Any]) -> bool:
        fields = step["fields"]
        if step["title"]["de"] == SYNTHETIC_STEP_TITLE:
            return all(f.get("type") != "group" or not f.get("fim") for f in fields)
        repeatable = [f for f in fields if f.get("type") == "group"]
        return (
            len(repeatable) == 1
            and bool(repeatable[0].get("repeatable"))
            and fields[0] is repeatable[0]
            and all(f.get("type") == "file" for f in fields[1:])
            and not step.get("intro")
        )

    def schema(self, definition: dict[str, Any], *, service: Any) -> Element:
        root = Element(X + ROOT_SCHEMA)
        header = _el(root, "header")
        _el(header, "nachrichtID", f"thueringen-portal-{service.slug}-{self.version}")
        _el(header, "erstellungszeitpunkt", self.now)
        node = _el(root, "stammdatenschema")
        fim = definition.get("fim") or {}
        if fim:
            ident = (fim["id"], fim.get("version", ""), fim.get("name") or service.name_de)
        else:
            ident = ("S99" + f"{service.pk:07d}", self.version, service.name_de)
        identification = _el(node, "identifikation")
        _el(identification, "id", ident[0])
        _el(identification, "version", ident[1])
        _el(node, "name", ident[2])
        _el(node, "beschreibung", service.summary_de or "")
        _el(node, "definition", "")
        _el(node, "bezug", service.legal_basis or "")
        _code(node, "freigabestatus", "2", listVersionID=STATUS_LIST_VERSION)
        _el(node, "letzteAenderung", self.now)
        _el(node, "bezeichnung", service.name_de)
        _el(node, "hilfetext", "")
        _code(node, "ableitungsmodifikationenStruktur", "3")
        _code(node, "ableitungsmodifikationenRepraesentation", "1")
        self.rules(node, definition)
        for step in definition["steps"]:
            self.step(node, step)
        return root


def _lost(definition: dict[str, Any], report: MappingReport) -> None:
    """Report what XDatenfelder cannot carry, once per kind."""
    found: set[str] = set()

    def visit(spec: dict[str, Any]) -> None:
        for key in ("visible_if", "rules", "role", "autocomplete", "reject", "unit"):
            if spec.get(key):
                found.add(key)
        for item in spec.get("fields", []):
            visit(item)

    for step in definition.get("steps", []):
        visit(step)
    messages = {
        "visible_if": _("Bedingungen (visible_if) werden nicht exportiert."),
        "rules": _("Prüfregeln (rules) werden nicht exportiert."),
        "role": _("Rollen (Name, E-Mail der antragstellenden Person) werden nicht exportiert."),
        "autocomplete": _("Autovervollständigung (autocomplete) wird nicht exportiert."),
        "reject": _("Zurückgewiesene Formulierungen (reject) werden nicht exportiert."),
        "unit": _("Einheiten (unit) werden nicht exportiert."),
    }
    for key in sorted(found):
        report.add("", messages[key])
    if definition.get("fees"):
        report.add("", _("Gebühren werden nicht exportiert."))
    if definition.get("parameters"):
        report.add("", _("Parameter der Gemeinden werden nicht exportiert."))
    report.add("", _("Nur die deutschen Texte werden exportiert."))


def definition_to_xdf3(
    definition: dict[str, Any],
    *,
    service: Any,
    version_number: int,
    report: MappingReport,
    now: datetime.datetime,
) -> bytes:
    """XDatenfelder 3.0.0 XML (UTF-8) for a checked definition; `report` gets what is lost."""
    writer = _Writer(version_number=version_number, now=now, report=report)
    root = writer.schema(definition, service=service)
    _lost(definition, report)
    indent(root)
    return tostring(root, encoding="utf-8", xml_declaration=True)
