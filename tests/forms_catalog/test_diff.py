"""The field-level diff reviewers see: steps, fields, choices, conditions, rules and fees
added, removed and changed, old and new side by side."""

from __future__ import annotations

import copy
import json

import pytest

from forms_catalog.diff import ADDED, CHANGED, REMOVED, definition_diff
from forms_catalog.selectors import form_version_diff
from forms_catalog.services import form_version_create_draft, form_version_publish_system
from tests.factories import ServiceFactory
from tests.forms_catalog.helpers import CATALOGUE, T, definition, field, options

BASE = definition(
    field("name", "text"),
    field("kind", "choice", options=options("a", "b")),
    field("note", "text", required=False, visible_if={"eq": [{"field": "kind"}, "a"]}),
    fees={"lines": [{"id": "base", "label": T("Grundgebühr"), "amount": "10.00"}]},
)


def changes(old, new) -> dict[str, tuple[str, str]]:
    return {e.key: (e.kind, e.change) for e in definition_diff(old=old, new=new).entries}


def test_identical_definitions_have_no_differences():
    diff = definition_diff(old=BASE, new=copy.deepcopy(BASE))
    assert not diff and diff.entries == []


def test_each_kind_of_change_is_found_at_its_element():
    new = copy.deepcopy(BASE)
    fields = new["steps"][0]["fields"]
    fields[0]["label"] = T("Familienname", "Surname")  # field changed
    fields[1]["options"].pop(1)  # choice removed
    fields[1]["options"].append({"value": "c", "label": T("Option c")})  # choice added
    fields[2]["visible_if"] = {"eq": [{"field": "kind"}, "c"]}  # condition changed
    fields.append(field("extra", "date", required=False))  # field added
    new["steps"].append({"id": "s2", "title": T("Zwei"), "fields": [field("z", "text")]})
    new["fees"]["lines"][0]["amount"] = "12.50"  # fee changed
    new["steps"][0]["rules"] = [
        {"id": "r1", "assert": {"ne": [{"field": "name"}, ""]}, "fields": ["name"]}
    ]
    found = changes(BASE, new)
    assert found == {
        "step:s/field:name": ("field", CHANGED),
        "step:s/field:kind/choice:b": ("choice", REMOVED),
        "step:s/field:kind/choice:c": ("choice", ADDED),
        "step:s/field:note/condition": ("condition", CHANGED),
        "step:s/field:extra": ("field", ADDED),
        "step:s/rule:r1": ("rule", ADDED),
        "step:s2": ("step", ADDED),
        "step:s2/field:z": ("field", ADDED),
        "fees/line:base": ("fee", CHANGED),
    }
    entry = definition_diff(old=BASE, new=new).by_key()["step:s/field:name"]
    assert [(a.name, a.old, a.new) for a in entry.attributes] == [
        ("label", "de: Feld name\nen: Field name", "de: Familienname\nen: Surname")
    ]
    assert "Familienname" in entry.path and entry.old and entry.new


def test_removed_elements_stay_next_to_their_former_neighbours():
    new = copy.deepcopy(BASE)
    del new["steps"][0]["fields"][1]  # "kind" with its choices; "note"'s condition refers to it
    keys = [e.key for e in definition_diff(old=BASE, new=new).entries]
    assert keys[:3] == [
        "step:s/field:kind",
        "step:s/field:kind/choice:a",
        "step:s/field:kind/choice:b",
    ]
    assert all(e.change == REMOVED for e in definition_diff(old=BASE, new=new).entries[:3])


def test_against_nothing_everything_is_added():
    diff = definition_diff(old=None, new=BASE)
    assert diff.added == len(diff.entries) > 5 and diff.removed == diff.changed == 0


@pytest.mark.parametrize(
    "hostile",
    [
        {},
        {"steps": "nope"},
        {"steps": [None, 3, {"fields": [None, {"options": [7]}]}]},
        {"steps": [{"id": "x" * 10_000, "title": "<script>", "fields": []}]},
        {"fees": {"lines": [None]}},
    ],
)
def test_hostile_definitions_do_not_break_the_diff(hostile):
    diff = definition_diff(old=BASE, new=hostile)
    json.dumps([e.key for e in diff.entries])  # plain strings only
    assert diff.removed >= 1


@pytest.mark.django_db
def test_selector_compares_a_draft_with_the_published_version():
    service = ServiceFactory()
    published = form_version_create_draft(service=service, definition=copy.deepcopy(BASE))
    form_version_publish_system(version=published)
    base, diff = form_version_diff(version=published)
    # (PostgreSQL's jsonb may reorder keys inside an element: compare the elements.)
    assert base is None and changes(None, BASE) == {e.key: (e.kind, e.change) for e in diff.entries}
    draft = form_version_create_draft(service=service)
    base, diff = form_version_diff(version=draft)
    assert base == published and not diff


def test_every_catalogue_form_diffs_against_itself_without_differences():
    for path in CATALOGUE.glob("*.json"):
        defn = json.loads(path.read_text())["definition"]
        assert not definition_diff(old=defn, new=copy.deepcopy(defn)), path.name
        assert definition_diff(old=None, new=defn).added > 3
