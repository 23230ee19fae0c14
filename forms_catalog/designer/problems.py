"""The definition's errors as editors read them: German, by step and field label.

`definition_errors` reports JSON paths and technical English
(`steps[1].fields[0].label.en: '' should be non-empty`). Here each error
becomes a `Problem`: where (step title, field label), what (a German
sentence), and the element path the designer jumps to. An error this module
does not know is still listed, with the technical text as detail, so no
problem is ever hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from ..checks import DefinitionError
from ..definition import tr
from .paths import ElementNotFound, find, path_for_json_path


@dataclass(frozen=True)
class Problem:
    element: str | None  # element path in the designer (None: the form as a whole)
    step: str  # title of the step ("" for the whole form)
    field: str  # label of the field or group ("" for a step)
    message: str  # German
    detail: str  # the technical error (path and text), for the expert


def _key_names() -> dict[str, str]:
    return {
        "label": _("Beschriftung"),
        "title": _("Titel"),
        "help": _("Hinweis"),
        "intro": _("Einleitung"),
        "item_label": _("Bezeichnung eines Eintrags"),
        "options": _("Antwortmöglichkeiten"),
        "extensions": _("Erlaubte Dateitypen"),
        "pattern": _("Muster"),
        "pattern_message": _("Meldung, wenn das Muster nicht passt"),
        "fields": _("Felder"),
        "steps": _("Schritte"),
        "id": _("Kennung"),
        "unit": _("Einheit"),
        "min": _("Kleinster Wert / Mindestanzahl"),
        "max": _("Größter Wert / Höchstanzahl"),
        "min_length": _("Mindestlänge"),
        "max_length": _("Höchstlänge"),
        "min_date": _("Frühestes Datum"),
        "max_date": _("Spätestes Datum"),
        "max_size": _("Höchstgröße je Datei"),
        "visible_if": _("Bedingung"),
        "rules": _("Prüfregeln"),
        "role": _("Rolle"),
        "autocomplete": _("Automatisches Ausfüllen"),
        "value": _("Wert"),
    }


_LANGUAGE = {"de": "deutsch", "en": "englisch"}


def _subject(json_path: str) -> str:
    """What the path's tail is about, in German ("Beschriftung (englisch)")."""
    names = _key_names()
    tail = re.sub(r"^steps\[\d+\](\.fields\[\d+\]){0,2}\.?", "", json_path)
    parts = [p for p in re.split(r"[.\[\]]+", tail) if p and not p.isdigit()]
    language = ""
    if parts and parts[-1] in _LANGUAGE:
        language = _("englisch") if parts.pop() == "en" else _("deutsch")
    words = [names[p] for p in parts if p in names]
    if "options" in parts and words:
        words = [names["options"]]
        if parts[-1] == "label":
            words.append(names["label"])
        if parts[-1] == "value":
            words.append(names["value"])
    subject = " – ".join(words)
    if language:
        subject = f"{subject} ({language})" if subject else language
    return subject


