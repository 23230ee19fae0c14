"""Visibility semantics, repeatable groups, cross-field rules and the rendered markup."""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import TODAY, T, definition, field, options, step_form

CHOICE = field("kind", "choice", options=options("a", "other"))
OTHER = field("other", "text", visible_if={"eq": [{"field": "kind"}, "other"]})


# --- visibility ---------------------------------------------------------------------
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


# --- repeatable groups ---------------------------------------------------------------
DOGS = {
    "id": "dogs",
    "type": "group",
    "label": T("Hunde", "Dogs"),
    "repeatable": True,
    "min": 1,
    "max": 3,
    "item_label": T("Hund", "Dog"),
    "fields": [
        field("name", "text"),
        field("dangerous", "yesno"),
        field("permit", "text", visible_if={"eq": [{"field": "dangerous"}, True]}),
    ],
}


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


# --- rules ---------------------------------------------------------------------------
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


def test_validate_answers_rechecks_a_complete_application():
    compiled = CompiledForm(definition(CHOICE, OTHER, DOGS))
    good = {"kind": "other", "other": "x", "dogs": [{"name": "Bello", "dangerous": False}]}
    assert compiled.validate_answers(good, today=TODAY) == []
    bad = {"kind": "other", "dogs": []}
    problems = compiled.validate_answers(bad, today=TODAY)
    assert {p[1] for p in problems} >= {"other", "__all__"}


# --- markup and accessibility --------------------------------------------------------
def render(defn, data=None, language="de", answers=None):
    form = step_form(defn, data, language=language, answers=answers)
    if data is not None:
        form.is_valid()
    return form, render_to_string("forms_catalog/step_fields.html", {"form": form})


def test_every_input_has_a_label_and_errors_are_linked():
    defn = definition(
        field("surname", "text", autocomplete="family-name", help=T("Wie im Ausweis")),
        field("born", "date", autocomplete="bday"),
        CHOICE,
        field("multi", "multichoice", options=options("x", "y")),
        field("agree", "consent"),
        field("doc", "file", extensions=["pdf"]),
        field("kind2", "choice", widget="select", options=options("a")),
    )
    form, html = render(defn, {"surname": ""})
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
    assert ids
    for input_id in ids:
        assert f'for="{input_id}"' in html, input_id
    assert 'aria-describedby="id_surname-hint id_surname-error"' in html
    assert 'id="id_surname-error"' in html
    assert 'autocomplete="family-name"' in html
    for part in ("bday-day", "bday-month", "bday-year"):
        assert f'autocomplete="{part}"' in html
    assert html.count("<fieldset") >= 3 and "<legend" in html
    summary = dict(form.error_summary)
    assert "id_surname" in summary
    assert "id_born_day" in summary  # the first of the three date inputs
    assert "id_kind_0" in summary  # the first radio


def test_error_summary_template_links_to_each_field():
    form, _ = render(definition(field("surname", "text")), {"surname": ""})
    html = render_to_string("forms_catalog/error_summary.html", {"form": form})
    assert 'href="#id_surname"' in html
    assert 'role="alert"' in html


def test_text_inputs_carry_a_maxlength_even_without_definition():
    _, html = render(definition(field("v", "text")))
    assert 'maxlength="200"' in html


def test_english_rendering_uses_english_texts():
    _, html = render(definition(field("born", "date")), language="en")
    assert "Day" in html and "Month" in html and "Year" in html
    assert "Field born" in html


def test_saved_answers_are_shown_again_in_an_unbound_form():
    _, html = render(
        definition(field("born", "date"), field("ok", "yesno")),
        None,
        answers={"born": "1990-10-03", "ok": True},
    )
    assert 'name="born_day" value="3"' in html
    assert 'name="born_year" value="1990"' in html
    assert re.search(r'value="yes" checked', html)


def test_form_list_for_the_wizard():
    compiled = CompiledForm(definition(CHOICE))
    ((step_id, form_class),) = compiled.form_list()
    assert step_id == "s"
    assert form_class(data={"s-kind": "a"}, prefix="s").is_valid()
    assert compiled.step_title("s", "en") == "Step"


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


def test_date_fields_get_an_example_hint_and_money_a_unit():
    _, html = render(definition(field("born", "date"), field("rent", "money")))
    assert "Zum Beispiel: 27 3 2007" in html
    assert 'aria-describedby="id_born-hint"' in html
    assert "in Euro" in html
