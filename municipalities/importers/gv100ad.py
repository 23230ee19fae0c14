"""Parser for the Destatis Gemeindeverzeichnis GV100AD (fixed-width records).

Pure parsing and validation, no database access: `parse_gv100ad` returns an
`Edition` for one Land or raises `Gv100adError` naming the line and the
problem. The whole file is checked (also the other Länder), so a truncated
or garbled file is refused before anything is written.

Record layout (positions 1-based inclusive, see the Datensatzbeschreibung
GV100AD published by Destatis with the file):
1–2 record type, 3–10 Gebietsstand, 11–12 Land, 13 Regierungsbezirk,
14–15 Kreis, 16–18 Gemeinde, 19–22 Gemeindeverband, 23–72 name,
73–122 seat of the administration, 123–124 type code, 129–139 area (ha),
140–150 population, 166–170 postcode of the town hall.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

RECORD_TYPES = {"10", "20", "30", "40", "50", "60"}
KREIS_TYPES = {"41", "42", "43", "44", "45"}
VERBAND_TYPES = {"50", "51", "52", "53", "54", "55", "56", "57", "58"}
GEMEINDE_TYPES = {"60", "61", "62", "63", "64", "65", "66", "67"}
# Types the data model knows (Thüringen uses only these).
SUPPORTED_KREIS_TYPES = {"41", "44"}
SUPPORTED_VERBAND_TYPES = {"50", "54", "58"}
SUPPORTED_GEMEINDE_TYPES = {"61", "63", "64"}

# Every record must reach at least the type code; Gemeinde records must also
# carry area, population and postcode (up to position 170).
MIN_LENGTH = {"10": 72, "20": 72, "30": 72, "40": 124, "50": 124, "60": 170}
MAX_LINE_LENGTH = 1000
DIGITS = re.compile(r"\d+")


class Gv100adError(ValueError):
    """The file cannot be imported. The message names the line and the problem."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"Zeile {line}: {message}" if line else message)


@dataclass(frozen=True)
class KreisRecord:
    key: str  # 5 digits: Land + Regierungsbezirk + Kreis
    name: str
    seat: str
    kind: str
    line: int


@dataclass(frozen=True)
class VerbandRecord:
    key: str  # 9 digits: Kreis key + Verband
    kreis_key: str
    name: str
    seat: str
    kind: str
    line: int


@dataclass(frozen=True)
class GemeindeRecord:
    ags: str
    ars: str
    kreis_key: str
    verband_key: str
    name: str
    kind: str
    area_ha: int | None
    population: int | None
    town_hall_postcode: str
    line: int


@dataclass
class Edition:
    """The administrative units of one Land in one edition of the file."""

    gebietsstand: datetime.date
    land_key: str
    land_name: str
    kreise: dict[str, KreisRecord] = field(default_factory=dict)
    verbaende: dict[str, VerbandRecord] = field(default_factory=dict)
    gemeinden: dict[str, GemeindeRecord] = field(default_factory=dict)

    def members(self, verband_key: str) -> list[GemeindeRecord]:
        return [g for g in self.gemeinden.values() if g.verband_key == verband_key]


def _field(line: str, start: int, end: int) -> str:
    """Characters start..end, 1-based inclusive, as in the Destatis layout."""
    return line[start - 1 : end]


def _number(text: str, *, what: str, line: int) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not DIGITS.fullmatch(text):
        raise Gv100adError(f"{what} ist keine Zahl: {text!r}", line=line)
    return int(text)


def _digits(text: str, *, length: int, what: str, line: int) -> str:
    if len(text) != length or not DIGITS.fullmatch(text):
        raise Gv100adError(
            f"{what} muss aus {length} Ziffern bestehen, gelesen: {text!r}", line=line
        )
    return text


