"""The step form: repeatable groups and their buttons, cross-field rules, kept uploads."""

from __future__ import annotations

from django.template.loader import render_to_string

from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import DOGS, T, definition, field, step_form


def dog_data(*dogs, prefix="dogs"):
    data = {f"{prefix}-count": str(len(dogs))}
    for i, (name, dangerous, permit) in enumerate(dogs):
        data[f"{prefix}-{i}-name"] = name
        data[f"{prefix}-{i}-dangerous"] = dangerous
        if permit is not None:
            data[f"{prefix}-{i}-permit"] = permit
    return data


def test_repeatable_group_is_stored_as_list_with_per_item_visibility():
    data = dog_data(("Bello", "no", "ignored"), ("Rex", "yes", "Erlaubnis 12"))
    form = step_form(definition(DOGS), data)
    assert form.is_valid(), form.errors
    assert form.answers == {
        "dogs": [
            {"name": "Bello", "dangerous": False},
            {"name": "Rex", "dangerous": True, "permit": "Erlaubnis 12"},
        ]
    }


def test_repeatable_group_minimum():
    form = step_form(definition(DOGS), {"dogs-count": "0"})
    assert not form.is_valid()
    assert any("mindestens 1" in e for e in form.non_field_errors())
    assert any("mindestens 1" in text for _, text in form.error_summary)


def test_repeatable_group_maximum_cannot_be_exceeded_by_a_forged_count():
    data = dog_data(*[(f"Hund{i}", "no", None) for i in range(5)])
    data["dogs-count"] = "999999"
    form = step_form(definition(DOGS), data)
    assert form.is_valid(), form.errors
    assert len(form.answers["dogs"]) == 3


def test_add_button_adds_an_item_without_validating():
    form = step_form(definition(DOGS), {**dog_data(("", "", None)), "dogs-add": "1"})
    assert not form.is_valid()
    assert form.pending_action == "add:dogs"
    assert form.errors == {}
    assert form.error_summary == []
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert 'name="dogs-1-name"' in html
    assert 'name="dogs-count" value="2"' in html


def test_add_button_stops_at_max():
    data = {**dog_data(*[("x", "no", None)] * 3), "dogs-add": "1"}
    form = step_form(definition(DOGS), data)
    assert form.item_counts["dogs"] == 3
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert 'name="dogs-add"' not in html


def test_remove_button_removes_that_item_and_keeps_the_others_values():
    data = {
        **dog_data(("Bello", "no", None), ("Rex", "yes", "P1"), ("Luna", "no", None)),
        "dogs-remove": "1",
    }
    form = step_form(definition(DOGS), data)
    assert form.pending_action == "remove:dogs"
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert 'value="Bello"' in html and 'value="Luna"' in html and 'value="Rex"' not in html
    # Submitting the re-rendered page (without the button) gives the two remaining dogs.
    resubmit = {k: v for k, v in form.data.items() if k != "dogs-remove"}
    form = step_form(definition(DOGS), resubmit)
    assert form.is_valid(), form.errors
    assert [d["name"] for d in form.answers["dogs"]] == ["Bello", "Luna"]


def test_remove_below_minimum_and_forged_index_are_ignored():
    form = step_form(definition(DOGS), {**dog_data(("Bello", "no", None)), "dogs-remove": "0"})
    assert form.item_counts["dogs"] == 1
    form = step_form(
        definition(DOGS),
        {**dog_data(("a", "no", None), ("b", "no", None)), "dogs-remove": "<script>"},
    )
    assert form.item_counts["dogs"] == 2


def test_group_buttons_work_with_a_querydict_and_a_wizard_prefix():
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in dog_data(("Bello", "no", None), prefix="s-dogs").items():
        query[key] = value
    query["s-dogs-add"] = "1"
    compiled = CompiledForm(definition(DOGS))
    form = compiled.form_class("s")(data=query, prefix="s", answers={})
    assert form.item_counts["dogs"] == 2
    assert not form.is_valid()


def test_saved_group_answers_fill_the_unbound_form():
    form = step_form(definition(DOGS), None, answers={"dogs": [{"name": "A"}, {"name": "B"}]})
    html = render_to_string("forms_catalog/step_fields.html", {"form": form})
    assert 'value="A"' in html and 'value="B"' in html


DATES = [field("start", "date"), field("end", "date")]


RULE = {
    "id": "order",
    "assert": {"le": [{"field": "start"}, {"field": "end"}]},
    "fields": ["end"],
    "message": T("Ende vor Beginn", "End before start"),
}


