"""Read API: published version, version pinning, compile cache, fees, applicant contact."""

from __future__ import annotations

import copy
import datetime
import hashlib
from decimal import Decimal

import pytest
from django.utils import timezone

from forms_catalog import selectors
from forms_catalog.models import FormVersion
from forms_catalog.selectors import (
    applicant_contact,
    calculate_fee,
    compiled_form,
    export_answers,
    published_version,
    summarize,
)
from forms_catalog.services import (
    definition_checksum,
    form_version_create_draft,
    form_version_publish_system,
    form_version_update_draft,
)
from submissions.models import Draft
from tests.factories import FormVersionFactory, GemeindeFactory, ServiceFactory
from tests.forms_catalog.helpers import TODAY, T, definition, field

pytestmark = pytest.mark.django_db

V1 = definition(
    field("surname", "text", role="applicant_name"),
    field("email", "email", role="applicant_email", required=False),
)


def publish(service, defn):
    draft = form_version_create_draft(service=service, definition=copy.deepcopy(defn))
    return form_version_publish_system(version=draft)


def test_a_draft_started_on_n_completes_on_n_after_n_plus_1_is_published():
    service = ServiceFactory(slug="hundeanmeldung")
    v1 = publish(service, V1)
    draft = Draft.objects.create(
        token_hash=hashlib.sha256(b"token").hexdigest(),
        service=service,
        form_version=published_version(service=service),
        gemeinde=GemeindeFactory(),
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    v2_defn = copy.deepcopy(V1)
    v2_defn["steps"][0]["fields"].append(field("phone", "phone"))  # new required field in N+1
    v2 = publish(service, v2_defn)
    assert published_version(service=service) == v2

    draft.refresh_from_db()
    assert draft.form_version == v1
    compiled = compiled_form(version=draft.form_version)
    form = compiled.form_class("s")(data={"surname": "Schneider"}, answers=draft.data)
    assert form.is_valid(), form.errors  # v2's required phone does not apply
    draft.data = form.merged_answers()
    draft.save()
    assert compiled.validate_answers(draft.data) == []
    assert (
        summarize(version=draft.form_version, answers=draft.data, language="de")[0].rows[0].value
        == "Schneider"
    )
    # The new version would refuse the same answers.
    assert compiled_form(version=v2).validate_answers(draft.data)


def test_published_version_ignores_drafts_and_retired():
    service = ServiceFactory()
    FormVersionFactory(service=service, number=7, status=FormVersion.Status.DRAFT, definition=V1)
    FormVersionFactory(service=service, number=3, status=FormVersion.Status.RETIRED, definition=V1)
    assert published_version(service=service) is None
    current = (
        publish(service, V1)
        if False
        else FormVersionFactory(
            service=service, number=4, status=FormVersion.Status.PUBLISHED, definition=V1
        )
    )
    assert published_version(service=service) == current


def test_compiled_form_is_cached_per_version_and_draft_edits_recompile():
    service = ServiceFactory()
    version = publish(service, V1)
    first = compiled_form(version=version)
    again = compiled_form(version=FormVersion.objects.get(pk=version.pk))
    assert first is again
    draft = form_version_create_draft(service=service)
    before = compiled_form(version=draft)
    changed = copy.deepcopy(V1)
    changed["steps"][0]["title"] = T("Neu", "New")
    form_version_update_draft(version=draft, definition=changed)
    after = compiled_form(version=FormVersion.objects.get(pk=draft.pk))
    assert after is not before
    assert after.step_title("s", "de") == "Neu"


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(selectors, "_CACHE_SIZE", 2)
    service = ServiceFactory()
    versions = [
        FormVersionFactory(service=service, definition=V1, checksum=definition_checksum(V1))
        for _ in range(3)
    ]
    for version in versions:
        compiled_form(version=version)
    assert len(selectors._cache) <= 2


def test_applicant_contact_from_roles_and_empty_when_hidden_or_missing():
    version = publish(ServiceFactory(), V1)
    assert applicant_contact(
        version=version, answers={"surname": "Schneider", "email": "a@b.de"}
    ) == (
        "Schneider",
        "a@b.de",
    )
    assert applicant_contact(version=version, answers={}) == ("", "")
    hidden = definition(
        field("anon", "yesno"),
        field(
            "email", "email", role="applicant_email", visible_if={"eq": [{"field": "anon"}, False]}
        ),
    )
    version2 = publish(ServiceFactory(), hidden)
    assert applicant_contact(version=version2, answers={"anon": True, "email": "x@y.de"}) == (
        "",
        "",
    )


def test_fee_none_without_rules_and_hostile_parameters_fall_back_to_defaults():
    version = publish(ServiceFactory(), V1)
    assert calculate_fee(version=version, answers={}, parameters={}) is None
    defn = definition(field("n", "number"))
    defn["parameters"] = [{"id": "rate", "type": "money", "label": T("Satz"), "default": "10.00"}]
    defn["fees"] = {
        "lines": [
            {
                "id": "l",
                "label": T("Gebühr {n}"),
                "amount": {"mul": [{"field": "n"}, {"param": "rate"}]},
            }
        ]
    }
    version = publish(ServiceFactory(), defn)
    fee = calculate_fee(version=version, answers={"n": 3}, parameters={"rate": "<script>"})
    assert fee.amount == Decimal("30.00")
    assert fee.lines == [("Gebühr {n}".replace("{n}", ""), Decimal("30.00"))]
    assert calculate_fee(version=version, answers={"n": 3}, parameters={"rate": True}).amount == 30
    for junk in ("Infinity", "NaN", "1e99999", [1], {"a": 1}):
        assert (
            calculate_fee(version=version, answers={"n": 3}, parameters={"rate": junk}).amount == 30
        )
    assert calculate_fee(version=version, answers={"n": 3}, parameters=None).amount == 30
    assert calculate_fee(version=version, answers={}, parameters={}) is None  # answer missing


def test_summary_lists_visible_empty_fields_and_escapes_nothing_itself():
    version = publish(ServiceFactory(), V1)
    sections = summarize(version=version, answers={"surname": "<b>X</b>"}, language="en")
    assert [(r.path, r.value) for r in sections[0].rows] == [
        ("surname", "<b>X</b>"),
        ("email", "—"),
    ]
    assert sections[0].title == "Step"


def test_export_is_json_serialisable():
    import json

    version = publish(ServiceFactory(), V1)
    exported = export_answers(version=version, answers={"surname": "Schneider", "junk": object()})
    json.dumps(exported)
    assert exported["answers"] == {"surname": "Schneider"}
    assert exported["checksum"] == version.checksum


def test_on_date_defaults_to_today():
    defn = definition(field("born", "date"))
    defn["fees"] = {
        "lines": [
            {
                "id": "l",
                "label": T("x"),
                "when": {"ge": [{"age": {"field": "born"}}, 18]},
                "amount": 5,
            }
        ]
    }
    version = publish(ServiceFactory(), defn)
    adult = (timezone.localdate() - datetime.timedelta(days=365 * 30)).isoformat()
    assert calculate_fee(version=version, answers={"born": adult}, parameters={}).amount == 5
    assert (
        calculate_fee(version=version, answers={"born": adult}, parameters={}, on_date=TODAY).amount
        == 5
    )


def test_declared_parameters_list_the_published_forms_fee_keys():
    from forms_catalog.selectors import declared_parameters
    from forms_catalog.services import catalogue_load

    catalogue_load()
    from forms_catalog.models import Service

    ids = [p["id"] for p in declared_parameters(service=Service.objects.get(slug="hundeanmeldung"))]
    assert ids == ["rate_first", "rate_second", "rate_further", "rate_dangerous"]
    assert declared_parameters(service=ServiceFactory()) == []


def test_applicant_contact_without_roles_falls_back_to_email_and_name_fields():
    plain = definition(field("name", "text"), field("mail", "email"))
    version = publish(ServiceFactory(), plain)
    contact = applicant_contact(
        version=version, answers={"name": "Erika Mustermann", "mail": "e@x.de"}
    )
    assert contact == ("Erika Mustermann", "e@x.de")


def test_a_version_without_steps_is_summarised_as_a_plain_listing():
    version = FormVersionFactory(service=ServiceFactory(), definition={})
    answers = {"name": "Erika", "hund": [{"rufname": "Bello"}], "leer": None}
    (section,) = summarize(version=version, answers=answers, language="de")
    assert [(r.label, r.value) for r in section.rows] == [
        ("name", "Erika"),
        ("hund", "rufname: Bello"),
        ("leer", "—"),
    ]
    assert export_answers(version=version, answers=answers)["answers"] == answers


def test_long_answers_are_never_shortened_in_the_summary():
    long_text = "Wort " * 5000
    defn = definition(field("text", "textarea", max_length=20000))
    version = publish(ServiceFactory(), defn)
    rows = summarize(version=version, answers={"text": long_text}, language="de")[0].rows
    assert rows[0].value == long_text
