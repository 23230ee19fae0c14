"""StepForm.fields_html: an unbound step's rendering is reused per process, never wrongly.

The cache is keyed by the compiled form (one per published version, a new one
whenever a draft definition changes), the step, the languages, today's date and
exactly the answers the step shows or its conditions read. Each test compares
the cached HTML with a fresh render of the template, so a key that misses an
input fails here.
"""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation

from forms_catalog import step_form as step_form_module
from forms_catalog.compiler import CompiledForm
from forms_catalog.models import FormVersion
from forms_catalog.selectors import compiled_form
from forms_catalog.services import (
    form_version_create_draft,
    form_version_update_draft,
)
from tests.factories import ServiceFactory
from tests.forms_catalog.helpers import T, definition, field

TWO_STEPS = {
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


@pytest.fixture(autouse=True)
def _empty_cache():
    step_form_module.fields_html_cache_clear()
    yield
    step_form_module.fields_html_cache_clear()


def fresh(form) -> str:
    return render_to_string("forms_catalog/step_fields.html", {"form": form})


def test_cached_html_equals_a_fresh_render_and_is_reused():
    compiled = CompiledForm(TWO_STEPS)
    first = compiled.form_class("two")(answers={"has_dog": True}, prefix="two")
    html = first.fields_html()
    assert html == fresh(compiled.form_class("two")(answers={"has_dog": True}, prefix="two"))
    assert 'name="two-dog_name"' in html
    again = compiled.form_class("two")(answers={"has_dog": True}, prefix="two")
    assert again.fields_html() is html  # the same object: served from the cache


def test_an_answer_of_another_step_that_a_condition_reads_is_part_of_the_key():
    compiled = CompiledForm(TWO_STEPS)
    shown = compiled.form_class("two")(answers={"has_dog": True}).fields_html()
    hidden = compiled.form_class("two")(answers={"has_dog": False}).fields_html()
    assert 'name="dog_name"' in shown
    assert 'name="dog_name"' not in hidden
    assert hidden == fresh(compiled.form_class("two")(answers={"has_dog": False}))


def test_answers_nothing_on_the_page_reads_share_one_rendering():
    defn = {
        "schema_version": 1,
        "steps": [
            {"id": "one", "title": T("Eins"), "fields": [field("name", "text")]},
            {"id": "two", "title": T("Zwei"), "fields": [field("note", "text")]},
        ],
    }
    compiled = CompiledForm(defn)
    erika = compiled.form_class("two")(answers={"name": "Erika"}).fields_html()
    max_ = compiled.form_class("two")(answers={"name": "Max"}).fields_html()
    assert erika is max_  # the first visit of a step is the same page for everyone


def test_saved_answers_of_the_step_itself_are_shown_not_someone_elses():
    compiled = CompiledForm(definition(field("surname", "text")))
    erika = compiled.form_class("s")(answers={"surname": "Erika"}).fields_html()
    max_ = compiled.form_class("s")(answers={"surname": "Max <b>"}).fields_html()
    assert 'value="Erika"' in erika
    assert 'value="Max &lt;b&gt;"' in max_
    assert "Erika" not in max_


def test_a_bound_form_is_rendered_afresh_with_its_errors():
    compiled = CompiledForm(definition(field("surname", "text")))
    unbound = compiled.form_class("s")().fields_html()
    bound = compiled.form_class("s")(data={"surname": ""})
    bound.is_valid()
    html = bound.fields_html()
    assert "kern-error" in html and "kern-error" not in unbound
    assert html == fresh(bound)
    assert bound._fields_html_key() is None


def test_language_and_date_are_part_of_the_key():
    compiled = CompiledForm(definition(field("surname", "text", required=False)))
    german = compiled.form_class("s")(language="de").fields_html()
    english = compiled.form_class("s")(language="en").fields_html()
    assert "Feld surname" in german and "Field surname" in english
    with translation.override("en"):
        # Same form language, other active language: rendered separately.
        assert compiled.form_class("s")(language="de").fields_html() == german
    today = compiled.form_class("s")(today=datetime.date(2026, 1, 1))
    tomorrow = compiled.form_class("s")(today=datetime.date(2026, 1, 2))
    assert today._fields_html_key() != tomorrow._fields_html_key()


@pytest.mark.django_db
def test_a_changed_draft_definition_is_never_served_from_the_old_rendering():
    """Regression: the designer edits a draft version in place; its page must follow."""
    service = ServiceFactory()
    version = form_version_create_draft(
        service=service, definition=definition(field("surname", "text"))
    )
    before = compiled_form(version=version).form_class("s")().fields_html()
    assert "Feld surname" in before
    changed = definition(field("surname", "text"))
    changed["steps"][0]["fields"][0]["label"] = T("Familienname neu")
    form_version_update_draft(version=version, definition=changed)
    reloaded = FormVersion.objects.get(pk=version.pk)
    after = compiled_form(version=reloaded).form_class("s")().fields_html()
    assert "Familienname neu" in after and "Feld surname" not in after


def test_published_versions_are_cached_per_compiled_form():
    """Two versions (two CompiledForms) with the same step id never share HTML."""
    one = CompiledForm(definition(field("surname", "text")), version_id=1)
    changed = definition(field("surname", "text"))
    changed["steps"][0]["fields"][0]["label"] = T("Name in Version zwei")
    two = CompiledForm(changed, version_id=2)
    assert "Feld surname" in one.form_class("s")().fields_html()
    assert "Name in Version zwei" in two.form_class("s")().fields_html()


def test_changed_settings_empty_the_cache():
    compiled = CompiledForm(definition(field("doc", "file", extensions=["pdf"])))
    compiled.form_class("s")().fields_html()
    assert step_form_module._fragments
    with override_settings(PORTAL_MAX_UPLOAD_BYTES=1024):
        assert not step_form_module._fragments
        html = compiled.form_class("s")().fields_html()
        assert html == fresh(compiled.form_class("s")())


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(step_form_module, "_FRAGMENT_CACHE_SIZE", 3)
    compiled = CompiledForm(definition(field("surname", "text")))
    for n in range(10):
        compiled.form_class("s")(answers={"surname": f"Name {n}"}).fields_html()
    assert len(step_form_module._fragments) == 3
