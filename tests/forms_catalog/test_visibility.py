"""The one visibility walk: cleaning, pruning stored answers and rendering agree."""

from __future__ import annotations

from django.template.loader import render_to_string

from forms_catalog.compiler import CompiledForm
from forms_catalog.render import FieldNode, GroupNode
from forms_catalog.visibility import StepVisitor, walk_step
from tests.forms_catalog.helpers import (
    CHOICE,
    OTHER,
    TODAY,
    T,
    definition,
    field,
    step_form,
)

# Step one decides whether step two's vaccination group applies; inside each dog,
# the chip number is asked only for a chipped dog.
DEFINITION = {
    "schema_version": 1,
    "steps": [
        {"id": "one", "title": T("Eins"), "fields": [field("vaccinated", "yesno")]},
        {
            "id": "two",
            "title": T("Zwei"),
            "fields": [
                {
                    "id": "dogs",
                    "type": "group",
                    "label": T("Hund", "Dog"),
                    "repeatable": True,
                    "min": 1,
                    "fields": [
                        field("dog_name", "text"),
                        field("chipped", "yesno"),
                        field(
                            "chip",
                            "text",
                            visible_if={"eq": [{"field": "chipped"}, True]},
                        ),
                    ],
                },
                {
                    "id": "vaccination",
                    "type": "group",
                    "label": T("Impfung", "Vaccination"),
                    "visible_if": {"eq": [{"field": "vaccinated"}, True]},
                    "fields": [field("vaccine", "text")],
                },
            ],
        },
    ],
}
STORED = {
    "vaccinated": False,
    "dogs": [
        {"dog_name": "Bello", "chipped": False, "chip": "stale"},
        {"dog_name": "Rex", "chipped": True, "chip": "276098100000001"},
    ],
    "vaccine": "stale",
}


def test_stored_answers_keep_only_what_the_walk_shows():
    compiled = CompiledForm(DEFINITION)
    assert compiled.visible_answers(STORED) == {
        "vaccinated": False,
        "dogs": [
            {"dog_name": "Bello", "chipped": False},
            {"dog_name": "Rex", "chipped": True, "chip": "276098100000001"},
        ],
    }


def test_cleaning_walks_the_same_way():
    compiled = CompiledForm(DEFINITION)
    data = compiled.form_data("two", STORED)
    form = compiled.form_class("two")(data=data, answers=STORED, today=TODAY)
    assert form.is_valid(), form.errors
    assert form.answers == {
        "dogs": [
            {"dog_name": "Bello", "chipped": False},
            {"dog_name": "Rex", "chipped": True, "chip": "276098100000001"},
        ]
    }


def test_rendering_walks_the_same_way_but_shows_what_depends_on_the_page():
    compiled = CompiledForm(DEFINITION)
    form = compiled.form_class("two")(answers=STORED, today=TODAY)
    nodes = form.nodes()
    # The vaccination group depends on step one's answer: hidden. The chip number
    # depends on an answer on this page: shown (the page cannot react without JavaScript).
    assert [n.spec.id for n in nodes] == ["dogs"]
    (dogs,) = nodes
    assert isinstance(dogs, GroupNode) and len(dogs.items) == 2
    for item in dogs.items:
        assert [c.name.rsplit("-", 1)[-1] for c in item.children] == [
            "dog_name",
            "chipped",
            "chip",
        ]
        assert all(isinstance(c, FieldNode) for c in item.children)


def test_a_visitor_sees_each_shown_field_once_in_document_order():
    compiled = CompiledForm(DEFINITION)

    class Names(StepVisitor):
        def __init__(self):
            self.seen = []

        def entries(self, group):
            return [(0, STORED["dogs"][1])]

        def field(self, spec, name, scope, source):
            self.seen.append(name)
            return (source or {}).get(spec.id)

    visitor = Names()
    values = {"vaccinated": True}
    answers = walk_step(
        compiled.definition.step("two"),
        visitor,
        values=values,
        scope_of=lambda current: compiled.scope(current, TODAY),
    )
    assert visitor.seen == ["dogs-0-dog_name", "dogs-0-chipped", "dogs-0-chip", "vaccine"]
    assert answers == {"dogs": [{"dog_name": "Rex", "chipped": True, "chip": "276098100000001"}]}
    assert values["dogs"] == [{"dog_name": "Rex", "chipped": True, "chip": "276098100000001"}]


# --- visibility of fields, groups and steps ---------------------------------------


def test_hidden_field_is_neither_validated_nor_stored():
    # "other" is required and its input is invalid, but it is hidden: no error, no answer.
    form = step_form(definition(CHOICE, OTHER), {"kind": "a", "other": "\x00" * 5})
    assert form.is_valid(), form.errors
    assert form.answers == {"kind": "a"}


def test_visible_field_is_validated_and_stored():
    form = step_form(definition(CHOICE, OTHER), {"kind": "other"})
    assert not form.is_valid()
    assert "other" in form.errors
    form = step_form(definition(CHOICE, OTHER), {"kind": "other", "other": "Sonstiges"})
    assert form.is_valid()
    assert form.answers == {"kind": "other", "other": "Sonstiges"}


def test_hidden_answers_are_pruned_from_stored_answers_everywhere():
    compiled = CompiledForm(definition(CHOICE, OTHER))
    answers = {"kind": "a", "other": "stale answer from before", "unknown_key": "x"}
    assert compiled.visible_answers(answers) == {"kind": "a"}


def test_visibility_from_an_earlier_step_hides_the_field_from_the_page():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "one", "title": T("Eins"), "fields": [field("has_dog", "yesno")]},
            {
                "id": "two",
                "title": T("Zwei"),
                "fields": [
                    field("dog_name", "text", visible_if={"eq": [{"field": "has_dog"}, True]}),
                    field("note", "text", required=False),
                ],
            },
        ],
    }
    compiled = CompiledForm(defn)
    form = compiled.form_class("two")(answers={"has_dog": False})
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert "dog_name" not in html
    form = compiled.form_class("two")(answers={"has_dog": True})
    assert 'name="dog_name"' in render_to_string("forms_catalog/step_fields.html", {"form": form})
    # Posting the hidden field anyway stores nothing.
    form = compiled.form_class("two")(data={"dog_name": "Bello"}, answers={"has_dog": False})
    assert form.is_valid()
    assert form.answers == {}


def test_step_visibility_and_hidden_group():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "one", "title": T("Eins"), "fields": [field("born", "date", past=True)]},
            {
                "id": "minor",
                "title": T("Minderjährig"),
                "visible_if": {"lt": [{"age": {"field": "born"}}, 18]},
                "fields": [field("consent", "consent")],
            },
        ],
    }
    compiled = CompiledForm(defn)
    assert compiled.step_is_visible("minor", {"born": "2015-01-01"}, TODAY)
    assert not compiled.step_is_visible("minor", {"born": "1980-01-01"}, TODAY)
    assert compiled.visible_answers({"born": "1980-01-01", "consent": True}, TODAY) == {
        "born": "1980-01-01"
    }


def test_earlier_steps_own_stale_answers_do_not_leak_into_this_steps_visibility():
    form = step_form(definition(CHOICE, OTHER), {"kind": "a"}, answers={"kind": "other"})
    assert form.is_valid()
    assert form.answers == {"kind": "a"}
