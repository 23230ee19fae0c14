"""Cleaning of one answer per field type: raw request input in, JSON answer out.

Each function returns the JSON value to store (None for "no answer") or raises
ValidationError with a message in the citizen's language.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import validators
from .definition import (
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_MAX_FILES,
    MAX_FILE_SIZE_CAP,
    FieldSpec,
    format_date,
    format_size,
    tr,
)
from .expressions import full_years
from .messages import message

TEXT_TYPES = {"text", "textarea", "email", "phone", "pattern", "postcode", "iban", "steuer_id"}
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/\-]{4,38}$")
# Absolute cap on any raw value before parsing: a 10 MB "number" is refused early.
RAW_CAP = 20000


def _raw_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def clean_text(spec: FieldSpec, raw: Any, language: str) -> str | None:
    multiline = spec.type == "textarea"
    value = validators.normalize_text(_raw_text(raw)[: RAW_CAP + 1], multiline=multiline)
    if not value:
        return None
    if validators.forbidden_characters(value, multiline=multiline):
        raise ValidationError(message("control_chars", language))
    limit = spec.max_length
    if limit and len(value) > limit:
        raise ValidationError(message("max_length", language, limit=limit, length=len(value)))
    minimum = spec.raw.get("min_length")
    if minimum and len(value) < minimum:
        raise ValidationError(message("min_length", language, limit=minimum))
    kind = spec.type
    if kind == "email":
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(message("email", language)) from None
        value = value.lower() if value.count("@") == 1 else value
    elif kind == "phone":
        if not _PHONE_RE.match(value):
            raise ValidationError(message("phone", language))
    elif kind == "postcode":
        if not validators.ascii_digits(value, count=5):
            raise ValidationError(message("postcode", language))
    elif kind == "iban":
        value = validators.normalize_iban(value)
        if not validators.iban_is_valid(value):
            raise ValidationError(message("iban", language))
    elif kind == "steuer_id":
        value = validators.normalize_steuer_id(value)
        if not validators.steuer_id_is_valid(value):
            raise ValidationError(message("steuer_id", language))
    pattern = spec.raw.get("pattern")
    if pattern and not validators.compiled_pattern(pattern).fullmatch(value):
        custom = spec.raw.get("pattern_message")
        raise ValidationError(tr(custom, language) if custom else message("pattern", language))
    for forbidden in spec.raw.get("reject", []):
        # Catch-all phrases an office cannot work with ("Waren aller Art").
        if forbidden["text"].casefold() in value.casefold():
            raise ValidationError(tr(forbidden["message"], language))
    return value


def _decimal_from_input(text: str, *, money: bool) -> Decimal | None:
    text = text.replace("\u00a0", "").replace(" ", "")
    if money:
        text = text.replace("€", "").replace("EUR", "")
    if "," in text and "." in text:
        # The later separator is the decimal one: 1.234,50 or 1,234.50.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]+)?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def clean_number(spec: FieldSpec, raw: Any, language: str) -> int | str | None:
    text = _raw_text(raw).strip()[:64]
    if not text:
        return None
    money = spec.type == "money"
    number = _decimal_from_input(text, money=money)
    if number is None:
        raise ValidationError(message("money_invalid" if money else "number_invalid", language))
    places = 2 if money else int(spec.raw.get("decimals", 0))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        if places == 0:
            raise ValidationError(message("integer", language))
        raise ValidationError(message("decimals", language, places=places))
    minimum, maximum = spec.raw.get("min"), spec.raw.get("max")
    if minimum is not None and number < Decimal(str(minimum)):
        raise ValidationError(message("min_value", language, limit=minimum))
    if maximum is not None and number > Decimal(str(maximum)):
        raise ValidationError(message("max_value", language, limit=maximum))
    if money:
        return str(number.quantize(Decimal("0.01")))
    if places == 0:
        return int(number)
    return str(number)


def clean_date(spec: FieldSpec, raw: Any, language: str, today: datetime.date) -> str | None:
    parts = raw if isinstance(raw, (list, tuple)) and len(raw) == 3 else (None, None, None)
    day, month, year = (_raw_text(p).strip()[:8] for p in parts)
    if not (day or month or year):
        return None
    if not (day and month and year):
        raise ValidationError(message("date_incomplete", language))
    if not (
        validators.ascii_digits(day)
        and validators.ascii_digits(month)
        and validators.ascii_digits(year, count=4)
    ):
        raise ValidationError(message("date_invalid", language))
    try:
        value = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ValidationError(message("date_invalid", language)) from None
    if value.year < 1850:
        raise ValidationError(message("date_invalid", language))
    if spec.raw.get("past") and value >= today:
        raise ValidationError(message("date_past", language))
    if spec.raw.get("future") and value <= today:
        raise ValidationError(message("date_future", language))
    for key, code in (("min_date", "date_min"), ("max_date", "date_max")):
        bound = spec.raw.get(key)
        if bound:
            limit = datetime.date.fromisoformat(bound)
            if (key == "min_date" and value < limit) or (key == "max_date" and value > limit):
                raise ValidationError(message(code, language, date=format_date(limit, language)))
    min_age = spec.raw.get("min_age")
    if min_age is not None and full_years(value, today) < int(min_age):
        raise ValidationError(message("min_age", language, age=min_age))
    return value.isoformat()


def clean_choice(spec: FieldSpec, raw: Any, language: str) -> Any:
    text = _raw_text(raw).strip()[:200]
    if not text:
        return None
    if spec.type == "yesno":
        if text in {"yes", "no"}:
            return text == "yes"
        raise ValidationError(message("choice_invalid", language))
    if spec.type == "consent":
        if text in {"on", "true", "yes", "1"}:
            return True
        raise ValidationError(message("choice_invalid", language))
    allowed = {str(o["value"]) for o in spec.options}
    if text not in allowed:
        raise ValidationError(message("choice_invalid", language))
    return text


def clean_multichoice(spec: FieldSpec, raw: Any, language: str) -> list[str] | None:
    values = raw if isinstance(raw, (list, tuple)) else ([raw] if raw else [])
    values = [_raw_text(v).strip()[:200] for v in values[:100] if _raw_text(v).strip()]
    if not values:
        return None
    allowed = [str(o["value"]) for o in spec.options]
    if any(v not in allowed for v in values):
        raise ValidationError(message("choice_invalid", language))
    chosen = [v for v in allowed if v in set(values)]  # definition order, no duplicates
    if spec.raw.get("min_choices") and len(chosen) < spec.raw["min_choices"]:
        raise ValidationError(message("min_choices", language, limit=spec.raw["min_choices"]))
    if spec.raw.get("max_choices") and len(chosen) > spec.raw["max_choices"]:
        raise ValidationError(message("max_choices", language, limit=spec.raw["max_choices"]))
    return chosen


def file_limits(spec: FieldSpec) -> tuple[list[str], int, int]:
    extensions = [e.lower().lstrip(".") for e in spec.raw.get("extensions", ["pdf"])]
    max_size = min(int(spec.raw.get("max_size", DEFAULT_MAX_FILE_SIZE)), MAX_FILE_SIZE_CAP)
    max_files = int(spec.raw.get("max_files", DEFAULT_MAX_FILES)) if spec.raw.get("multiple") else 1
    return extensions, max_size, max_files


def safe_filename(name: str) -> str:
    """The citizen's file name as display text: no path, no control characters, bounded."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not validators.forbidden_characters(c, multiline=False))
    return name.strip()[:200] or "datei"


