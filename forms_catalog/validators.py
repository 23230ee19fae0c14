"""Pure checks for citizen input: hostile characters, ASCII digits, file contents.

No Django models here; the field types and the definition checker use them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Characters that are never legitimate in a form answer. Line breaks and tabs
# are allowed only in long text. Bidi overrides can disguise text in a clerk's
# view ("Trojan Source"), so they are refused as well.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_MULTILINE_OK = {"\n", "\t"}


def forbidden_characters(value: str, *, multiline: bool) -> list[str]:
    """Return the forbidden characters found in value (empty list if clean)."""
    found = []
    for char in value:
        if multiline and char in _MULTILINE_OK:
            continue
        if unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} or char in _BIDI_CONTROLS:
            found.append(char)
    return found


def nul_in_field_names(data: object) -> bool:
    """True when a submitted field name contains a NUL character.

    No field of ours has such a name, so the request was crafted or broken;
    PostgreSQL cannot store NUL in text or jsonb, so it must never get that far.
    Values are checked by each field (see `forbidden_characters`).
    """
    try:
        return any("\x00" in str(key) for key in data)  # type: ignore[attr-defined]
    except TypeError:
        return False


def without_nul(value: str) -> str:
    """The text without NUL characters, for keeping unfinished input (never as an answer)."""
    return value.replace("\x00", "")


def normalize_text(value: str, *, multiline: bool) -> str:
    """Normalise line endings and Unicode form; strip surrounding whitespace.

    Does not remove forbidden characters: those are refused with a message,
    because silently changing what a citizen typed could change its meaning.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = unicodedata.normalize("NFC", value)
    if not multiline:
        value = value.replace("\t", " ")
    return value.strip()


# --- Digits ----------------------------------------------------------------------
# Python's `\d` matches every Unicode decimal digit ("٠١٢٣٤", "１２３４５"): such
# input would be stored as typed and sent to offices whose systems expect ASCII.
# `re.ASCII` is not used for definition patterns because it would also narrow
# `\w` to ASCII and refuse "Müller"; only the digit classes are rewritten.
_DIGIT_CLASS = {"d": "[0-9]", "D": "[^0-9]"}
_DIGIT_IN_SET = {"d": "0-9", "D": "\\x00-\\x2f\\x3a-\\U0010ffff"}


def ascii_digit_pattern(pattern: str) -> str:
    """The same regular expression with `\\d`/`\\D` meaning ASCII digits only.

    Escapes other than these two are copied unchanged; inside a character set
    `\\d` becomes `0-9` and `\\D` the ranges around it.
    """
    out: list[str] = []
    in_set = False
    set_start = -1
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            following = pattern[i + 1]
            if following in _DIGIT_CLASS:
                out.append((_DIGIT_IN_SET if in_set else _DIGIT_CLASS)[following])
            else:
                out.append(char + following)
            i += 2
            continue
        if not in_set and char == "[":
            in_set = True
            set_start = i
        elif in_set and char == "]":
            # A "]" right after "[" or "[^" is a literal, not the end of the set.
            first = set_start + (2 if pattern[set_start + 1 : set_start + 2] == "^" else 1)
            in_set = i == first
        out.append(char)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """A definition's pattern compiled for checking answers (ASCII digits, cached)."""
    return re.compile(ascii_digit_pattern(pattern))


def ascii_digits(value: str, *, count: int | None = None) -> bool:
    """True when value consists of ASCII digits only (exactly `count` of them if given)."""
    return (
        bool(value)
        and value.isascii()
        and value.isdigit()
        and (count is None or len(value) == count)
    )


# --- Uploaded files -----------------------------------------------------------
# What a file really is comes from its first bytes, never from the browser's
# Content-Type header or the name alone.
FILE_KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


def sniff_content_type(head: bytes) -> str | None:
    for content_type, signatures in FILE_KINDS.values():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


def filename_clean(name: str, *, fallback: str = "datei") -> str:
    """A file name from outside (an upload) as display text and download name.

    No path, no control or format characters (a right-to-left override could
    disguise `exe.pdf`), NFC, at most 120 characters keeping the extension's
    end. The one cleaner of the portal: the upload check, stored attachments and
    the back office's download names use it.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-120:] or fallback


def file_extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def content_matches_extension(name: str, head: bytes) -> bool:
    kind = FILE_KINDS.get(file_extension(name))
    return bool(kind) and any(head.startswith(sig) for sig in kind[1])
