"""The GV100AD parser: the shipped file, and every kind of damaged file."""

from __future__ import annotations

from collections import Counter

import pytest

from municipalities.importers.gv100ad import Gv100adError, parse_gv100ad, parse_gv100ad_lines
from municipalities.services import serving_gemeinde_record
from tests.municipalities.conftest import GV100AD, thueringen_lines


@pytest.fixture(scope="module")
def edition():
    return parse_gv100ad(GV100AD, land="16")


def parse(lines: list[str]):
    return parse_gv100ad_lines([(line + "\n").encode() for line in lines], land="16")


def test_shipped_file_has_thueringens_units(edition):
    assert edition.gebietsstand.isoformat() == "2025-11-30"
    assert edition.land_name == "Thüringen"
    assert len(edition.kreise) == 22
    assert Counter(k.kind for k in edition.kreise.values()) == {"41": 5, "44": 17}
    assert Counter(v.kind for v in edition.verbaende.values()) == {"50": 109, "54": 42, "58": 38}
    assert len(edition.gemeinden) == 605
    assert Counter(g.kind for g in edition.gemeinden.values()) == {"61": 5, "63": 115, "64": 485}
    assert sum(g.population for g in edition.gemeinden.values()) == 2_100_277


def test_gemeinde_record_fields(edition):
    uder = edition.gemeinden["16061119"]
    assert uder.name == "Uder"
    assert uder.ars == "160615051119"
    assert uder.verband_key == "160615051"
    erfurt = edition.gemeinden["16051000"]
    assert erfurt.kind == "61"
    assert erfurt.town_hall_postcode == "99084"
    assert erfurt.population == 218_793


@pytest.mark.parametrize(
    ("verband_key", "serving"),
    [
        ("160615051", "Uder"),  # Sitz names it verbatim
        ("160745052", "Eisenberg, Stadt"),  # Sitz 'Eisenberg/Thür.': found by the Verband name
        ("160685050", "Elxleben"),  # Sitz 'Elxleben a. d. Gera': prefix
        ("160695051", "Auengrund"),  # Sitz is the Ortsteil 'Crock'
        ("160665050", "Meiningen, Stadt"),
        ("160640046", "Mühlhausen/Thüringen, Stadt"),  # verbandsfrei: its only Gemeinde
    ],
)
def test_serving_gemeinde_of_erfuellende_and_verbandsfreie_gemeinden(edition, verband_key, serving):
    record = serving_gemeinde_record(edition, edition.verbaende[verband_key])
    assert record is not None
    assert record.name == serving


def test_every_non_vg_verband_has_a_serving_gemeinde(edition):
    for verband in edition.verbaende.values():
        record = serving_gemeinde_record(edition, verband)
        if verband.kind == "54":
            assert record is None
        else:
            assert record is not None, verband
            assert record.verband_key == verband.key


def test_truncated_last_line_is_refused_naming_the_line():
    lines = thueringen_lines()
    lines[-1] = lines[-1][:100]
    with pytest.raises(Gv100adError, match=rf"Zeile {len(lines)}: Satz ist abgeschnitten"):
        parse(lines)


def test_file_cut_between_records_is_refused():
    lines = thueringen_lines()
    # Cut after the Verband records of the last Kreis, before its Gemeinden.
    last_verband = max(i for i, line in enumerate(lines) if line.startswith("50"))
    with pytest.raises(Gv100adError, match="hat keine Gemeinden"):
        parse(lines[: last_verband + 1])


def test_gemeinde_of_unknown_verband_is_refused():
    lines = thueringen_lines()
    index = next(i for i, line in enumerate(lines) if line.startswith("60") and "Uder" in line)
    lines[index] = lines[index][:18] + "9999" + lines[index][22:]
    with pytest.raises(Gv100adError, match=rf"Zeile {index + 1}: .*9999 fehlt"):
        parse(lines)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda line: "99" + line[2:], "unbekannte Satzart"),
        (lambda line: line[:2] + "2025AB30" + line[10:], "Gebietsstand muss aus 8 Ziffern"),
        (lambda line: line[:2] + "20241231" + line[10:], "weicht vom Gebietsstand"),
        (lambda line: line[:122] + "77" + line[124:], "unbekannte Gemeindeart"),
        (lambda line: line[:140] + "12a45678901" + line[151:], "Einwohnerzahl ist keine Zahl"),
        (lambda line: line[:30] + "\x07" + line[31:], "Steuerzeichen"),
        (lambda line: line + "x" * 2000, "zu lang"),
    ],
)
def test_damaged_gemeinde_record_is_refused_naming_the_line(mutate, message):
    lines = thueringen_lines()
    index = next(i for i, line in enumerate(lines) if line.startswith("60"))
    lines[index] = mutate(lines[index])
    with pytest.raises(Gv100adError, match=rf"Zeile {index + 1}: .*{message}"):
        parse(lines)


def test_invalid_utf8_is_refused_naming_the_line():
    raw = [(line + "\n").encode() for line in thueringen_lines()]
    raw[5] = raw[5][:30] + b"\xff\xfe" + raw[5][32:]
    with pytest.raises(Gv100adError, match="Zeile 6: kein gültiges UTF-8"):
        parse_gv100ad_lines(raw, land="16")


def test_empty_file_and_missing_land_are_refused():
    with pytest.raises(Gv100adError, match="leer"):
        parse([])
    with pytest.raises(Gv100adError, match="keinen Landessatz"):
        parse_gv100ad_lines([(line + "\n").encode() for line in thueringen_lines()], land="15")
    with pytest.raises(Gv100adError, match="zweistellig"):
        parse_gv100ad_lines([], land="1'; DROP")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(Gv100adError, match="kann nicht gelesen werden"):
        parse_gv100ad(tmp_path / "fehlt.txt")


def test_binary_garbage_is_refused(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(Gv100adError, match="Zeile 1"):
        parse_gv100ad(path)
