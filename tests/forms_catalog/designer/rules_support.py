"""A draft definition with a field of every picker kind, for the designer's picker tests."""

from __future__ import annotations

import copy
from typing import Any

from tests.forms_catalog.helpers import T, field, options

STEP_ONE = {
    "id": "angaben",
    "title": T("Angaben", "Details"),
    "fields": [
        field("name", "text"),
        field("email", "email", required=False),
        field("count", "number", required=False),
        field("price", "money", required=False),
        field("start", "date", label=T("Beginn", "Start")),
        field("end", "date", label=T("Ende", "End")),
        field("member", "yesno", required=False),
        field("kind", "choice", options=options("a", "b", "c")),
        field("extras", "multichoice", required=False, options=options("x", "y")),
        field("proof", "file", required=False, extensions=["pdf"]),
        {
            "id": "address",
            "type": "group",
            "label": T("Anschrift", "Address"),
            "fields": [field("street", "text"), field("city", "text")],
        },
        {
            "id": "people",
            "type": "group",
            "repeatable": True,
            "min": 0,
            "max": 5,
            "label": T("Personen", "People"),
            "fields": [
                field("person", "text"),
                field("born", "date", required=False),
                field("adult", "yesno", required=False),
            ],
        },
    ],
}
STEP_TWO = {
    "id": "weiteres",
    "title": T("Weiteres", "More"),
    "fields": [field("note", "text", required=False), field("later", "text", required=False)],
}


def picker_definition() -> dict[str, Any]:
    for item in STEP_ONE["fields"]:
        item.setdefault("label", T(item["id"]))
    return copy.deepcopy({"schema_version": 1, "steps": [STEP_ONE, STEP_TWO]})
