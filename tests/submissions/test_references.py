"""Reference numbers and access secrets."""

from __future__ import annotations

import re

import pytest

from submissions.references import (
    ALPHABET,
    access_secret_generate,
    access_secret_hash,
    access_secret_matches,
    check_character,
    normalize_reference,
    reference_generate,
    reference_is_valid,
)

FORMAT = re.compile(r"^TH-2026-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_generated_references_have_the_documented_format_and_are_valid():
    for _ in range(500):
        reference = reference_generate(year=2026)
        assert FORMAT.match(reference), reference
        assert reference_is_valid(reference)


def test_alphabet_has_no_ambiguous_letters():
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_references_are_random():
    references = {reference_generate(year=2026) for _ in range(2000)}
    assert len(references) == 2000


@pytest.mark.parametrize("count", [300])
def test_every_single_character_error_is_detected(count):
    for _ in range(count):
        reference = reference_generate(year=2026)
        chars = reference.replace("-", "")[2:]  # year + body
        for position in range(len(chars)):
            for replacement in ALPHABET:
                if replacement == chars[position]:
                    continue
                wrong = chars[:position] + replacement + chars[position + 1 :]
                assert not reference_is_valid("TH" + wrong), (reference, wrong)


def test_every_adjacent_transposition_is_detected():
    for _ in range(2000):
        reference = reference_generate(year=2026)
        chars = reference.replace("-", "")[2:]
        for i in range(len(chars) - 1):
            if chars[i] == chars[i + 1]:
                continue
            swapped = chars[:i] + chars[i + 1] + chars[i] + chars[i + 2 :]
            assert not reference_is_valid("TH" + swapped), (reference, swapped)


def test_input_is_normalised_case_spaces_dashes_and_look_alike_letters():
    body = "7K30Q9X"
    reference = f"TH-2026-{body[:4]}-{body[4:]}{check_character('2026' + body)}"
    assert normalize_reference(reference) == reference
    assert normalize_reference(reference.lower()) == reference
    assert normalize_reference(" " + reference.replace("-", " ") + " ") == reference
    assert normalize_reference(reference.replace("-", "")) == reference
    assert normalize_reference(reference[3:]) == reference  # without "TH-"
    # Said over the phone: "oh" for zero.
    assert normalize_reference(reference.replace("0", "O")) == reference


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        12345,
        ["TH-2026"],
        "",
        "TH-2026-",
        "TH-2026-AAAA-AAAU",
        "<script>alert(1)</script>",
        "TH-2026-7K3M-Q9XD\x00",
        "X" * 100_000,
        "TH-２０２６-7K3M-Q9XD",
        "'; DROP TABLE submissions_submission; --",
    ],
)
def test_hostile_input_is_no_reference(hostile):
    assert normalize_reference(hostile) is None
    assert reference_is_valid(hostile) is False


def test_access_secret_is_stored_hashed_and_compared_tolerantly():
    secret = access_secret_generate()
    assert re.match(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$", secret)
    stored = access_secret_hash(secret)
    assert secret not in stored
    assert stored.startswith("hmac-sha256$")
    assert access_secret_matches(secret, stored)
    assert access_secret_matches(secret.lower().replace("-", " "), stored)
    assert not access_secret_matches(access_secret_generate(), stored)
    assert not access_secret_matches(None, stored)
    assert not access_secret_matches("x" * 10_000, stored)
    assert not access_secret_matches(secret, "")
