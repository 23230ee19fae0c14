"""The responsible office's contact as lines of text, for the receipt PDF and the receipt e-mail."""

from __future__ import annotations

from django.utils.translation import gettext

from municipalities.models import Office


def office_contact_lines(*, office: Office | None) -> list[str]:
    """Name, address, phone, e-mail, web and opening hours in the active language.

    Only what the office has filled in; [] without an office. Opening hours keep
    their line breaks (one line each).
    """
    if office is None:
        return []
    lines = [office.name]
    if office.street:
        lines.append(office.street)
    place = f"{office.postcode} {office.city}".strip()
    if place:
        lines.append(place)
    if office.phone:
        lines.append(gettext("Telefon: %(value)s") % {"value": office.phone})
    if office.email:
        lines.append(gettext("E-Mail: %(value)s") % {"value": office.email})
    if office.website:
        lines.append(gettext("Web: %(value)s") % {"value": office.website})
    hours = [line.strip() for line in office.opening_hours.splitlines() if line.strip()]
    if hours:
        lines.append(gettext("Öffnungszeiten:"))
        lines.extend(hours)
    return lines
