"""One limit per file field (issue 13, problems 2 and 8): the hint before upload, the
`accept` attribute, the server's check and its message all come from `file_limits`,
in the page's number format; every refused file gets its reason at its own field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from forms_catalog.compiler import CompiledForm
from forms_catalog.definition import FieldSpec
from forms_catalog.fields.file import (
    check_upload_limits,
    file_limits,
    format_size,
    limits_text,
    page_upload_note,
    upload_check,
)
from tests.forms_catalog.helpers import (
    CATALOGUE,
    EXE_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    attachment,
    catalogue_definition,
    definition,
    field,
    pdf,
    step_form,
)

MB = 1024 * 1024


def spec_of(raw: dict) -> FieldSpec:
    compiled = CompiledForm(definition(raw))
    return compiled.steps[0].top_fields()[0]


def stored_pdf(name: str) -> dict:
    return attachment(name=name, size=len(PDF_BYTES))


def upload_of(name: str, content: bytes, size: int | None = None) -> SimpleUploadedFile:
    upload = SimpleUploadedFile(name, content)
    if size is not None:
        upload.size = size  # a huge file, without holding it in memory
    return upload


def nameless(content: bytes) -> SimpleUploadedFile:
    """A file sent without a name (a crafted request)."""
    upload = SimpleUploadedFile("x", content)
    upload._name = ""
    return upload


class Unreadable(SimpleUploadedFile):
    """A file whose content must not be read (a size check has to come first)."""

    def read(self, *args, **kwargs):
        raise AssertionError("content read before the size was checked")


@pytest.mark.parametrize(
    ("size", "de", "en"),
    [
        (10 * MB, "10 MB", "10 MB"),
        (int(2.5 * MB), "2,5 MB", "2.5 MB"),
        (30 * MB, "30 MB", "30 MB"),
        (1536 * 1024 * 1024, "1.536 MB", "1,536 MB"),
        (500 * 1024, "500 KB", "500 KB"),
        (1, "1 KB", "1 KB"),
    ],
)
def test_sizes_read_in_the_page_language_without_a_trailing_zero(size, de, en):
    with translation.override("de"):
        assert format_size(size) == de
    with translation.override("en"):
        assert format_size(size) == en


def test_a_field_without_max_size_takes_the_platform_default(settings):
    settings.PORTAL_MAX_UPLOAD_BYTES = 4 * MB
    limits = file_limits(spec_of(field("f", "file", extensions=["pdf"])))
    assert limits.max_bytes == 4 * MB
    with translation.override("de"):
        assert limits_text(limits) == "Erlaubte Formate: PDF. Höchstens 4 MB pro Datei."


def test_the_hint_the_check_and_its_message_name_one_and_the_same_limit():
    spec = spec_of(field("f", "file", extensions=["pdf", "jpg", "jpeg", "png"], max_size=2621440))
    limits = file_limits(spec)
    assert limits.max_bytes == 2621440
    with translation.override("de"):
        hint = limits_text(limits)
        assert hint == "Erlaubte Formate: PDF, JPG, PNG. Höchstens 2,5 MB pro Datei."
        # One byte more is refused, naming the same "2,5 MB"; exactly the limit is accepted.
        with pytest.raises(ValidationError) as refused:
            upload_check(upload=upload_of("plan.pdf", PDF_BYTES, 2621441), limits=limits)
        assert "2,5 MB" in refused.value.messages[0] and "2,5 MB" in hint
        assert upload_check(upload=upload_of("plan.pdf", PDF_BYTES, 2621440), limits=limits)
    with translation.override("en"):
        assert limits_text(limits) == "Allowed formats: PDF, JPG, PNG. At most 2.5 MB per file."
    assert limits.accept == ".pdf,application/pdf,.jpg,image/jpeg,.jpeg,.png,image/png"


def test_a_field_never_gets_more_than_the_platform_allows(settings):
    settings.PORTAL_MAX_UPLOAD_BYTES = MB
    limits = file_limits(spec_of(field("f", "file", extensions=["pdf"], max_size=1024 * 1024)))
    settings.PORTAL_MAX_UPLOAD_BYTES = MB // 2
    assert file_limits(spec_of(field("f", "file", extensions=["pdf"]))).max_bytes == MB // 2
    with pytest.raises(ValidationError):
        upload_check(upload=upload_of("a.pdf", PDF_BYTES, MB // 2 + 1), limits=limits)


def test_a_multiple_file_field_announces_how_many_files():
    limits = file_limits(
        spec_of(field("f", "file", extensions=["png"], multiple=True, max_files=3))
    )
    with translation.override("de"):
        assert limits_text(limits).endswith("Bis zu 3 Dateien.")
    with translation.override("en"):
        assert limits_text(limits).endswith("Up to 3 files.")


@pytest.mark.parametrize(
    ("upload", "code", "words"),
    [
        (upload_of("leer.pdf", b""), "file_empty", "ist leer"),
        (upload_of("null.pdf", PDF_BYTES, 0), "file_empty", "ist leer"),
        (upload_of("riesig.pdf", PDF_BYTES, 10**12), "file_size", "ist zu groß"),
        (upload_of("rechnung.pdf", EXE_BYTES), "file_content", "passt nicht zur Dateiendung"),
        (upload_of("bild.pdf", PNG_BYTES), "file_content", "passt nicht zur Dateiendung"),
        (upload_of("programm.exe", EXE_BYTES), "file_type", "nicht erlaubten Typ"),
        (nameless(PDF_BYTES), "file_type", "nicht erlaubten Typ"),
        (upload_of("ohne-endung", PDF_BYTES), "file_type", "nicht erlaubten Typ"),
        (upload_of("rechnung\u202efdp.exe", EXE_BYTES), "file_type", "nicht erlaubten Typ"),
    ],
)
def test_hostile_files_are_refused_with_their_own_reason(upload, code, words):
    limits = file_limits(spec_of(field("f", "file", extensions=["pdf"])))
    with translation.override("de"), pytest.raises(ValidationError) as refused:
        upload_check(upload=upload, limits=limits)
    assert refused.value.code == code
    assert words in refused.value.messages[0]
    assert "Bitte laden Sie" not in refused.value.messages[0]


def test_a_huge_file_is_refused_by_its_size_before_a_byte_is_read():
    limits = file_limits(spec_of(field("f", "file", extensions=["pdf"])))
    upload = Unreadable("gross.pdf", b"x")
    upload.size = 5 * 1024 * MB
    with translation.override("de"), pytest.raises(ValidationError) as refused:
        upload_check(upload=upload, limits=limits)
    assert "5.120 MB" in refused.value.messages[0] and "10 MB" in refused.value.messages[0]


def test_a_huge_file_name_is_shortened_in_the_message():
    limits = file_limits(spec_of(field("f", "file", extensions=["pdf"])))
    name = "a" * 100_000 + ".pdf"
    with pytest.raises(ValidationError) as refused:
        upload_check(upload=upload_of(name, EXE_BYTES), limits=limits)
    assert len(refused.value.messages[0]) < 400
    assert "aaaa.pdf" in refused.value.messages[0]


def test_every_catalogue_file_field_is_refused_by_the_limit_it_announces():
    fields = 0
    for path in sorted(CATALOGUE.glob("*.json")):
        compiled = CompiledForm(catalogue_definition(path.stem))
        for step in compiled.steps:
            for spec in step.top_fields():
                if spec.type != "file":
                    continue
                limits = file_limits(spec)
                name = f"datei.{limits.extensions[0]}"
                for language in ("de", "en"):
                    with translation.override(language):
                        announced = format_size(limits.max_bytes)
                        assert announced in limits_text(limits)
                        with pytest.raises(ValidationError) as refused:
                            upload_check(
                                upload=upload_of(name, PDF_BYTES, limits.max_bytes + 1),
                                limits=limits,
                            )
                        assert announced in refused.value.messages[0], (path.stem, spec.id)
                fields += 1
    assert fields >= 15


def test_a_page_whose_files_may_exceed_one_request_says_so(settings):
    settings.PORTAL_MAX_REQUEST_BYTES = 30 * MB
    ten = file_limits(spec_of(field("f", "file", extensions=["pdf"], max_size=10 * MB)))
    with translation.override("de"):
        assert page_upload_note([ten, ten]) == ""
        note = page_upload_note([ten, ten, ten, ten])
    assert "höchstens 30 MB" in note
    compiled = CompiledForm(catalogue_definition("bauantrag"))
    form = compiled.form_class("unterlagen")(prefix="unterlagen", answers={}, language="en")
    assert "at most 30 MB together" in form.upload_note


def test_an_upload_limit_larger_than_a_request_is_a_configuration_error(settings):
    assert check_upload_limits() == []
    settings.PORTAL_MAX_UPLOAD_BYTES = 30 * MB
    settings.PORTAL_MAX_REQUEST_BYTES = 30 * MB
    assert [e.id for e in check_upload_limits()] == ["portal.E020"]


# --- at the field, on the step form ----------------------------------------------------
TWO_FILES = definition(
    field("plan", "file", required=False, extensions=["pdf", "jpg", "png"]),
    field("konzept", "file", extensions=["pdf"]),
)


def test_a_disguised_file_is_refused_at_its_field_while_the_other_field_keeps_its_file():
    form = step_form(
        TWO_FILES,
        {},
        files={"plan": upload_of("rechnung.pdf", EXE_BYTES), "konzept": pdf()},
    )
    assert not form.is_valid()
    assert list(form.errors) == ["plan"]
    assert "rechnung.pdf" in form.errors["plan"][0]
    assert [u.name for u in form.uploads["konzept"]] == ["nachweis.pdf"]
    assert form.upload_errors == {"plan": form.errors["plan"]}


def test_the_refusal_replaces_please_upload_when_the_page_is_validated_again():
    """Regression: after the accepted files were stored, validating the page again said
    "Bitte laden Sie … hoch" at the field whose too-big file had been refused."""
    first = step_form(
        TWO_FILES,
        {},
        files={"plan": pdf("plan.pdf"), "konzept": upload_of("k.pdf", PDF_BYTES, 11 * MB)},
    )
    assert not first.is_valid()
    refused = dict(first.upload_errors)
    again = step_form(TWO_FILES, {}, answers={"plan": [stored_pdf("plan.pdf")]})
    assert "Bitte laden Sie" in again.errors["konzept"][0]
    again.show_refused_uploads(refused)
    assert list(again.errors["konzept"]) == refused["konzept"]
    assert "ist zu groß" in again.errors["konzept"][0]
    assert not again.is_valid()


def test_in_a_multiple_file_field_the_files_that_passed_are_kept():
    form = step_form(
        definition(field("fotos", "file", extensions=["png"], multiple=True, max_files=5)),
        {},
        files=MultiValueDict(
            {
                "fotos": [
                    upload_of("a.png", PNG_BYTES),
                    upload_of("b.png", EXE_BYTES),
                    upload_of("c.png", PNG_BYTES),
                ]
            }
        ),
    )
    assert not form.is_valid()
    assert "b.png" in form.errors["fotos"][0]
    assert [u.name for u in form.uploads["fotos"]] == ["a.png", "c.png"]


def test_the_decimal_size_rounds_half_up_and_stays_in_megabytes():
    with translation.override("de"):
        assert format_size(int(Decimal("9.96") * MB)) == "10 MB"
        assert format_size(int(Decimal("1.04") * MB)) == "1 MB"