def _decode_lines(raw_lines: Iterable[bytes]) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) > MAX_LINE_LENGTH * 4:
            raise Gv100adError("Zeile ist zu lang: das ist keine GV100AD-Datei", line=number)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Gv100adError(
                f"kein gültiges UTF-8 (Byte {exc.start + 1}); die Datei ist beschädigt",
                line=number,
            ) from None
        yield number, text.rstrip("\r\n")


def parse_gv100ad_lines(raw_lines: Iterable[bytes], *, land: str = "16") -> Edition:
    """Parse the records of one Land. Raises Gv100adError for any defect in the file."""
    if not re.fullmatch(r"\d\d", land):
        raise Gv100adError(f"Landesschlüssel muss zweistellig sein, nicht {land!r}")
    gebietsstand: str | None = None
    edition: Edition | None = None
    seen_any = False
    for number, line in _decode_lines(raw_lines):
        if not line.strip():
            continue
        seen_any = True
        if len(line) > MAX_LINE_LENGTH:
            raise Gv100adError("Zeile ist zu lang: das ist keine GV100AD-Datei", line=number)
        if any(ord(ch) < 32 for ch in line):
            raise Gv100adError("Zeile enthält Steuerzeichen", line=number)
        record_type = line[:2]
        if record_type not in RECORD_TYPES:
            raise Gv100adError(f"unbekannte Satzart {record_type!r}", line=number)
        if len(line) < MIN_LENGTH[record_type]:
            raise Gv100adError(
                f"Satz ist abgeschnitten ({len(line)} statt mindestens "
                f"{MIN_LENGTH[record_type]} Zeichen); die Datei ist unvollständig",
                line=number,
            )
        stand = _digits(_field(line, 3, 10), length=8, what="Gebietsstand", line=number)
        if gebietsstand is None:
            gebietsstand = stand
        elif stand != gebietsstand:
            raise Gv100adError(
                f"Gebietsstand {stand} weicht vom Gebietsstand {gebietsstand} der Datei ab",
                line=number,
            )
        land_key = _digits(_field(line, 11, 12), length=2, what="Land", line=number)
        if land_key != land:
            continue
        if record_type == "10":
            if edition is not None:
                raise Gv100adError(f"Land {land} kommt doppelt vor", line=number)
            try:
                day = datetime.datetime.strptime(stand, "%Y%m%d").date()
            except ValueError:
                raise Gv100adError(f"Gebietsstand {stand} ist kein Datum", line=number) from None
            edition = Edition(
                gebietsstand=day, land_key=land, land_name=_field(line, 23, 72).strip()
            )
            continue
        if edition is None:
            raise Gv100adError(f"Satz vor dem Landessatz (Satzart 10) für Land {land}", line=number)
        _parse_unit(edition, record_type, line, number)
    if not seen_any:
        raise Gv100adError("die Datei ist leer")
    if edition is None:
        raise Gv100adError(f"die Datei enthält keinen Landessatz (Satzart 10) für Land {land}")
    _check_complete(edition)
    return edition


