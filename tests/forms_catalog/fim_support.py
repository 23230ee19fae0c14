"""FIM XDatenfelder samples and a small writer of synthetic schemas for the FIM tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from forms_catalog.fim.xdf_read import NS_XDF2, NS_XDF3

# Copies of the samples in the shared domain notes (written for this project, not official).
SAMPLES = Path(__file__).resolve().parent / "fim_samples"
XDF2_SAMPLE = SAMPLES / "S99000001_hundesteuer_xdf2.xml"
XDF3_SAMPLE = SAMPLES / "S99000002_hundesteuer_xdf3.xml"
GENERICODE_SAMPLE = SAMPLES / "C99000001_geschlecht_hund.gc.xml"


def sample(path: Path) -> bytes:
    return path.read_bytes()


def _ident(fim_id: str, version: str) -> str:
    return (
        f"<xdf:identifikation><xdf:id>{escape(fim_id)}</xdf:id>"
        f"<xdf:version>{escape(version)}</xdf:version></xdf:identifikation>"
    )


def _code(name: str, code: str) -> str:
    return f"<xdf:{name}><code>{escape(code)}</code></xdf:{name}>"


def field(
    fim_id: str,
    name: str,
    *,
    xdf: str = "3",
    anzahl: str = "1:1",
    feldart: str = "input",
    datentyp: str = "text",
    praezisierung: dict[str, str] | None = None,
    werte: list[tuple[str, str]] | None = None,
    codelist: tuple[str, str] | None = None,
    inhalt: str = "",
    hilfe: str = "",
    regel: tuple[str, str] | None = None,
    label: str | None = None,
    keys: dict[str, str] | None = None,
) -> str:
    """One `struktur` holding a Datenfeld, in XDatenfelder 2 or 3 spelling."""
    keys = keys or {}
    parts = [
        _ident(fim_id, "1.0"),
        f"<xdf:name>{escape(name)}</xdf:name>",
        f"<xdf:bezeichnungEingabe>{escape(label or name)}</xdf:bezeichnungEingabe>",
        f"<xdf:hilfetextEingabe>{escape(hilfe)}</xdf:hilfetextEingabe>",
        _code("feldart", feldart),
        _code("datentyp", datentyp),
    ]
    if praezisierung:
        if xdf == "2":
            parts.append(
                f"<xdf:praezisierung>{escape(json.dumps(praezisierung))}</xdf:praezisierung>"
            )
        else:
            attrs = " ".join(f'{k}="{escape(v)}"' for k, v in praezisierung.items())
            parts.append(f"<xdf:praezisierung {attrs}/>")
    parts.append(f"<xdf:inhalt>{escape(inhalt)}</xdf:inhalt>")
    if werte:
        rows = "".join(
            f"<xdf:wert><xdf:code>{escape(c)}</xdf:code><xdf:name>{escape(n)}</xdf:name>"
            "<xdf:hilfe></xdf:hilfe></xdf:wert>"
            for c, n in werte
        )
        parts.append(f"<xdf:werte>{rows}</xdf:werte>")
    if codelist and xdf == "2":
        parts.append(
            "<xdf:codelisteReferenz><xdf:identifikation><xdf:id>C1</xdf:id></xdf:identifikation>"
            "<xdf:genericodeIdentification>"
            f"<xdf:canonicalIdentification>{escape(codelist[0])}</xdf:canonicalIdentification>"
            f"<xdf:version>{escape(codelist[1])}</xdf:version>"
            "</xdf:genericodeIdentification></xdf:codelisteReferenz>"
        )
    elif codelist:
        # XDatenfelder 3 names the list directly and may choose its columns.
        parts.append(
            "<xdf:codelisteReferenz>"
            f"<xdf:canonicalIdentification>{escape(codelist[0])}</xdf:canonicalIdentification>"
            f"<xdf:version>{escape(codelist[1])}</xdf:version></xdf:codelisteReferenz>"
            + "".join(f"<xdf:{k}>{escape(v)}</xdf:{k}>" for k, v in keys.items())
        )
    if regel:
        parts.append(_rule(*regel))
    body = "".join(parts)
    return (
        f"<xdf:struktur><xdf:anzahl>{anzahl}</xdf:anzahl><xdf:enthaelt>"
        f"<xdf:datenfeld>{body}</xdf:datenfeld></xdf:enthaelt></xdf:struktur>"
    )


def _rule(rule_id: str, text: str) -> str:
    return (
        f"<xdf:regel>{_ident(rule_id, '1.0')}<xdf:name>Regel {escape(rule_id)}</xdf:name>"
        f"<xdf:definition>{escape(text)}</xdf:definition><xdf:script>x = 1</xdf:script></xdf:regel>"
    )


def group(
    fim_id: str,
    name: str,
    *items: str,
    anzahl: str = "1:1",
    hilfe: str = "",
    regel: tuple[str, str] | None = None,
) -> str:
    body = (
        _ident(fim_id, "1.0")
        + f"<xdf:name>{escape(name)}</xdf:name>"
        + f"<xdf:bezeichnungEingabe>{escape(name)}</xdf:bezeichnungEingabe>"
        + f"<xdf:hilfetextEingabe>{escape(hilfe)}</xdf:hilfetextEingabe>"
        + (_rule(*regel) if regel else "")
        + "".join(items)
    )
    return (
        f"<xdf:struktur><xdf:anzahl>{anzahl}</xdf:anzahl><xdf:enthaelt>"
        f"<xdf:datenfeldgruppe>{body}</xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>"
    )


def schema(
    *items: str, xdf: str = "3", fim_id: str = "S77000001", name: str = "Testschema"
) -> bytes:
    ns = NS_XDF2 if xdf == "2" else NS_XDF3
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="{ns}">'
        "<xdf:header><xdf:nachrichtID>t</xdf:nachrichtID></xdf:header>"
        f"<xdf:stammdatenschema>{_ident(fim_id, '1.0')}<xdf:name>{escape(name)}</xdf:name>"
        + "".join(items)
        + "</xdf:stammdatenschema></xdf:xdatenfelder.stammdatenschema.0102>"
    ).encode("utf-8")


def genericode(uri: str, version: str, rows: list[tuple[str, str]]) -> bytes:
    """A code list with columns code (key), name and kurz (the code in upper case)."""
    body = "".join(
        f'<Row><Value ColumnRef="code"><SimpleValue>{escape(c)}</SimpleValue></Value>'
        f'<Value ColumnRef="name"><SimpleValue>{escape(n)}</SimpleValue></Value>'
        f'<Value ColumnRef="kurz"><SimpleValue>{escape(c.upper())}</SimpleValue></Value></Row>'
        for c, n in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">'
        f"<Identification><ShortName>t</ShortName><Version>{escape(version)}</Version>"
        f"<CanonicalUri>{escape(uri)}</CanonicalUri>"
        f"<CanonicalVersionUri>{escape(uri)}_{escape(version)}</CanonicalVersionUri></Identification>"
        '<ColumnSet><Column Id="code" Use="required"><ShortName>Code</ShortName></Column>'
        '<Column Id="name" Use="required"><ShortName>Name</ShortName></Column>'
        '<Column Id="kurz" Use="optional"><ShortName>Kurz</ShortName></Column>'
        '<Key Id="k"><ShortName>K</ShortName><ColumnRef Ref="code"/></Key></ColumnSet>'
        f"<SimpleCodeList>{body}</SimpleCodeList></gc:CodeList>"
    ).encode()


def all_fields(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field of a definition (groups' fields included), in order."""
    found: list[dict[str, Any]] = []

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == "group":
                visit(item["fields"])
            else:
                found.append(item)

    for step in definition["steps"]:
        visit(step["fields"])
    return found


def by_fim_id(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["fim"]["id"]: f for f in all_fields(definition) if f.get("fim")}
