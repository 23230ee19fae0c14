"""What a wizard step costs in queries, so a gain cannot silently regress.

A step GET with an existing session reads the session and the draft (with its
service, Gemeinde and version in one query) and refreshes the session (saved
on every request: the inactivity timeout). A valid POST of a step without file
fields adds only the draft's UPDATE: no query for files it cannot have changed.
Earlier steps are re-validated in memory (no query), and only they are.

The draft lookup and the step save are written once (citizen/drafts.py), not
compiled by the ORM on every request: only the session's two queries are.
The lookup reads a published version's definition not at all (its compiled
form is cached), a version in draft's with the same query.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.db.models.sql.compiler import (
    SQLCompiler,
    SQLDeleteCompiler,
    SQLInsertCompiler,
    SQLUpdateCompiler,
)
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizen.drafts import draft_for_session
from forms_catalog import compiler
from forms_catalog.compiler import CompiledForm
from forms_catalog.models import FormVersion
from forms_catalog.services import definition_checksum
from submissions.models import Attachment, Draft
from tests.citizen.citizen_support import municipal_rule, municipality, pdf_upload, publish

pytestmark = pytest.mark.django_db

PERSON = {"halter-vorname": "Erika", "halter-nachname": "Mustermann", "halter-email": "e@x.de"}
DOG = {"hund-hundename": "Bello", "hund-gefaehrlich": "no"}

# session SELECT, draft SELECT (service, Gemeinde, version joined), and the session
# refresh: SAVEPOINT, UPDATE, RELEASE inside the test's transaction.
STEP_GET_QUERIES = 5
# The same plus the draft's UPDATE with the accepted answers.
STEP_POST_QUERIES = 6


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def draft(client):
    version = publish()
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    assert response.status_code == 302
    draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"]).group(1)
    return Draft.objects.get(id=draft_id)


def step_url(draft, step):
    return f"/antrag/{draft.id}/schritt/{step}/"


def test_first_step_get_with_an_existing_session(client, draft, django_assert_num_queries):
    client.get(step_url(draft, "halter"))  # warm: compiled form and rendered fields
    with django_assert_num_queries(STEP_GET_QUERIES):
        response = client.get(step_url(draft, "halter"))
    assert response.status_code == 200
    assert 'name="halter-vorname"' in response.content.decode()


def test_valid_first_step_post_saving_the_draft(client, draft, django_assert_num_queries):
    with django_assert_num_queries(STEP_POST_QUERIES):
        response = client.post(step_url(draft, "halter"), PERSON)
    assert response["Location"] == step_url(draft, "hund")
    draft.refresh_from_db()
    assert draft.data["answers"]["vorname"] == "Erika" and draft.data["done"] == ["halter"]


def test_later_step_get_and_post_cost_the_same_queries(client, draft, django_assert_num_queries):
    """The re-validation of earlier steps runs in memory: no query per earlier step."""
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    client.get(step_url(draft, "hund"))
    with django_assert_num_queries(STEP_GET_QUERIES):
        assert client.get(step_url(draft, "hund")).status_code == 200
    with django_assert_num_queries(STEP_POST_QUERIES):
        assert client.post(step_url(draft, "hund"), DOG).status_code == 302


def test_only_earlier_steps_are_revalidated_once_per_request(client, draft, monkeypatch):
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    assert client.post(step_url(draft, "hund"), DOG).status_code == 302
    checked: list[str] = []
    original = compiler.CompiledForm.validate_answers

    def recording(self: CompiledForm, answers, **kwargs):
        problems = original(self, answers, **kwargs)
        checked.append(",".join(sorted(kwargs.get("steps") or ["<all>"])))
        return problems

    monkeypatch.setattr(compiler.CompiledForm, "validate_answers", recording)
    assert client.get(step_url(draft, "nachweise")).status_code == 200
    assert checked == ["halter,hund"]
    checked.clear()
    assert client.get(step_url(draft, "halter")).status_code == 200
    assert checked == []  # nothing before the first step


def test_an_earlier_step_made_invalid_is_still_reopened(client, draft):
    """The narrower re-validation keeps the guarantee: broken stored answers are found."""
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    draft.refresh_from_db()
    draft.data["answers"]["email"] = "kaputt"
    draft.save(update_fields=["data"])
    response = client.get(step_url(draft, "hund"))
    assert response["Location"] == step_url(draft, "halter")


def test_a_file_step_still_prunes_replaced_files(client, draft):
    """Skipping the file query applies only to steps without file fields."""
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    assert client.post(step_url(draft, "hund"), DOG).status_code == 302
    url = step_url(draft, "nachweise")
    assert client.post(url, {"nachweise-versicherung": pdf_upload("a.pdf")}).status_code == 302
    first = Attachment.objects.get()
    assert client.post(url, {"nachweise-versicherung": pdf_upload("b.pdf")}).status_code == 302
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["b.pdf"]
    assert not Attachment.objects.filter(id=first.id).exists()


def test_the_step_page_is_rendered_per_draft_with_its_own_answers(client, draft):
    """The cached rendering of the fields never shows another citizen's answers."""
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    page = client.get(step_url(draft, "halter")).content.decode()
    assert 'value="Erika"' in page
    other = client.post(
        f"/gemeinden/{draft.gemeinde.ags}/leistungen/hundeanmeldung/"
    )  # a second draft in the same session, nothing typed yet
    other_id = re.search(r"/antrag/([0-9a-f-]{36})/", other["Location"]).group(1)
    fresh = client.get(f"/antrag/{other_id}/schritt/halter/").content.decode()
    assert 'name="halter-vorname"' in fresh and "Erika" not in fresh