def _parse_unit(edition: Edition, record_type: str, line: str, number: int) -> None:
    kreis_key = _digits(_field(line, 11, 15), length=5, what="Kreisschlüssel", line=number)
    name = _field(line, 23, 72).strip()
    seat = _field(line, 73, 122).strip()
    kind = _field(line, 123, 124)
    if record_type in {"40", "50", "60"} and not name:
        raise Gv100adError("Name fehlt", line=number)
    if record_type == "40":
        if kind not in KREIS_TYPES:
            raise Gv100adError(f"unbekannte Kreisart {kind!r}", line=number)
        if kind not in SUPPORTED_KREIS_TYPES:
            raise Gv100adError(f"Kreisart {kind} wird nicht unterstützt", line=number)
        if kreis_key in edition.kreise:
            raise Gv100adError(f"Kreis {kreis_key} kommt doppelt vor", line=number)
        edition.kreise[kreis_key] = KreisRecord(kreis_key, name, seat, kind, number)
    elif record_type == "50":
        if kind not in VERBAND_TYPES:
            raise Gv100adError(f"unbekannte Verbandsart {kind!r}", line=number)
        if kind not in SUPPORTED_VERBAND_TYPES:
            raise Gv100adError(f"Verbandsart {kind} wird nicht unterstützt", line=number)
        if kreis_key not in edition.kreise:
            raise Gv100adError(f"Gemeindeverband vor seinem Kreis {kreis_key}", line=number)
        verband = _digits(_field(line, 19, 22), length=4, what="Verbandsschlüssel", line=number)
        key = kreis_key + verband
        if key in edition.verbaende:
            raise Gv100adError(f"Gemeindeverband {key} kommt doppelt vor", line=number)
        edition.verbaende[key] = VerbandRecord(key, kreis_key, name, seat, kind, number)
    elif record_type == "60":
        if kind not in GEMEINDE_TYPES:
            raise Gv100adError(f"unbekannte Gemeindeart {kind!r}", line=number)
        if kind not in SUPPORTED_GEMEINDE_TYPES:
            raise Gv100adError(f"Gemeindeart {kind} wird nicht unterstützt", line=number)
        gemeinde = _digits(_field(line, 16, 18), length=3, what="Gemeindeschlüssel", line=number)
        verband = _digits(_field(line, 19, 22), length=4, what="Verbandsschlüssel", line=number)
        ags = kreis_key + gemeinde
        verband_key = kreis_key + verband
        if kreis_key not in edition.kreise:
            raise Gv100adError(f"Gemeinde {ags}: Kreis {kreis_key} fehlt in der Datei", line=number)
        if verband_key not in edition.verbaende:
            raise Gv100adError(
                f"Gemeinde {ags}: Gemeindeverband {verband_key} fehlt in der Datei", line=number
            )
        if ags in edition.gemeinden:
            raise Gv100adError(f"Gemeinde {ags} kommt doppelt vor", line=number)
        postcode = _field(line, 166, 170).strip()
        if postcode and not re.fullmatch(r"\d{5}", postcode):
            raise Gv100adError(f"Postleitzahl {postcode!r} ist ungültig", line=number)
        edition.gemeinden[ags] = GemeindeRecord(
            ags=ags,
            ars=verband_key + gemeinde,
            kreis_key=kreis_key,
            verband_key=verband_key,
            name=name,
            kind=kind,
            area_ha=_number(_field(line, 129, 139), what="Fläche", line=number),
            population=_number(_field(line, 140, 150), what="Einwohnerzahl", line=number),
            town_hall_postcode=postcode,
            line=number,
        )
    # Records 20 (Regierungsbezirk) and 30 (Region) carry nothing the portal needs.


def _check_complete(edition: Edition) -> None:
    """A cut-off file leaves Kreise or Verbände without Gemeinden: refuse it."""
    if not edition.gemeinden:
        raise Gv100adError(f"die Datei enthält keine Gemeinden für Land {edition.land_key}")
    used_verbaende = {g.verband_key for g in edition.gemeinden.values()}
    used_kreise = {g.kreis_key for g in edition.gemeinden.values()}
    for verband in edition.verbaende.values():
        if verband.key not in used_verbaende:
            raise Gv100adError(
                f"Gemeindeverband {verband.key} ({verband.name}) hat keine Gemeinden; "
                "die Datei ist unvollständig",
                line=verband.line,
            )
    for kreis in edition.kreise.values():
        if kreis.key not in used_kreise:
            raise Gv100adError(
                f"Kreis {kreis.key} ({kreis.name}) hat keine Gemeinden; "
                "die Datei ist unvollständig",
                line=kreis.line,
            )


def parse_gv100ad(path: str | Path, *, land: str = "16") -> Edition:
    """Parse a GV100AD file from disk (see parse_gv100ad_lines)."""
    try:
        with open(path, "rb") as handle:
            return parse_gv100ad_lines(handle, land=land)
    except OSError as exc:
        raise Gv100adError(f"Datei kann nicht gelesen werden: {exc.strerror}") from None
