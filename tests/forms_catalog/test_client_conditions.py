"""Same-page conditions handed to the browser (issue 13, problem 10): what the script
may evaluate, and a safe fallback (shown with its hint) for everything else."""

from __future__ import annotations

import datetime
import json

from django.template import engines

from forms_catalog.client_conditions import client_condition
from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import (
    DOGS,
    TODAY,
    T,
    catalogue_definition,
    definition,
    field,
    options,
)


def form_for(defn, step: str, answers: dict | None = None, language: str = "de"):
    compiled = CompiledForm(defn)
    return compiled.form_class(step)(
        prefix=step, answers=answers or {}, language=language, today=TODAY
    )


def rendered(form) -> str:
    return (
        engines["django"]
        .from_string('{% include "forms_catalog/step_fields.html" %}')
        .render({"form": form})
    )


def test_a_yes_no_condition_names_its_input_and_how_to_read_it():
    form = form_for(catalogue_definition("veranstaltungsanmeldung"), "veranstaltung")
    spec = next(f for f in form.step.top_fields() if f.id == "road_closure")
    condition = json.loads(client_condition(form=form, expr=spec.visible_if, spec=spec))
    assert condition == {
        "expr": {"eq": [{"field": "public_space"}, True]},
        "inputs": {"public_space": {"name": "veranstaltung-public_space", "kind": "yesno"}},
        "values": {},
        "language": "de",
    }
    html = rendered(form)
    assert html.count("data-portal-condition=") == 1
    assert "Nur ausfüllen, wenn es nach Ihrer Antwort bei „Findet die Veranstaltung" in html


def test_answers_of_earlier_steps_travel_as_values():
    form = form_for(
        catalogue_definition("gewerbe-anmeldung"),
        "betriebsstaette",
        answers={"legal_form": "ag"},
        language="en",
    )
    spec = next(f for f in form.step.top_fields() if f.id == "manager_name")
    condition = json.loads(client_condition(form=form, expr=spec.visible_if, spec=spec))
    assert condition["values"] == {"legal_form": "ag"}
    assert condition["inputs"] == {
        "establishment": {"name": "betriebsstaette-establishment", "kind": "text"}
    }
    assert condition["language"] == "en"


def test_conditions_the_browser_cannot_evaluate_stay_shown_with_their_hint():
    born = field("born", "date")
    defn = definition(
        field("kind", "choice", options=options("a", "b")),
        born,
        field("by_age", "text", visible_if={"ge": [{"age": {"field": "born"}}, 18]}),
        field("by_date", "text", visible_if={"eq": [{"field": "born"}, "2000-01-01"]}),
        field("by_kind", "text", visible_if={"eq": [{"field": "kind"}, "b"]}),
    )
    form = form_for(defn, "s")
    html = rendered(form)
    # Only the choice-based condition goes to the browser; the other two keep the hint.
    assert html.count("data-portal-condition=") == 1
    assert html.count("portal-conditional-hint") == 3


def test_a_condition_inside_a_repeatable_group_is_not_handed_to_the_browser():
    form = form_for(definition(DOGS), "s")
    permit = DOGS["fields"][2]
    html = rendered(form)
    assert "data-portal-condition=" not in html
    assert client_condition(form=form, expr=permit["visible_if"]) == ""


def test_a_date_from_an_earlier_step_is_not_guessed_in_the_browser():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "a", "title": T("A"), "fields": [field("born", "date")]},
            {
                "id": "b",
                "title": T("B"),
                "fields": [
                    field("kind", "choice", options=options("x", "y")),
                    field(
                        "note",
                        "text",
                        visible_if={"and": [{"eq": [{"field": "kind"}, "y"]}, {"filled": "born"}]},
                    ),
                ],
            },
        ],
    }
    form = form_for(defn, "b", answers={"born": datetime.date(2000, 1, 1).isoformat()})
    assert "data-portal-condition=" not in rendered(form)


def test_hostile_earlier_answers_are_escaped_in_the_attribute():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "a", "title": T("A"), "fields": [field("name", "text")]},
            {
                "id": "b",
                "title": T("B"),
                "fields": [
                    field("kind", "choice", options=options("x", "y")),
                    field(
                        "note",
                        "text",
                        visible_if={
                            "or": [
                                {"eq": [{"field": "kind"}, "y"]},
                                {"eq": [{"field": "name"}, "z"]},
                            ]
                        },
                    ),
                ],
            },
        ],
    }
    hostile = '"><script>alert(1)</script>'
    form = form_for(defn, "b", answers={"name": hostile})
    html = rendered(form)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
