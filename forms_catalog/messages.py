"""Citizen-facing messages of the form engine, in both portal languages.

Kept as data next to the bilingual form definitions: a step form is rendered
in the language the citizen chose for their application, independent of the
request's active translation catalogue.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"de": "Bitte füllen Sie dieses Feld aus.", "en": "Please fill in this field."},
    "required_choice": {
        "de": "Bitte wählen Sie eine Antwort aus.",
        "en": "Please select an answer.",
    },
    "required_consent": {
        "de": "Bitte bestätigen Sie dies, um fortzufahren.",
        "en": "Please confirm this to continue.",
    },
    "required_file": {"de": "Bitte laden Sie eine Datei hoch.", "en": "Please upload a file."},
    "control_chars": {
        "de": "Die Eingabe enthält unzulässige Steuerzeichen. Bitte entfernen Sie diese.",
        "en": "The entry contains control characters that are not allowed. Please remove them.",
    },
    "control_chars_names": {
        "de": "Die Anfrage enthielt unzulässige Steuerzeichen und wurde nicht gespeichert. "
        "Bitte prüfen Sie Ihre Angaben und senden Sie die Seite erneut ab.",
        "en": "The request contained control characters that are not allowed and was not "
        "saved. Please check your entries and send the page again.",
    },
    "max_length": {
        "de": "Bitte geben Sie höchstens {limit} Zeichen ein (derzeit {length}).",
        "en": "Please enter at most {limit} characters (currently {length}).",
    },
    "min_length": {
        "de": "Bitte geben Sie mindestens {limit} Zeichen ein.",
        "en": "Please enter at least {limit} characters.",
    },
    "email": {
        "de": "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.de.",
        "en": "Please enter a valid email address, for example name@example.com.",
    },
    "phone": {
        "de": "Bitte geben Sie eine gültige Telefonnummer ein (Ziffern, Leerzeichen, +, /, -).",
        "en": "Please enter a valid phone number (digits, spaces, +, /, -).",
    },
    "date_incomplete": {
        "de": "Bitte geben Sie Tag, Monat und Jahr an.",
        "en": "Please enter day, month and year.",
    },
    "date_invalid": {
        "de": "Bitte geben Sie ein gültiges Datum ein, z. B. 27 3 2007.",
        "en": "Please enter a real date, for example 27 3 2007.",
    },
    "date_past": {
        "de": "Das Datum muss in der Vergangenheit liegen.",
        "en": "The date must be in the past.",
    },
    "date_future": {
        "de": "Das Datum muss in der Zukunft liegen.",
        "en": "The date must be in the future.",
    },
    "date_min": {
        "de": "Das Datum darf nicht vor dem {date} liegen.",
        "en": "The date must not be before {date}.",
    },
    "date_max": {
        "de": "Das Datum darf nicht nach dem {date} liegen.",
        "en": "The date must not be after {date}.",
    },
    "min_age": {
        "de": "Die Person muss mindestens {age} Jahre alt sein.",
        "en": "The person must be at least {age} years old.",
    },
    "number_invalid": {"de": "Bitte geben Sie eine Zahl ein.", "en": "Please enter a number."},
    "integer": {"de": "Bitte geben Sie eine ganze Zahl ein.", "en": "Please enter a whole number."},
    "decimals": {
        "de": "Bitte geben Sie höchstens {places} Nachkommastellen an.",
        "en": "Please enter at most {places} decimal places.",
    },
    "min_value": {
        "de": "Der Wert muss mindestens {limit} betragen.",
        "en": "The value must be at least {limit}.",
    },
    "max_value": {
        "de": "Der Wert darf höchstens {limit} betragen.",
        "en": "The value must be at most {limit}.",
    },
    "money_invalid": {
        "de": "Bitte geben Sie einen Betrag in Euro ein, z. B. 1250,50.",
        "en": "Please enter an amount in euros, for example 1250.50.",
    },
    "choice_invalid": {
        "de": "Bitte wählen Sie eine der angebotenen Antworten.",
        "en": "Please select one of the answers offered.",
    },
    "min_choices": {
        "de": "Bitte wählen Sie mindestens {limit} Antworten.",
        "en": "Please select at least {limit} answers.",
    },
    "max_choices": {
        "de": "Bitte wählen Sie höchstens {limit} Antworten.",
        "en": "Please select at most {limit} answers.",
    },
    "iban": {
        "de": "Die IBAN ist ungültig. Bitte prüfen Sie Ländercode, Länge und Prüfziffer.",
        "en": "The IBAN is not valid. Please check the country code, length and check digits.",
    },
    "steuer_id": {
        "de": "Die Steuer-Identifikationsnummer ist ungültig (11 Ziffern mit Prüfziffer).",
        "en": "The tax identification number is not valid (11 digits with check digit).",
    },
    "postcode": {
        "de": "Bitte geben Sie eine fünfstellige Postleitzahl ein.",
        "en": "Please enter a five-digit postcode.",
    },
    "pattern": {
        "de": "Die Eingabe hat nicht das erwartete Format.",
        "en": "The entry does not have the expected format.",
    },
    "file_type": {
        "de": "Die Datei „{name}“ hat einen nicht erlaubten Typ. Erlaubt: {allowed}.",
        "en": "The file “{name}” has a type that is not allowed. Allowed: {allowed}.",
    },
    "file_content": {
        "de": "Der Inhalt der Datei „{name}“ passt nicht zur Dateiendung. Bitte laden Sie eine "
        "echte {allowed}-Datei hoch.",
        "en": "The content of the file “{name}” does not match its extension. Please upload a "
        "genuine {allowed} file.",
    },
    "file_size": {
        "de": "Die Datei „{name}“ ist zu groß (höchstens {limit}).",
        "en": "The file “{name}” is too large (at most {limit}).",
    },
    "file_empty": {"de": "Die Datei „{name}“ ist leer.", "en": "The file “{name}” is empty."},
    "file_count": {
        "de": "Bitte laden Sie höchstens {limit} Dateien hoch.",
        "en": "Please upload at most {limit} files.",
    },
    "group_min": {
        "de": "Bitte geben Sie mindestens {limit} Einträge an.",
        "en": "Please add at least {limit} entries.",
    },
    "group_max": {
        "de": "Es sind höchstens {limit} Einträge möglich.",
        "en": "At most {limit} entries are possible.",
    },
    "invalid_structure": {
        "de": "Die Angabe hat ein ungültiges Format.",
        "en": "The answer has an invalid format.",
    },
}


def message(key: str, language: str, **values: object) -> str:
    texts = MESSAGES[key]
    text = texts.get(language) or texts["de"]
    return text.format(**values) if values else text
