"""Each field type with valid, invalid and hostile input, through a compiled step form."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.forms_catalog.helpers import (
    EXE_BYTES,
    HTML_BYTES,
    JPEG_BYTES,
    PNG_BYTES,
    attachment,
    definition,
    field,
    options,
    pdf,
    step_form,
    store_upload,
)

CHOICE = field("c", "choice", options=options("a", "b"))
MULTI = field("m", "multichoice", options=options("a", "b", "c"), max_choices=2)

VALID = [
    (field("v", "text"), {"v": "  Erika Mustermann "}, "Erika Mustermann"),
    (field("v", "textarea"), {"v": "Zeile 1\r\nZeile 2\tTab"}, "Zeile 1\nZeile 2\tTab"),
    (field("v", "email"), {"v": "Erika@Example.DE"}, "erika@example.de"),
    (field("v", "phone"), {"v": "+49 361 123456"}, "+49 361 123456"),
    (field("v", "number", min=0, max=10), {"v": "7"}, 7),
    (field("v", "number", decimals=2), {"v": "65,50"}, "65.50"),
    (field("v", "money"), {"v": "1.234,5"}, "1234.50"),
    (field("v", "money"), {"v": "1234.50 €"}, "1234.50"),
    (CHOICE, {"c": "b"}, "b"),
    (field("v", "yesno"), {"v": "no"}, False),
    (field("v", "consent"), {"v": "on"}, True),
    (field("v", "iban"), {"v": "de89 3704 0044 0532 0130 00"}, "DE89370400440532013000"),
    (field("v", "steuer_id"), {"v": "86 095 742 719"}, "86095742719"),
    (field("v", "postcode"), {"v": "99084"}, "99084"),
    (
        field("v", "pattern", pattern=r"\d{15}", pattern_message={"de": "15", "en": "15"}),
        {"v": "276098106123456"},
        "276098106123456",
    ),
    (
        field("v", "date", past=True, min_age=18),
        {"v_day": "3", "v_month": "10", "v_year": "1990"},
        "1990-10-03",
    ),
]


@pytest.mark.parametrize(("spec", "data", "expected"), VALID)
def test_valid_input_is_stored_normalised(spec, data, expected):
    form = step_form(definition(spec), data)
    assert form.is_valid(), form.errors
    assert form.answers[spec["id"]] == expected


def test_multichoice_keeps_definition_order_without_duplicates():
    form = step_form(definition(MULTI), {"m": ["b", "a", "b"]})
    assert form.is_valid(), form.errors
    assert form.answers == {"m": ["a", "b"]}


INVALID = [
    (field("v", "text", min_length=3), {"v": "ab"}, "mindestens 3"),
    (field("v", "text", max_length=5), {"v": "abcdef"}, "höchstens 5"),
    (field("v", "email"), {"v": "erika@"}, "E-Mail"),
    (field("v", "phone"), {"v": "call me"}, "Telefonnummer"),
    (field("v", "number", min=1), {"v": "0"}, "mindestens 1"),
    (field("v", "number", max=10), {"v": "11"}, "höchstens 10"),
    (field("v", "number"), {"v": "2,5"}, "ganze Zahl"),
    (field("v", "number"), {"v": "1e9999"}, "Zahl"),
    (field("v", "money"), {"v": "12,345"}, "Nachkommastellen"),
    (field("v", "money"), {"v": "zwölf"}, "Betrag"),
    (CHOICE, {"c": "forged"}, "angebotenen"),
    (MULTI, {"m": ["a", "b", "c"]}, "höchstens 2"),
    (MULTI, {"m": ["a", "x"]}, "angebotenen"),
    (field("v", "yesno"), {"v": "maybe"}, "angebotenen"),
    (field("v", "consent"), {}, "bestätigen"),
    (field("v", "iban"), {"v": "DE89370400440532013001"}, "IBAN"),
    (field("v", "iban"), {"v": "DE8937040044053201300"}, "IBAN"),
    (field("v", "steuer_id"), {"v": "86095742718"}, "Steuer"),
    (field("v", "steuer_id"), {"v": "01234567890"}, "Steuer"),
    (field("v", "postcode"), {"v": "9908"}, "fünfstellige"),
    (
        field(
            "v", "pattern", pattern=r"\d+(/\d+)?", pattern_message={"de": "Format 12/3", "en": "x"}
        ),
        {"v": "12/a"},
        "Format 12/3",
    ),
    (field("v", "date"), {"v_day": "31", "v_month": "2", "v_year": "2020"}, "gültiges Datum"),
    (field("v", "date"), {"v_day": "1", "v_month": "", "v_year": "2020"}, "Tag, Monat und Jahr"),
    (field("v", "date"), {"v_day": "1", "v_month": "1", "v_year": "20"}, "gültiges Datum"),
    (
        field("v", "date", past=True),
        {"v_day": "1", "v_month": "1", "v_year": "2030"},
        "Vergangenheit",
    ),
    (field("v", "date", future=True), {"v_day": "1", "v_month": "1", "v_year": "2020"}, "Zukunft"),
    (
        field("v", "date", min_age=18),
        {"v_day": "23", "v_month": "11", "v_year": "2008"},
        "18 Jahre",
    ),
    (
        field("v", "date", min_date="2000-01-01"),
        {"v_day": "1", "v_month": "1", "v_year": "1999"},
        "nicht vor dem 01.01.2000",
    ),
    (field("v", "text"), {}, "Bitte geben Sie „Feld v“ an."),
    (
        field(
            "v",
            "text",
            reject=[{"text": "aller Art", "message": {"de": "Zu allgemein", "en": "x"}}],
        ),
        {"v": "Handel mit Waren aller Art"},
        "Zu allgemein",
    ),
]


@pytest.mark.parametrize(("spec", "data", "message"), INVALID)
def test_invalid_input_is_refused_with_a_message(spec, data, message):
    form = step_form(definition(spec), data)
    assert not form.is_valid()
    errors = " ".join(form.errors[spec["id"]])
    assert message in errors


def test_min_age_is_exact_to_the_day():
    spec = field("v", "date", min_age=18)
    birthday = {"v_day": "22", "v_month": "11", "v_year": "2008"}  # 18 today (TODAY 2026-11-22)
    assert step_form(definition(spec), birthday).is_valid()


def test_messages_follow_the_form_language():
    form = step_form(definition(field("v", "postcode")), {"v": "1"}, language="en")
    assert not form.is_valid()
    assert form.errors["v"] == ["For “Field v”, enter a five-digit postcode."]


# --- hostile input ---------------------------------------------------------------
TEXT_TYPES = ["text", "textarea", "email", "phone", "postcode", "iban", "steuer_id"]


@pytest.mark.parametrize("kind", TEXT_TYPES)
def test_ten_thousand_characters_are_refused_even_without_max_length(kind):
    form = step_form(definition(field("v", kind)), {"v": "A" * 10_000})
    assert not form.is_valid()
    assert "v" in form.errors


@pytest.mark.parametrize(
    "bad", ["Erika\x00", "Eri\x07ka", "Erika\u202egnp.exe", "a\x1bb", "x\ud800"]
)
def test_control_characters_are_refused(bad):
    form = step_form(definition(field("v", "text")), {"v": bad})
    assert not form.is_valid()
    assert "Steuerzeichen" in form.errors["v"][0]


def test_newline_is_refused_in_single_line_text_but_allowed_in_textarea():
    assert not step_form(definition(field("v", "text")), {"v": "a\nb"}).is_valid()
    assert step_form(definition(field("v", "textarea")), {"v": "a\nb"}).is_valid()


def test_html_is_stored_as_text_and_escaped_when_rendered():
    from django.template.loader import render_to_string

    script = '<script>alert("x")</script>'
    form = step_form(definition(field("v", "text")), {"v": script})
    assert form.is_valid()
    assert form.answers["v"] == script
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_html_in_a_number_field_is_refused_and_echoed_escaped():
    from django.template.loader import render_to_string

    form = step_form(definition(field("v", "number")), {"v": "<img src=x onerror=alert(1)>"})
    assert not form.is_valid()
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert "<img" not in html


@pytest.mark.parametrize("value", [["a", "b"], "", None])
def test_wrong_shapes_do_not_crash(value):
    spec = field("v", "text", required=False)
    form = step_form(definition(spec), {"v": value} if value is not None else {})
    form.is_valid()  # must not raise
    assert "v" not in form.errors or form.errors["v"]


def test_forged_date_parts_do_not_crash():
    spec = field("v", "date")
    form = step_form(definition(spec), {"v_day": "x" * 10_000, "v_month": "-1", "v_year": "99999"})
    assert not form.is_valid()


# --- files -----------------------------------------------------------------------
FILE = field("f", "file", extensions=["pdf", "png", "jpg"], max_size=2048)
MULTI_FILE = field("f", "file", extensions=["pdf"], multiple=True, max_files=2)


@pytest.mark.parametrize(
    ("name", "content"),
    [("nachweis.pdf", None), ("foto.png", PNG_BYTES), ("scan.JPG", JPEG_BYTES)],
)
def test_genuine_files_are_accepted_with_their_sniffed_type(name, content):
    upload = pdf(name) if content is None else SimpleUploadedFile(name, content)
    form = step_form(definition(FILE), {}, files={"f": upload})
    assert form.is_valid(), form.errors
    answer = form.get_answers(store_upload)["f"]
    assert len(answer) == 1
    assert answer[0]["name"] == name
    assert answer[0]["content_type"] in {"application/pdf", "image/png", "image/jpeg"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.pdf", EXE_BYTES, "passt nicht"),
        ("seite.pdf", HTML_BYTES, "passt nicht"),
        ("bild.png", JPEG_BYTES, "passt nicht"),
        ("programm.exe", EXE_BYTES, "nicht erlaubten Typ"),
        ("ohne_endung", PNG_BYTES, "nicht erlaubten Typ"),
        ("leer.pdf", b"", "leer"),
        ("gross.pdf", b"%PDF-" + b"0" * 4096, "zu groß"),
    ],
)
def test_disguised_wrong_or_oversized_files_are_refused(name, content, message):
    form = step_form(definition(FILE), {}, files={"f": SimpleUploadedFile(name, content)})
    assert not form.is_valid()
    assert message in " ".join(form.errors["f"])


def test_file_name_is_reduced_to_a_safe_display_name():
    upload = pdf("../../etc/pass\x00wd.pdf")
    form = step_form(definition(FILE), {}, files={"f": upload})
    assert form.is_valid(), form.errors
    assert form.get_answers(store_upload)["f"][0]["name"] == "passwd.pdf"


def test_multiple_files_respect_max_files_and_keep_earlier_uploads():
    earlier = attachment()
    files = {"f": [pdf("a.pdf"), pdf("b.pdf")]}
    from django.utils.datastructures import MultiValueDict

    form = step_form(
        definition(MULTI_FILE), {}, files=MultiValueDict(files), answers={"f": [earlier]}
    )
    assert not form.is_valid()
    assert "höchstens 2" in form.errors["f"][0]

    form = step_form(
        definition(MULTI_FILE),
        {},
        files=MultiValueDict({"f": [pdf("a.pdf")]}),
        answers={"f": [earlier]},
    )
    assert form.is_valid(), form.errors
    assert [a["name"] for a in form.get_answers(store_upload)["f"]] == ["nachweis.pdf", "a.pdf"]


def test_required_file_is_satisfied_by_an_earlier_upload_and_can_be_deleted():
    earlier = attachment()
    form = step_form(definition(FILE), {}, answers={"f": [earlier]})
    assert form.is_valid()
    assert form.answers["f"] == [earlier]
    form = step_form(
        definition(FILE), {"f-delete": earlier["attachment_id"]}, answers={"f": [earlier]}
    )
    assert not form.is_valid()
    assert "Datei hoch" in form.errors["f"][0]


def test_forged_attachment_references_in_saved_answers_are_dropped():
    forged = {"attachment_id": "../../x", "name": "a.pdf", "size": 10, "content_type": "text/html"}
    form = step_form(
        definition(field("f", "file", required=False, extensions=["pdf"])),
        {},
        answers={"f": [forged]},
    )
    assert form.is_valid()
    assert "f" not in form.answers


def test_answers_with_new_uploads_need_a_storage_callback():
    form = step_form(definition(FILE), {}, files={"f": pdf()})
    assert form.is_valid()
    with pytest.raises(ValueError, match="store_upload"):
        form.get_answers()


# --- digits outside ASCII ----------------------------------------------------------
ARABIC_INDIC = "٠١٢٣٤"
FULL_WIDTH = "１２３４５"


@pytest.mark.parametrize("typed", [ARABIC_INDIC, FULL_WIDTH, "9908４", "\u0669\u0669084"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_arabic_indic_and_full_width_digits_in_a_postcode_are_refused_with_its_message(
    typed, language
):
    form = step_form(definition(field("v", "postcode")), {"v": typed}, language=language)
    assert not form.is_valid()
    expected = {
        "de": "Bitte geben Sie bei „Feld v“ eine fünfstellige Postleitzahl ein.",
        "en": "For “Field v”, enter a five-digit postcode.",
    }[language]
    assert form.errors["v"] == [expected]


@pytest.mark.parametrize(
    ("spec", "data"),
    [
        (
            field("v", "pattern", pattern=r"\d{1,4}", pattern_message={"de": "Zahl", "en": "No"}),
            {"v": "١٢٣"},
        ),
        (
            field("v", "pattern", pattern=r"[\d]{5}", pattern_message={"de": "Zahl", "en": "No"}),
            {"v": FULL_WIDTH},
        ),
        (
            field(
                "v", "pattern", pattern=r"\d+(/\d+)?", pattern_message={"de": "Zahl", "en": "No"}
            ),
            {"v": "12/٣"},
        ),
        (field("v", "steuer_id"), {"v": "８６０９５７４２７１９"}),
        (field("v", "iban"), {"v": "DE٨٩370400440532013000"}),
        (field("v", "number"), {"v": "１２"}),
        (field("v", "money"), {"v": "٣,50"}),
        (field("v", "date"), {"v_day": "٣", "v_month": "10", "v_year": "1990"}),
        (field("v", "date"), {"v_day": "3", "v_month": "10", "v_year": "１９９０"}),
    ],
)
def test_digits_outside_ascii_are_refused_by_every_digit_check(spec, data):
    form = step_form(definition(spec), data)
    assert not form.is_valid()
    assert form.errors["v"]


def test_a_definitions_pattern_still_matches_ascii_digits_and_unicode_letters():
    digits = field("v", "pattern", pattern=r"\d{2}[^\d]\D", pattern_message={"de": "x", "en": "x"})
    assert step_form(definition(digits), {"v": "12ab"}).is_valid()
    assert not step_form(definition(digits), {"v": "1٣ab"}).is_valid()
    letters = field("v", "pattern", pattern=r"\w+ \d", pattern_message={"de": "x", "en": "x"})
    assert step_form(definition(letters), {"v": "Müller 7"}).is_valid()