def test_the_draft_lookup_and_save_are_not_compiled_per_request(client, draft, monkeypatch):
    """Only the session's SELECT and UPDATE go through the ORM's compiler on a valid POST."""
    client.get(step_url(draft, "halter"))
    compiled: list[str] = []
    for kind in (SQLCompiler, SQLUpdateCompiler, SQLInsertCompiler, SQLDeleteCompiler):
        original = kind.as_sql

        def recording(self, *args, _original=original, **kwargs):
            compiled.append(self.query.model._meta.db_table)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(kind, "as_sql", recording)
    with CaptureQueriesContext(connection) as queries:
        assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    assert sorted(compiled) == ["django_session", "django_session"]
    assert any(q["sql"].startswith("UPDATE") and "submissions_draft" in q["sql"] for q in queries)


def looked_up(client, draft) -> Draft:
    request = type("Request", (), {"session": client.session})()
    found = draft_for_session(request=request, draft_id=draft.id)
    assert found is not None
    return found


def test_the_draft_lookup_gives_what_the_orm_gives(client, draft):
    """Every column of the draft and its service, Gemeinde and version, converted alike."""
    assert client.post(step_url(draft, "halter"), PERSON).status_code == 302
    found = looked_up(client, draft)
    expected = Draft.objects.select_related("service", "gemeinde", "form_version").get(id=draft.id)
    for instance, orm in (
        (found, expected),
        (found.service, expected.service),
        (found.gemeinde, expected.gemeinde),
        (found.form_version, expected.form_version),
    ):
        for field in type(orm)._meta.concrete_fields:
            assert getattr(instance, field.attname) == getattr(orm, field.attname), field.name
    assert found.data["answers"]["vorname"] == "Erika" and found.steps_reached == 0b11


def test_a_published_versions_definition_is_not_read(client, draft, django_assert_num_queries):
    version = draft.form_version
    version.checksum = definition_checksum(version.definition)
    version.save(update_fields=["checksum"])
    client.get(step_url(draft, "halter"))  # compiles the form once (reads the definition)
    found = looked_up(client, draft)
    assert "definition" in found.form_version.get_deferred_fields()
    with django_assert_num_queries(STEP_POST_QUERIES):
        response = client.post(step_url(draft, "halter"), PERSON)
    assert response["Location"] == step_url(draft, "hund")
    # Whatever does read it gets it, with one query.
    with django_assert_num_queries(1):
        assert found.form_version.definition == version.definition


def test_a_version_in_draft_brings_its_definition_along(client, draft, django_assert_num_queries):
    """compiled_form checksums a version in draft on every call: read in the same query."""
    FormVersion.objects.filter(id=draft.form_version_id).update(
        status=FormVersion.Status.DRAFT, checksum="x"
    )
    found = looked_up(client, draft)
    assert found.form_version.get_deferred_fields() == set()
    assert found.form_version.definition == draft.form_version.definition
    client.get(step_url(draft, "halter"))
    with django_assert_num_queries(STEP_POST_QUERIES):
        assert client.post(step_url(draft, "halter"), PERSON).status_code == 302


def test_an_expired_or_submitted_draft_is_not_found(client, draft):
    assert looked_up(client, draft).id == draft.id
    request = type("Request", (), {"session": client.session})()
    Draft.objects.filter(id=draft.id).update(expires_at=timezone.now())
    assert draft_for_session(request=request, draft_id=draft.id) is None
    Draft.objects.filter(id=draft.id).update(
        expires_at=timezone.now() + datetime.timedelta(days=1), submitted_at=timezone.now()
    )
    assert draft_for_session(request=request, draft_id=draft.id) is None
