"""Log lines for operators: JSON (or plain text) with the request id and submission reference.

``PORTAL_LOG_FORMAT=json`` gives one JSON object per line with a fixed set of
fields (timestamp, level, logger, message, request_id, submission, and
exc_info when there is a traceback). Extra attributes that libraries attach to
records are deliberately not copied: they can hold task arguments or headers.
E-mail addresses are masked in messages and tracebacks of both formats, because
mail errors (e.g. a refused recipient) quote the address they failed on.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from submissions import log_context

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
EMAIL_MASK = "<e-mail>"


def mask_personal_data(text: str) -> str:
    """``text`` with every e-mail address replaced by a placeholder."""
    return EMAIL_PATTERN.sub(EMAIL_MASK, text) if "@" in text else text


class LogContextFilter(logging.Filter):
    """Copy the request id and submission reference of the current context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = log_context.request_id.get()
        record.submission = log_context.submission_reference.get()
        parts = []
        if record.request_id:
            parts.append(f"request={record.request_id}")
        if record.submission:
            parts.append(f"submission={record.submission}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


class PlainFormatter(logging.Formatter):
    """Readable lines for a terminal (`make run`), with e-mail addresses masked."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):
            record.context = ""
        return mask_personal_data(super().format(record))


class PortalJsonFormatter(JsonFormatter):
    """One JSON object per line, with a fixed whitelist of fields."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat()
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = mask_personal_data(record.message)
        log_data["request_id"] = getattr(record, "request_id", None)
        log_data["submission"] = getattr(record, "submission", None)
        if message_dict.get("exc_info"):
            log_data["exc_info"] = mask_personal_data(str(message_dict["exc_info"]))
        if message_dict.get("stack_info"):
            log_data["stack_info"] = mask_personal_data(str(message_dict["stack_info"]))
