"""The compiled form: re-checking stored answers, the wizard's form list."""

from __future__ import annotations

from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import CHOICE, DOGS, OTHER, TODAY, definition


def test_validate_answers_rechecks_a_complete_application():
    compiled = CompiledForm(definition(CHOICE, OTHER, DOGS))
    good = {"kind": "other", "other": "x", "dogs": [{"name": "Bello", "dangerous": False}]}
    assert compiled.validate_answers(good, today=TODAY) == []
    bad = {"kind": "other", "dogs": []}
    problems = compiled.validate_answers(bad, today=TODAY)
    assert {p[1] for p in problems} >= {"other", "__all__"}


def test_form_list_for_the_wizard():
    compiled = CompiledForm(definition(CHOICE))
    ((step_id, form_class),) = compiled.form_list()
    assert step_id == "s"
    assert form_class(data={"s-kind": "a"}, prefix="s").is_valid()
    assert compiled.step_title("s", "en") == "Step"
