"""Rückfrage templates: which placeholders a text may name, checking them, filling them in.

Placeholders are filled by plain replacement, never by `str.format`, so a
template cannot reach attributes or format specs. A text the office lead
saves must name only known placeholders and contain no other braces; the
clerk's edited question is filled the same way, and braces it contains
otherwise stay as typed.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from submissions.models import Submission

from .case_selectors import is_platform_admin, office_ids_for_user
from .models import MessageTemplate, StaffMembership

# Placeholder -> what it stands for (shown as help to the office lead).
PLACEHOLDERS: dict[str, str] = {
    "aktenzeichen": _("Aktenzeichen des Antrags"),
    "leistung": _("Name der Leistung"),
    "frist": _("Frist der Rückfrage (Datum)"),
    "behoerde": _("Name der zuständigen Behörde"),
    "name": _("Name der antragstellenden Person"),
}
_TOKEN = re.compile(r"\{([^{}]*)\}")
_KNOWN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def placeholders_help() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def message_template_body_validate(body: str) -> None:
    """Raise ValidationError (German message) for unknown placeholders or stray braces."""
    unknown = [name for name in _TOKEN.findall(body) if name not in PLACEHOLDERS]
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(unknown))
        raise ValidationError(
            _("Unbekannte Platzhalter: %(names)s. Erlaubt sind: %(allowed)s.")
            % {"names": names, "allowed": placeholders_help()},
            code="unknown_placeholder",
        )
    if "{" in _KNOWN.sub("", body) or "}" in _KNOWN.sub("", body):
        raise ValidationError(
            _(
                "Geschweifte Klammern sind nur für Platzhalter erlaubt, z. B. {aktenzeichen}. "
                "Erlaubt sind: %(allowed)s."
            )
            % {"allowed": placeholders_help()},
            code="stray_brace",
        )


@dataclass(frozen=True)
class PlaceholderValues:
    aktenzeichen: str
    leistung: str
    frist: str
    behoerde: str
    name: str


def placeholder_values(
    *, submission: Submission, deadline: datetime.date | None
) -> PlaceholderValues:
    return PlaceholderValues(
        aktenzeichen=submission.reference,
        leistung=submission.service.name_de,
        frist=date_format(deadline, "d.m.Y") if deadline else "{frist}",
        behoerde=submission.office.name if submission.office else "",
        name=submission.applicant_name,
    )


def message_text_fill(*, text: str, values: PlaceholderValues) -> str:
    """`text` with every known placeholder replaced; anything else stays as it is."""
    return _KNOWN.sub(lambda match: getattr(values, match.group(1)), text)


def message_templates_for_case(*, submission: Submission) -> QuerySet[MessageTemplate]:
    """The templates a clerk may choose for this case: its office's, for its service."""
    return MessageTemplate.objects.filter(
        office_id=submission.office_id, service_id=submission.service_id
    ).order_by("title")


def message_template_offices_for_user(*, user) -> set[int] | None:
    """Offices whose templates `user` keeps: their lead offices; None means all (platform)."""
    if is_platform_admin(user=user):
        return None
    return office_ids_for_user(user=user, roles=(StaffMembership.Role.LEAD,))


def message_templates_for_user(*, user) -> QuerySet[MessageTemplate]:
    offices = message_template_offices_for_user(user=user)
    queryset = MessageTemplate.objects.select_related("office", "service")
    return queryset if offices is None else queryset.filter(office_id__in=offices)