def dates(start, end):
    return {
        "start_day": start[0],
        "start_month": start[1],
        "start_year": start[2],
        "end_day": end[0],
        "end_month": end[1],
        "end_year": end[2],
    }


def test_cross_field_rule_attaches_its_message_to_the_named_field():
    form = step_form(
        definition(*DATES, rules=[RULE]), dates(("2", "1", "2026"), ("1", "1", "2026"))
    )
    assert not form.is_valid()
    assert form.errors["end"] == ["Ende vor Beginn"]
    ok = step_form(definition(*DATES, rules=[RULE]), dates(("1", "1", "2026"), ("1", "1", "2026")))
    assert ok.is_valid()


def test_rule_against_an_earlier_step_and_in_english():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "a", "title": T("A"), "fields": [DATES[0]]},
            {"id": "b", "title": T("B"), "fields": [DATES[1]], "rules": [RULE]},
        ],
    }
    compiled = CompiledForm(defn)
    form = compiled.form_class("b")(
        data={"end_day": "1", "end_month": "1", "end_year": "2020"},
        answers={"start": "2021-01-01"},
        language="en",
    )
    assert not form.is_valid()
    assert form.errors["end"] == ["End before start"]


def test_group_rules_are_checked_per_item():
    group = {
        **DOGS,
        "rules": [
            {
                "id": "no_rex",
                "fields": ["name"],
                "assert": {"ne": [{"field": "name"}, "Rex"]},
                "message": T("Kein Rex"),
            }
        ],
    }
    form = step_form(definition(group), dog_data(("Bello", "no", None), ("Rex", "no", None)))
    assert not form.is_valid()
    assert form.errors == {"dogs-1-name": ["Kein Rex"]}


def test_files_chosen_before_pressing_add_are_checked_and_kept_in_uploads():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.forms_catalog.helpers import EXE_BYTES, pdf

    doc = field("doc", "file", extensions=["pdf"])
    other = field("other", "file", extensions=["pdf"], required=False)
    data = {**dog_data(("Bello", "no", None)), "dogs-add": "1"}
    files = {"doc": pdf("nachweis.pdf"), "other": SimpleUploadedFile("x.pdf", EXE_BYTES)}
    form = step_form(definition(DOGS, doc, other), data, files=files)
    assert form.pending_action == "add:dogs" and not form.is_valid()
    assert [u.name for u in form.uploads["doc"]] == ["nachweis.pdf"]
    assert "other" not in form.uploads  # the disguised file is not kept


def test_all_errors_of_a_page_come_at_once_field_and_cross_field():
    # The dates break the rule while the name is missing and the count is garbage:
    # one round shows all three problems, not the rule only after the others are fixed.
    defn = definition(
        field("surname", "text"),
        field("visitors", "number"),
        *DATES,
        rules=[RULE],
    )
    data = dates(("2", "1", "2026"), ("1", "1", "2026")) | {"surname": "", "visitors": "<b>"}
    form = step_form(defn, data)
    assert not form.is_valid()
    assert set(form.errors) == {"surname", "visitors", "end"}
    assert form.errors["end"] == ["Ende vor Beginn"]


def test_a_rule_over_a_refused_field_waits_for_that_field():
    defn = definition(*DATES, rules=[RULE])
    form = step_form(defn, dates(("2", "1", "2026"), ("31", "2", "2026")))
    assert not form.is_valid()
    assert "Ende vor Beginn" not in " ".join(form.errors["end"])
    assert "gültiges Datum" in " ".join(form.errors["end"])


def test_group_item_rules_run_for_valid_items_while_another_item_is_refused():
    group = {
        "id": "days",
        "type": "group",
        "repeatable": True,
        "max": 3,
        "item_label": T("Tag", "Day"),
        "label": T("Tage"),
        "fields": [*DATES],
        "rules": [RULE],
    }
    data = {"days-count": "2"}
    data |= {f"days-0-{k}": v for k, v in dates(("2", "1", "2026"), ("1", "1", "2026")).items()}
    data |= {f"days-1-{k}": v for k, v in dates(("1", "1", "2026"), ("", "", "")).items()}
    form = step_form(definition(group), data)
    assert not form.is_valid()
    assert form.errors["days-0-end"] == ["Ende vor Beginn"]
    assert "Ende vor Beginn" not in " ".join(form.errors["days-1-end"])
