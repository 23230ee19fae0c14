"""The designer's pure edits: element paths, adding, moving across steps, duplicating with
new unique ids, deleting, settings and id changes with their references."""

from __future__ import annotations

import copy

import pytest

from forms_catalog.checks import definition_errors
from forms_catalog.designer import edits
from forms_catalog.designer.edits import EditRefused
from forms_catalog.designer.paths import (
    ElementNotFound,
    all_paths,
    find,
    path_for_json_path,
)
from tests.forms_catalog.helpers import T, field, options


def two_steps() -> dict:
    return {
        "schema_version": 1,
        "steps": [
            {
                "id": "person",
                "title": T("Person", "Person"),
                "fields": [
                    field("name", "text"),
                    field("born", "date"),
                    {
                        "id": "kinder",
                        "type": "group",
                        "repeatable": True,
                        "min": 0,
                        "max": 5,
                        "label": T("Kinder", "Children"),
                        "fields": [field("kind_name", "text")],
                    },
                ],
            },
            {
                "id": "antrag",
                "title": T("Antrag", "Application"),
                "fields": [
                    field("art", "choice", options=options("a", "b")),
                    field(
                        "grund",
                        "text",
                        visible_if={"eq": [{"field": "art"}, "a"]},
                    ),
                ],
            },
        ],
    }


def test_paths_find_steps_groups_and_fields_and_refuse_forged_ones():
    d = two_steps()
    assert find(d, "steps/person").kind == "step"
    assert find(d, "steps/person/fields/kinder").kind == "group"
    located = find(d, "steps/person/fields/kinder/fields/kind_name")
    assert located.kind == "field" and located.in_repeatable_group
    assert all_paths(d)[:5] == [
        "steps/person",
        "steps/person/fields/name",
        "steps/person/fields/born",
        "steps/person/fields/kinder",
        "steps/person/fields/kinder/fields/kind_name",
    ]
    for forged in [
        "steps/nope",
        "steps/person/fields/ghost",
        "steps/person/fields/name/fields/x",  # a field has no children
        "../../etc/passwd",
        "steps/Person",
        "steps/person/" + "x" * 5000,
        None,
        42,
        "",
    ]:
        with pytest.raises(ElementNotFound):
            find(d, forged)


def test_json_paths_of_errors_lead_to_their_element():
    d = two_steps()
    assert path_for_json_path(d, "steps[1].fields[1].visible_if.eq[0].field") == (
        "steps/antrag/fields/grund"
    )
    assert path_for_json_path(d, "steps[0].fields[2].fields[0].label.en") == (
        "steps/person/fields/kinder/fields/kind_name"
    )
    assert path_for_json_path(d, "steps[0].title") == "steps/person"
    assert path_for_json_path(d, "fees.lines[0].amount") is None
    assert path_for_json_path(d, "steps[9].fields[0]") is None


def test_ids_come_from_the_german_label_and_stay_unique():
    d = two_steps()
    assert edits.slug_id("Straße und Hausnummer") == "strasse_und_hausnummer"
    assert edits.slug_id("Größe (in m²)") == "groesse_in_m2"
    assert edits.slug_id("1. Wahl") == "feld_1_wahl"
    assert edits.slug_id("!!!") == "feld"
    assert edits.new_id(d, "Name") == "name_2"
    assert edits.new_id(d, "Kind Name") == "kind_name_2"  # ids inside groups count too
    assert len(edits.new_id(d, "x" * 500)) <= 63


def test_adding_steps_fields_and_groups_at_their_position():
    d, step = edits.add_step(two_steps(), title_de="Unterlagen")
    assert step == "steps/unterlagen" and d["steps"][-1]["fields"] == []
    d, between = edits.add_step(d, title_de="Zwischenschritt", after="steps/person")
    assert [s["id"] for s in d["steps"]] == ["person", "zwischenschritt", "antrag", "unterlagen"]
    d, upload = edits.add_element(d, target=step, kind="file", label_de="Nachweis")
    assert upload == "steps/unterlagen/fields/nachweis"
    assert find(d, upload).element["extensions"] == ["pdf", "jpg", "png"]  # the type's defaults
    d, _ = edits.add_element(d, target="steps/person/fields/name", kind="text", label_de="Vorname")
    assert [f["id"] for f in d["steps"][0]["fields"]][:2] == ["name", "vorname"]
    d, inside = edits.add_element(
        d, target="steps/person/fields/kinder", kind="date", label_de="Geburtstag des Kindes"
    )
    assert inside == "steps/person/fields/kinder/fields/geburtstag_des_kindes"
    d, group = edits.add_element(d, target=step, kind="repeatable_group", label_de="Hunde")
    assert find(d, group).element["repeatable"] is True
    d, _ = edits.add_element(d, target=group, kind="text", label_de="Hundename")
    d, _ = edits.add_element(d, target=between, kind="yesno", label_de="Einverstanden?")
    # Labels missing in English: saved as unfinished, found by the check.
    errors = definition_errors(d, render=False)
    assert errors and all(".en" in e.path or "should be non-empty" in e.message for e in errors)


