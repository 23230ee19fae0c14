"""Municipality names as people say them, built from the official directory name and kind."""

from __future__ import annotations

from django.utils.translation import gettext, pgettext

# Directory kinds (GV100AD Textkennzeichen) of a Gemeinde; kept as plain codes so this
# module needs no model import and the model can call it.
_KREISFREIE_STADT = "61"
_STADT = "63"


def gemeinde_display_name(*, name: str, kind: str) -> str:
    """Return the name a citizen recognises: "Stadt Erfurt", "Gemeinde Rhönblick".

    The official directory writes towns as "Erfurt, Stadt" and sometimes carries another
    designation after the comma ("…, Wartburgstadt"); that designation moves in front.
    Without a designation the kind decides ("Stadt" for towns, "Gemeinde" otherwise). The
    generic designations are translated into the active language; a special designation
    is part of the proper name and stays as it is. Empty or blank input yields "".
    """
    official = " ".join((name or "").split())
    if not official:
        return ""
    base, _, designation = official.partition(", ")
    base = base.strip()
    designation = designation.strip()
    is_town = kind in {_KREISFREIE_STADT, _STADT}
    if designation and designation != "Stadt":
        return f"{designation} {base}"
    if designation == "Stadt" or is_town:
        if kind == _KREISFREIE_STADT:
            # Same German words, but English says "City of" for the independent cities.
            return pgettext("kreisfreie Stadt", "Stadt %(name)s") % {"name": base}
        return gettext("Stadt %(name)s") % {"name": base}
    return gettext("Gemeinde %(name)s") % {"name": base}
