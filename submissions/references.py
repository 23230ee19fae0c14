"""Reference numbers and access secrets of submissions.

A reference looks like ``TH-2026-7K3M-Q9XD``: the year, seven random characters
and one check character, all from Crockford's base32 alphabet without I, L, O
and U, so it can be read out over the phone without "is that an O or a zero?".

The check character is a Damm-style check over GF(32): the running value is
``v = a·v + d`` (with ``a = 2`` in GF(2^5), addition is XOR), and the check
character makes the final value zero. Because ``y -> a·x + y`` and
``x -> a·x + y`` are bijections and ``a`` is neither 0 nor 1, every
single-character error and every swap of two adjacent different characters
changes the final value, so it is always detected.

The reference alone opens nothing: the status page also needs the access
secret, which is shown to the citizen once and stored only as an HMAC.
"""

from __future__ import annotations

import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
# Crockford's decoding rules: letters that look like digits are read as those digits.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PRIMITIVE = 0b100101  # x^5 + x^2 + 1
_RANDOM_CHARS = 7
_SECRET_CHARS = 16
_HASH_SALT = "submissions.references.access-secret"
_LINK_SALT = "submissions.references.status-link"
_LINK_CHARS = 32
_REFERENCE_RE = re.compile(r"^(?:TH)?([0-9]{4})([0-9A-Z]{8})$", re.ASCII)


def _times_two(value: int) -> int:
    value <<= 1
    if value & 0b100000:
        value ^= _PRIMITIVE
    return value


def _running_value(chars: str) -> int:
    value = 0
    for char in chars:
        value = _times_two(value) ^ _VALUE[char]
    return value


def check_character(payload: str) -> str:
    """The character that makes the check over ``payload`` + it come out zero."""
    # a·v + c = 0 in characteristic 2  =>  c = a·v
    return ALPHABET[_times_two(_running_value(payload))]


def _clean(value: str) -> str:
    return re.sub(r"[\s\-_.]", "", value).upper().translate(_ALIASES)


def normalize_reference(value: object) -> str | None:
    """The canonical form ``TH-YYYY-XXXX-XXXX`` of user input, or None if it is no valid reference.

    Accepts any case, spaces, dashes and the letters O/I/L for 0/1; the "TH"
    prefix may be left out.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _REFERENCE_RE.match(_clean(value))
    if not match:
        return None
    year, body = match.groups()
    if any(char not in _VALUE for char in body) or _running_value(year + body) != 0:
        return None
    return f"TH-{year}-{body[:4]}-{body[4:]}"


def reference_is_valid(value: object) -> bool:
    return normalize_reference(value) is not None


def reference_generate(*, year: int) -> str:
    """A new random reference for ``year``; uniqueness is the caller's job (retry on collision)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_CHARS))
    body += check_character(f"{year:04d}{body}")
    return f"TH-{year:04d}-{body[:4]}-{body[4:]}"


def access_secret_generate() -> str:
    """A random secret of 80 bits, grouped for reading: ``XXXX-XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(_SECRET_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, _SECRET_CHARS, 4))


def _normalize_secret(value: str) -> str:
    return _clean(value)


def access_secret_hash(secret: str) -> str:
    """HMAC-SHA256 of the normalised secret, keyed with SECRET_KEY.

    A fast keyed hash is enough here: the secret has 80 random bits, so there
    is nothing to brute-force from a leaked hash without the key as well.
    """
    digest = salted_hmac(_HASH_SALT, _normalize_secret(secret), algorithm="sha256").hexdigest()
    return f"hmac-sha256${digest}"


def access_secret_matches(secret: object, stored_hash: str) -> bool:
    """Constant-time comparison of a secret typed by the citizen with the stored hash."""
    if not isinstance(secret, str) or len(secret) > 64:
        # Still spend the same work, so the answer time tells nothing.
        secret = ""
    return hmac.compare_digest(access_secret_hash(secret), stored_hash or "")


def status_link_token(*, reference: str, access_secret_hash: str) -> str:
    """The token of the citizen's personal status link (128 bits, hex).

    Derived with SECRET_KEY from the reference and the stored hash of the
    current access secret, so nothing more needs storing, the pipeline can
    put the link into the receipt at any time, and a new access code (the
    "lost code" path) revokes every earlier link. Neither the reference nor
    a leaked database row is enough to compute it.
    """
    message = f"{reference}:{access_secret_hash}"
    return salted_hmac(_LINK_SALT, message, algorithm="sha256").hexdigest()[:_LINK_CHARS]


def status_link_token_matches(*, token: object, reference: str, access_secret_hash: str) -> bool:
    """Constant-time check of a status link token against the submission's current one."""
    if not isinstance(token, str) or len(token) != _LINK_CHARS or not access_secret_hash:
        token = ""
    expected = status_link_token(reference=reference, access_secret_hash=access_secret_hash)
    return hmac.compare_digest(token.encode(), expected.encode())
