"""Free text staff type (comments, notes, audit details): cleaned once, refused with a reason."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MAX_TEXT_LENGTH = 10_000


class CaseWorkError(Exception):
    """A request the back office refuses; the message is shown to the clerk."""


def text_clean(text: str | None) -> str:
    """`text` without control characters and surrounding blanks; "" for None.

    Raises CaseWorkError for a non-string or a text over MAX_TEXT_LENGTH.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise CaseWorkError(_("Ungültige Eingabe."))
    # PostgreSQL text cannot hold NUL; other control characters (except line
    # breaks and tabs) have no place in a comment either.
    cleaned = "".join(ch for ch in text if ch in "\n\r\t" or ch >= " ").strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise CaseWorkError(
            _("Der Text ist zu lang (höchstens %(max)d Zeichen).") % {"max": MAX_TEXT_LENGTH}
        )
    return cleaned