def _german(error: DefinitionError) -> str:
    text = error.message
    subject = _subject(error.path)
    required = re.match(r"'([a-z_]+)' is a required property", text)
    if required:
        key = required.group(1)
        if key in _LANGUAGE:
            missing = _("englische Fassung") if key == "en" else _("deutsche Fassung")
            return _("%(what)s: %(missing)s fehlt.") % {"what": subject or "", "missing": missing}
        name = _key_names().get(key, key)
        return _("Angabe fehlt: %(name)s.") % {"name": name}
    if "should be non-empty" in text or "is too short" in text:
        language = re.search(r"\.(de|en)$", error.path)
        if language:
            missing = _("englische Fassung") if language.group(1) == "en" else _("deutsche Fassung")
            what = _subject(error.path[: language.start()])
            return _("%(what)s: %(missing)s fehlt.") % {"what": what, "missing": missing}
        if error.path.endswith(".fields") or error.path.endswith("fields"):
            return _("Hier ist noch kein Feld. Bitte fügen Sie mindestens ein Feld hinzu.")
        if error.path.endswith(".options"):
            return _("Es gibt noch keine Antwortmöglichkeit.")
        if error.path.endswith(".extensions"):
            return _("Bitte wählen Sie mindestens einen Dateityp.")
        if error.path == "steps":
            return _("Das Formular hat noch keinen Schritt.")
        return _("%(what)s ist leer.") % {"what": subject or _("Eine Angabe")}
    if "is too long" in text or "is too large" in text or "is expected to be" in text:
        return _("%(what)s ist zu lang oder zu groß.") % {"what": subject or _("Eine Angabe")}
    if "does not match" in text and error.path.endswith(".id"):
        return _(
            "Die Kennung ist ungültig: nur Kleinbuchstaben, Ziffern und Unterstriche, "
            "beginnend mit einem Buchstaben."
        )
    if "does not match" in text and ".options" in error.path:
        return _(
            "Ein Wert einer Antwortmöglichkeit ist ungültig: nur Buchstaben, Ziffern, Punkt, "
            "Bindestrich und Unterstrich."
        )
    match = re.match(r"id '([^']*)' is (already used|used twice)", text) or re.match(
        r"step id '([^']*)' is used twice", text
    )
    if match:
        return _("Die Kennung „%(id)s“ ist doppelt vergeben.") % {"id": match.group(1)}
    known = {
        "invalid regular expression": _("Das Muster ist kein gültiger regulärer Ausdruck."),
        "nested quantifier": _(
            "Das Muster enthält eine verschachtelte Wiederholung wie (a+)+ und kann sehr "
            "langsam werden."
        ),
        "file fields are not supported inside repeatable groups": _(
            "Dateifelder sind in wiederholbaren Gruppen nicht möglich."
        ),
        "option values must be unique": _(
            "Die Werte der Antwortmöglichkeiten müssen verschieden sein."
        ),
        "an applicant role cannot be inside a repeatable group": _(
            "Eine Rolle der antragstellenden Person ist in einer wiederholbaren Gruppe nicht "
            "möglich."
        ),
        "min/max only apply to repeatable groups": _(
            "Mindest- und Höchstzahl gelten nur für wiederholbare Gruppen."
        ),
        "min is greater than max": _("Die Mindestanzahl ist größer als die Höchstanzahl."),
        "is greater than": _("Der kleinste Wert ist größer als der größte Wert."),
        "is not a valid autofill token": _("Der Wert für automatisches Ausfüllen ist ungültig."),
        "both in the past and in the future": _(
            "Ein Datum kann nicht zugleich in der Vergangenheit und in der Zukunft liegen."
        ),
        "must be YYYY-MM-DD": _("Bitte geben Sie ein gültiges Datum an."),
        "already given at": _("Diese Rolle ist schon bei einem anderen Feld gesetzt."),
        "unknown or later field": _(
            "Eine Bedingung oder Prüfregel bezieht sich auf ein unbekanntes oder späteres Feld."
        ),
        "cannot render": _("Der Schritt lässt sich nicht anzeigen."),
        "the portal's upload limit": _(
            "Die Höchstgröße liegt über der Grenze der Plattform für Uploads."
        ),
        "definition too large": _("Das Formular ist zu groß (höchstens 1 MB)."),
    }
    for needle, message in known.items():
        if needle in text:
            return message
    if error.path.startswith("fees") or error.path.startswith("parameters"):
        return _("Fehler bei den Gebühren.")
    if ".visible_if" in error.path or ".rules" in error.path:
        return _("Fehler in einer Bedingung oder Prüfregel.")
    return _("Ungültige Angabe: %(what)s.") % {"what": subject or _("siehe Details")}


def describe(definition: Any, errors: list[DefinitionError]) -> list[Problem]:
    """The errors in German, each with the step and field it concerns (by label)."""
    problems = []
    for error in errors:
        element = path_for_json_path(definition, error.path)
        step_title = field_label = ""
        if element is not None:
            try:
                located = find(definition, element)
            except ElementNotFound:
                element = None
            else:
                step_title = tr(_safe_text(located.step.get("title")), "de") or located.step["id"]
                if located.kind != "step":
                    label = tr(_safe_text(located.element.get("label")), "de")
                    field_label = label or located.element.get("id", "")
        problems.append(
            Problem(
                element=element,
                step=step_title,
                field=field_label,
                message=_german(error),
                detail=str(error),
            )
        )
    return problems


def _safe_text(value: Any) -> Any:
    return value if isinstance(value, (dict, str)) else None
