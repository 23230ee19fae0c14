"""The compiled step forms drive django-formtools' own SessionWizardView unchanged."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse, QueryDict
from django.test import RequestFactory
from formtools.wizard.views import SessionWizardView

from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import TODAY, catalogue_definition
from tests.forms_catalog.test_catalogue import PASS_PAGES, d

pytestmark = pytest.mark.django_db


class PassportWizard(SessionWizardView):
    template_name = "forms_catalog/step_fields.html"
    compiled: CompiledForm | None = None

    def get_form_kwargs(self, step=None):
        answers = {}
        for done in self.get_form_list():
            if done == step:
                break
            data = self.storage.get_step_data(done)
            if data is not None:
                form = self.compiled.form_class(done)(
                    data=data, prefix=done, answers=answers, today=TODAY
                )
                if form.is_valid():
                    answers = form.merged_answers()
        return {"answers": answers, "language": "de", "today": TODAY}

    def done(self, form_list, **kwargs):
        answers: dict = {}
        for form in form_list:
            answers = {**answers, **form.answers}
        return HttpResponse(json.dumps(answers), content_type="application/json")


def make_view(compiled: CompiledForm):
    def visible(step_id):
        def condition(wizard):
            answers = wizard.get_form_kwargs(step_id)["answers"]
            return compiled.step_is_visible(step_id, answers, TODAY)

        return condition

    conditions = {s: visible(s) for s in compiled.step_ids()}
    return PassportWizard.as_view(
        compiled.form_list(), condition_dict=conditions, compiled=compiled
    )


def test_reisepass_for_a_minor_through_session_wizard_view():
    compiled = CompiledForm(catalogue_definition("reisepass"))
    view = make_view(compiled)
    factory = RequestFactory()
    session = SessionStore()
    session.create()

    def call(method, data=None):
        request = getattr(factory, method)("/wizard/", data or {})
        request.session = session
        response = view(request)
        session.save()
        return response

    assert call("get").status_code == 200
    pages = {
        **PASS_PAGES,
        "person": {**PASS_PAGES["person"], **d("2012-05-05", "birth_date")},
        "sorgeberechtigte": {"custodians-count": "1", "custodians-0-name": "Schneider, Anna",
                             "custodians-0-agrees": "on"},
    }  # fmt: skip
    steps_seen = []
    response = None
    for _ in range(10):
        current = session["wizard_passport_wizard"]["step"]
        steps_seen.append(current)
        post = QueryDict(mutable=True)
        post["passport_wizard-current_step"] = current
        for key, value in pages[current].items():
            post[f"{current}-{key}"] = value
        response = call("post", post)
        if response["Content-Type"] == "application/json":
            break
        # An invalid step re-renders itself: fail with its errors.
        assert session["wizard_passport_wizard"]["step"] != current, response.content[:2000]
    assert steps_seen == ["person", "dokument", "sorgeberechtigte", "termin", "abschluss"]
    answers = json.loads(response.content)
    assert answers["custodians"] == [{"name": "Schneider, Anna", "agrees": True}]
    assert answers["pages"] == "48" and answers["express"] is True


def test_add_button_inside_session_wizard_view_stays_on_the_step():
    compiled = CompiledForm(catalogue_definition("reisepass"))
    view = make_view(compiled)
    factory = RequestFactory()
    session = SessionStore()
    session.create()
    minor = {**PASS_PAGES["person"], **d("2012-05-05", "birth_date")}
    for step, fields in (("person", minor), ("dokument", PASS_PAGES["dokument"])):
        post = {f"{step}-{k}": v for k, v in fields.items()}
        request = factory.post("/", {"passport_wizard-current_step": step, **post})
        request.session = session
        view(request)
        session.save()
    assert session["wizard_passport_wizard"]["step"] == "sorgeberechtigte"
    request = factory.post("/", {"passport_wizard-current_step": "sorgeberechtigte",
                                 "sorgeberechtigte-custodians-count": "1",
                                 "sorgeberechtigte-custodians-add": "1"})  # fmt: skip
    request.session = session
    response = view(request)
    session.save()
    html = response.rendered_content
    assert session["wizard_passport_wizard"]["step"] == "sorgeberechtigte"
    assert 'name="sorgeberechtigte-custodians-1-name"' in html
    assert "kern-error" not in html