def check_upload(spec: FieldSpec, upload: Any, language: str) -> str:
    """Validate one uploaded file by name, size and first bytes. Returns its content type."""
    extensions, max_size, _ = file_limits(spec)
    name = safe_filename(getattr(upload, "name", "") or "")
    allowed = ", ".join(e.upper() for e in extensions)
    if validators.file_extension(name) not in extensions:
        raise ValidationError(message("file_type", language, name=name, allowed=allowed))
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise ValidationError(message("file_empty", language, name=name))
    if size > max_size:
        raise ValidationError(
            message("file_size", language, name=name, limit=format_size(max_size))
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not validators.content_matches_extension(name, head):
        raise ValidationError(message("file_content", language, name=name, allowed=allowed))
    return validators.sniff_content_type(head) or "application/octet-stream"


def valid_attachment_ref(spec: FieldSpec, item: Any) -> bool:
    """Structure check for a stored file answer (never trusts request data)."""
    if not isinstance(item, dict):
        return False
    extensions, max_size, _ = file_limits(spec)
    allowed_types = {validators.FILE_KINDS[e][0] for e in extensions if e in validators.FILE_KINDS}
    return (
        isinstance(item.get("attachment_id"), str)
        and re.fullmatch(r"[0-9a-fA-F-]{32,36}", item["attachment_id"]) is not None
        and isinstance(item.get("name"), str)
        and isinstance(item.get("size"), int)
        and 0 < item["size"] <= max_size
        and item.get("content_type") in allowed_types
    )


# --- Widgets: only how values are read from the request ---------------------
# The markup is rendered by the templates in templates/forms_catalog/, so the
# widgets here only implement value_from_datadict.
def _getlist(data: Any, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class SingleValueWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        values = _getlist(data, name)
        return values[-1] if values else None


class MultiValueWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return _getlist(data, name)

    def value_omitted_from_data(self, data, files, name):
        return False


class DatePartsWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return tuple(
            (_getlist(data, f"{name}_{part}") or [None])[-1] for part in ("day", "month", "year")
        )


class FilesWidget(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return {"uploads": _getlist(files or {}, name), "delete": _getlist(data, f"{name}-delete")}


class SpecField(forms.Field):
    """A Django form field that carries its definition; cleaning is done by the step form."""

    def __init__(self, spec: FieldSpec, language: str) -> None:
        widget: forms.Widget
        if spec.type == "date":
            widget = DatePartsWidget()
        elif spec.type == "multichoice":
            widget = MultiValueWidget()
        elif spec.type == "file":
            widget = FilesWidget()
        else:
            widget = SingleValueWidget()
        super().__init__(required=False, label=tr(spec.label, language), widget=widget)
        self.spec = spec