@pytest.mark.parametrize(
    "target,kind,words",
    [
        ("steps/person/fields/kinder/fields/kind_name", "group", "schachteln"),
        ("steps/person/fields/kinder", "file", "wiederholbaren Gruppen"),
        ("steps/person", "no_such_type", "Feldtyp"),
        ("steps/ghost", "text", "nicht (mehr)"),
    ],
)
def test_impossible_additions_are_refused_in_german(target, kind, words):
    original = two_steps()
    before = copy.deepcopy(original)
    with pytest.raises(EditRefused) as refused:
        edits.add_element(original, target=target, kind=kind, label_de="Neu")
    assert words in refused.value.message
    assert original == before  # nothing half done


def test_empty_and_huge_labels_are_refused():
    with pytest.raises(EditRefused, match="deutsche Beschriftung"):
        edits.add_step(two_steps(), title_de="   ")
    with pytest.raises(EditRefused, match="zu lang"):
        edits.add_element(two_steps(), target="steps/person", kind="text", label_de="x" * 5000)


def test_moving_up_down_and_across_steps():
    d, path = edits.move(two_steps(), "steps/person/fields/born", "up")
    assert path == "steps/person/fields/born"
    assert [f["id"] for f in d["steps"][0]["fields"]] == ["born", "name", "kinder"]
    with pytest.raises(EditRefused, match="erster Stelle"):
        edits.move(d, path, "up")
    d, path = edits.move(d, "steps/person/fields/kinder", "next_step")
    assert path == "steps/antrag/fields/kinder"
    assert [f["id"] for f in d["steps"][1]["fields"]] == ["kinder", "art", "grund"]
    d, path = edits.move(d, "steps/antrag/fields/grund", "prev_step")
    assert path == "steps/person/fields/grund"
    assert d["steps"][0]["fields"][-1]["id"] == "grund"
    with pytest.raises(EditRefused, match="keinen vorherigen"):
        edits.move(d, "steps/person/fields/born", "prev_step")
    with pytest.raises(EditRefused, match="keinen nächsten"):
        edits.move(d, "steps/antrag/fields/art", "next_step")
    with pytest.raises(EditRefused):
        edits.move(d, "steps/antrag/fields/kinder/fields/kind_name", "next_step")
    with pytest.raises(EditRefused):
        edits.move(d, "steps/person", "sideways")
    d, path = edits.move(d, "steps/antrag", "up")
    assert [s["id"] for s in d["steps"]] == ["antrag", "person"] and path == "steps/antrag"


def test_duplicates_get_new_unique_ids_and_no_role():
    d = two_steps()
    d["steps"][0]["fields"][0]["role"] = "applicant_name"
    d, path = edits.duplicate(d, "steps/person/fields/name")
    copy_ = find(d, path).element
    assert path == "steps/person/fields/name_kopie" and "role" not in copy_
    assert copy_["label"]["de"].endswith("(Kopie)")
    d, step_copy = edits.duplicate(d, "steps/person")
    ids = [f["id"] for f in find(d, step_copy).element["fields"]]
    assert ids == ["name_kopie_2", "name_kopie_kopie", "born_kopie", "kinder_kopie"]
    # Item fields of a repeatable group are unique within it: the copy keeps them.
    assert find(d, step_copy + "/fields/kinder_kopie/fields/kind_name")
    assert definition_errors(d, render=False) == []


def test_delete_removes_the_element_and_returns_its_container():
    d, parent = edits.delete(two_steps(), "steps/person/fields/kinder/fields/kind_name")
    assert parent == "steps/person/fields/kinder" and find(d, parent).element["fields"] == []
    d, parent = edits.delete(d, "steps/antrag")
    assert parent is None and [s["id"] for s in d["steps"]] == ["person"]
    with pytest.raises(EditRefused):
        edits.delete(d, "steps/antrag")


def test_settings_update_and_id_change_follow_references():
    d, path = edits.update_element(
        two_steps(),
        "steps/antrag/fields/art",
        values={"id": "antragsart", "label": T("Art des Antrags", "Kind"), "required": None},
    )
    assert path == "steps/antrag/fields/antragsart"
    art = find(d, path).element
    assert art["label"]["de"] == "Art des Antrags" and "required" not in art
    assert find(d, "steps/antrag/fields/grund").element["visible_if"] == {
        "eq": [{"field": "antragsart"}, "a"]
    }
    assert definition_errors(d, render=False) == []
    # Structure keys cannot be set through settings.
    d2, _ = edits.update_element(d, path, values={"type": "file", "fields": []})
    assert find(d2, path).element["type"] == "choice"
    for bad in ["Name", "1abc", "a-b", "x" * 64, "name"]:
        with pytest.raises(EditRefused):
            edits.update_element(d, path, values={"id": bad})


def test_options_are_replaced_only_on_choice_fields():
    d, path = edits.set_options(
        two_steps(), "steps/antrag/fields/art", options=[{"value": "x", "label": T("X")}]
    )
    assert find(d, path).element["options"] == [{"value": "x", "label": T("X")}]
    with pytest.raises(EditRefused):
        edits.set_options(two_steps(), "steps/person/fields/name", options=[])
