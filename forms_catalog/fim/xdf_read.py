"""Read XDatenfelder 2.0 and 3.0 (and genericode code lists) into one neutral model.

Untrusted input: parsed with defusedxml (no DTDs, no entities, no external
references), bounded in size, depth and element count. Every problem raises
`FimImportError` with a German message for the Kompetenzzentrum; nothing here
writes to the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils.translation import gettext as _

NS_XDF2 = "urn:xoev-de:fim:standard:xdatenfelder_2"
NS_XDF3 = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0"
NS_GENERICODE = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/"
ROOT_SCHEMA = "xdatenfelder.stammdatenschema.0102"
ROOT_GROUP = "xdatenfelder.datenfeldgruppe.0103"  # XDatenfelder 3 only: a single group

# Real Stammdatenschemata are well below 1 MB; anything this large is refused
# before parsing so that a huge upload cannot tie up a web worker.
MAX_XML_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 12  # nested groups
MAX_ELEMENTS = 3000  # fields and groups of one schema
TEXT_CAP = 20000

ANZAHL = re.compile(r"^\s*(\d{1,4})\s*:\s*(\d{1,4}|\*|n)\s*$")


class FimImportError(Exception):
    """A schema or code list that cannot be imported; `message` is German."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class FimRule:
    id: str
    version: str
    name: str
    text: str
    script: str = ""


@dataclass
class FimCode:
    code: str
    name: str
    help: str = ""


@dataclass
class CodeListRef:
    uri: str
    version: str
    version_uri: str
    list_id: str = ""
    code_key: str = ""  # XDatenfelder 3: the columns holding code and name
    name_key: str = ""


@dataclass
class FimElement:
    """A Datenfeld (`kind` "field") or a Datenfeldgruppe (`kind` "group") at one place."""

    kind: str
    id: str
    version: str
    name: str
    label: str
    help: str
    min: int = 1
    max: int | None = 1  # None: unbounded ("*")
    feldart: str = ""
    datentyp: str = ""
    praezisierung: dict[str, str] = field(default_factory=dict)
    praezisierung_problem: str = ""
    inhalt: str = ""
    codes: list[FimCode] | None = None
    codelist: CodeListRef | None = None
    media_types: list[str] = field(default_factory=list)
    max_size: str = ""
    rules: list[FimRule] = field(default_factory=list)
    children: list[FimElement] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """How the report names the element: id, version and name."""
        return f"{self.id} {self.version} „{self.name}“".replace("  ", " ")


@dataclass
class FimSchema:
    xdf_version: str  # "2" or "3"
    id: str
    version: str
    name: str
    label: str
    help: str
    legal_basis: str
    rules: list[FimRule] = field(default_factory=list)
    children: list[FimElement] = field(default_factory=list)


@dataclass
class CodeList:
    uri: str
    version: str
    version_uri: str
    name: str
    key: str  # the key column (the codes)
    name_column: str  # the column read as the codes' names unless a field names another
    rows: list[dict[str, str]]

    def codes(self, *, code_key: str = "", name_key: str = "") -> list[FimCode]:
        code_column = code_key if code_key and any(code_key in r for r in self.rows) else self.key
        label_column = (
            name_key if name_key and any(name_key in r for r in self.rows) else self.name_column
        )
        return [
            FimCode(
                code=row[code_column][:200], name=(row.get(label_column) or row[code_column])[:2000]
            )
            for row in self.rows
            if row.get(code_column)
        ]


# --- XML helpers -----------------------------------------------------------------
def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def child(el: Element | None, name: str) -> Element | None:
    """First child called `name` in any namespace (the samples mix qualified and plain `code`)."""
    if el is None:
        return None
    for item in el:
        if local(item.tag) == name:
            return item
    return None


def children(el: Element, name: str) -> list[Element]:
    return [item for item in el if local(item.tag) == name]


def text_of(el: Element | None, *path: str) -> str:
    for name in path:
        el = child(el, name)
    if el is None:
        return ""
    return "".join(el.itertext()).strip()[:TEXT_CAP]


def code_of(el: Element | None, name: str) -> str:
    """A code-list value: `<name><code>x</code></name>`."""
    return text_of(el, name, "code")


