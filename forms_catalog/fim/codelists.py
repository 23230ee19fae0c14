"""OASIS genericode 1.0 code lists (what XDatenfelder 2 fields reference for their values)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .xdf_read import (
    NS_GENERICODE,
    CodeList,
    CodeListRef,
    FimImportError,
    child,
    children,
    local,
    namespace,
    parse_xml,
    text_of,
)

MAX_CODES = 300  # the choice types' limit
# A longer list (e.g. all municipalities) is read, and the field becomes a text field.
MAX_ROWS = 20000


def codelist_read(data: bytes, *, filename: str = "") -> CodeList:
    """Parse one genericode file. The key column gives the code, the next column the name."""
    what = f"„{filename}“" if filename else _("der Codeliste")
    root = parse_xml(data, what=what)
    if namespace(root.tag) != NS_GENERICODE or local(root.tag) != "CodeList":
        raise FimImportError(
            _("Die Datei %(what)s ist keine genericode-Codeliste (Namensraum „%(ns)s“).")
            % {"what": what, "ns": namespace(root.tag)[:200] or "—"}
        )
    ident = child(root, "Identification")
    uri = text_of(ident, "CanonicalUri")
    if not uri:
        raise FimImportError(
            _("Die Codeliste %(what)s hat keine Kennung (Identification/CanonicalUri).")
            % {"what": what}
        )
    column_set = child(root, "ColumnSet")
    columns = (
        [c.get("Id", "") for c in children(column_set, "Column")] if column_set is not None else []
    )
    key_ref = child(child(column_set, "Key"), "ColumnRef")
    key = key_ref.get("Ref", "") if key_ref is not None else (columns[0] if columns else "")
    name_column = next((c for c in columns if c != key), key)
    rows: list[dict[str, str]] = []
    simple = child(root, "SimpleCodeList")
    for row in children(simple if simple is not None else root, "Row"):
        values: dict[str, str] = {}
        for position, value in enumerate(children(row, "Value")):
            column = value.get("ColumnRef") or (
                columns[position] if position < len(columns) else ""
            )
            values[column] = text_of(value, "SimpleValue")
        if values.get(key):
            rows.append(values)
        if len(rows) > MAX_ROWS:
            raise FimImportError(
                _("Die Codeliste %(what)s hat mehr als %(limit)s Werte.")
                % {"what": what, "limit": MAX_ROWS}
            )
    if not rows:
        raise FimImportError(_("Die Codeliste %(what)s enthält keine Werte.") % {"what": what})
    return CodeList(
        uri=uri,
        version=text_of(ident, "Version"),
        version_uri=text_of(ident, "CanonicalVersionUri"),
        name=text_of(ident, "LongName") or text_of(ident, "ShortName") or uri,
        key=key,
        name_column=name_column,
        rows=rows,
    )


def codelist_find(reference: CodeListRef, codelists: list[CodeList]) -> CodeList | None:
    """The supplied list a field refers to: by canonical version URI, else URI + version."""
    for codelist in codelists:
        if reference.version_uri and codelist.version_uri == reference.version_uri:
            return codelist
    for codelist in codelists:
        if codelist.uri == reference.uri and (
            not reference.version or codelist.version == reference.version
        ):
            return codelist
    return None