def parse_xml(data: bytes, *, what: str) -> Element:
    """Parse untrusted XML safely; German message for every way it can fail."""
    if not isinstance(data, bytes):
        raise FimImportError(_("Die Datei %(what)s konnte nicht gelesen werden.") % {"what": what})
    if len(data) > MAX_XML_BYTES:
        raise FimImportError(
            _("Die Datei %(what)s ist zu groß (%(size)s MB; höchstens %(limit)s MB).")
            % {
                "what": what,
                "size": round(len(data) / (1024 * 1024), 1),
                "limit": MAX_XML_BYTES // (1024 * 1024),
            }
        )
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FimImportError(
            _(
                "Die Datei %(what)s enthält eine DTD, Entitäten oder externe Verweise. "
                "Solche Dateien werden aus Sicherheitsgründen nicht verarbeitet."
            )
            % {"what": what}
        ) from None
    except (ParseError, ValueError, UnicodeError) as exc:
        raise FimImportError(
            _("Die Datei %(what)s ist kein wohlgeformtes XML (%(detail)s).")
            % {"what": what, "detail": str(exc)[:200]}
        ) from None


# --- XDatenfelder ------------------------------------------------------------------
class _Reader:
    def __init__(self, xdf_version: str) -> None:
        self.xdf_version = xdf_version
        self.count = 0

    def identification(self, el: Element, kind: str) -> tuple[str, str, str]:
        ident = child(el, "identifikation")
        fim_id = text_of(ident, "id")
        version = text_of(ident, "version")
        name = text_of(el, "name")
        if not fim_id:
            raise FimImportError(
                _("Ein Element (%(kind)s „%(name)s“) hat keine Kennung (identifikation/id).")
                % {"kind": kind, "name": name or "ohne Namen"}
            )
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,79}", fim_id):
            raise FimImportError(
                _("Die Kennung „%(id)s“ ist keine gültige FIM-Kennung.") % {"id": fim_id[:80]}
            )
        return fim_id, version[:40], name[:500]

    def rules(self, el: Element) -> list[FimRule]:
        found = []
        for rule in children(el, "regel"):
            ident = child(rule, "identifikation")
            text = (
                text_of(rule, "freitextRegel")
                or text_of(rule, "definition")
                or text_of(rule, "beschreibung")
                or text_of(rule, "bezeichnungEingabe")
                or text_of(rule, "name")
            )
            found.append(
                FimRule(
                    id=text_of(ident, "id")[:80] or "?",
                    version=text_of(ident, "version")[:40],
                    name=text_of(rule, "name")[:500],
                    text=text or "—",
                    script=(text_of(rule, "script") or text_of(rule, "skript")),
                )
            )
        return found

    def structure(self, el: Element, depth: int) -> list[FimElement]:
        if depth > MAX_DEPTH:
            raise FimImportError(
                _("Das Schema ist zu tief verschachtelt (mehr als %(limit)s Ebenen).")
                % {"limit": MAX_DEPTH}
            )
        items = []
        for struktur in children(el, "struktur"):
            anzahl = text_of(struktur, "anzahl") or "1:1"
            match = ANZAHL.match(anzahl)
            contained = child(struktur, "enthaelt")
            inner = None
            if contained is not None:
                inner = child(contained, "datenfeld")
                if inner is None:
                    inner = child(contained, "datenfeldgruppe")
            if inner is None:
                raise FimImportError(
                    _("Eine Struktur enthält weder ein Datenfeld noch eine Datenfeldgruppe.")
                )
            element = self.element(inner, depth)
            if not match:
                raise FimImportError(
                    _("%(ref)s: ungültige Anzahl „%(anzahl)s“ (erwartet z. B. 0:1, 1:1, 0:*).")
                    % {"ref": element.ref, "anzahl": anzahl[:20]}
                )
            element.min = int(match.group(1))
            upper = match.group(2)
            element.max = None if upper in {"*", "n"} else int(upper)
            if element.max is not None and element.max < max(element.min, 1):
                raise FimImportError(
                    _(
                        "%(ref)s: ungültige Anzahl „%(anzahl)s“ "
                        "(Höchstzahl kleiner als Mindestzahl)."
                    )
                    % {"ref": element.ref, "anzahl": anzahl[:20]}
                )
            items.append(element)
        return items

    def element(self, el: Element, depth: int) -> FimElement:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise FimImportError(
                _("Das Schema hat mehr als %(limit)s Elemente.") % {"limit": MAX_ELEMENTS}
            )
        kind = "group" if local(el.tag) == "datenfeldgruppe" else "field"
        fim_id, version, name = self.identification(
            el, _("Datenfeldgruppe") if kind == "group" else _("Datenfeld")
        )
        element = FimElement(
            kind=kind,
            id=fim_id,
            version=version,
            name=name,
            label=text_of(el, "bezeichnungEingabe") or name,
            help=text_of(el, "hilfetextEingabe"),
            rules=self.rules(el),
        )
        if kind == "group":
            element.children = self.structure(el, depth + 1)
            return element
        element.feldart = code_of(el, "feldart")
        element.datentyp = code_of(el, "datentyp")
        element.inhalt = text_of(el, "inhalt")
        self.read_praezisierung(el, element)
        werte = child(el, "werte")
        if werte is not None:
            element.codes = [
                FimCode(
                    code=text_of(wert, "code")[:200],
                    name=text_of(wert, "name")[:2000],
                    help=text_of(wert, "hilfe")[:2000],
                )
                for wert in children(werte, "wert")
            ]
        reference = child(el, "codelisteReferenz")
        if reference is not None:
            # XDatenfelder 2 wraps the genericode identification; version 3 does not.
            gc = child(reference, "genericodeIdentification")
            gc = reference if gc is None else gc
            element.codelist = CodeListRef(
                uri=text_of(gc, "canonicalIdentification"),
                version=text_of(gc, "version"),
                version_uri=text_of(gc, "canonicalVersionUri"),
                list_id=text_of(reference, "identifikation", "id"),
                code_key=text_of(el, "codeKey"),
                name_key=text_of(el, "nameKey"),
            )
        element.media_types = [text_of(m) for m in children(el, "mediaType") if text_of(m)] or [
            text_of(m) for m in children(el, "medientyp") if text_of(m)
        ]
        element.max_size = text_of(el, "maxSize")
        return element

    def read_praezisierung(self, el: Element, element: FimElement) -> None:
        node = child(el, "praezisierung")
        if node is None:
            return
        values: dict[str, str] = {k: str(v)[:500] for k, v in node.attrib.items()}
        body = text_of(node)
        if body:
            # XDatenfelder 2 writes the constraints as a JSON object in the element text.
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                values.update({str(k): str(v)[:500] for k, v in parsed.items()})
            else:
                element.praezisierung_problem = body[:200]
        element.praezisierung = values


def schema_read(data: bytes) -> FimSchema:
    """Parse an XDatenfelder 2.0 or 3.0 Stammdatenschema (or an XDF 3 Datenfeldgruppe)."""
    root = parse_xml(data, what=_("des Schemas"))
    ns, name = namespace(root.tag), local(root.tag)
    versions = {NS_XDF2: "2", NS_XDF3: "3"}
    if ns not in versions:
        raise FimImportError(
            _(
                "Die Datei ist kein XDatenfelder-Schema der Version 2.0 oder 3.0 "
                "(Namensraum „%(ns)s“ ist unbekannt)."
            )
            % {"ns": ns[:200] or "—"}
        )
    xdf_version = versions[ns]
    reader = _Reader(xdf_version)
    if name == ROOT_GROUP and xdf_version == "3":
        group_el = child(root, "datenfeldgruppe")
        if group_el is None:
            raise FimImportError(_("Die Nachricht enthält keine Datenfeldgruppe."))
        group = reader.element(group_el, 0)
        return FimSchema(
            xdf_version=xdf_version,
            id=group.id,
            version=group.version,
            name=group.name,
            label=group.label,
            help=group.help,
            legal_basis=text_of(group_el, "bezug"),
            children=[group],
        )
    if name != ROOT_SCHEMA:
        raise FimImportError(
            _(
                "Die Datei ist keine Stammdatenschema-Nachricht "
                "(%(root)s erwartet, „%(found)s“ gefunden)."
            )
            % {"root": ROOT_SCHEMA, "found": name[:100]}
        )
    schema_el = child(root, "stammdatenschema")
    if schema_el is None:
        raise FimImportError(_("Die Nachricht enthält kein Stammdatenschema."))
    fim_id, version, schema_name = reader.identification(schema_el, _("Stammdatenschema"))
    return FimSchema(
        xdf_version=xdf_version,
        id=fim_id,
        version=version,
        name=schema_name,
        label=(
            text_of(schema_el, "bezeichnung")
            or text_of(schema_el, "bezeichnungEingabe")
            or schema_name
        ),
        help=text_of(schema_el, "hilfetext") or text_of(schema_el, "hilfetextEingabe"),
        legal_basis=text_of(schema_el, "bezug"),
        rules=reader.rules(schema_el),
        children=reader.structure(schema_el, 0),
    )
