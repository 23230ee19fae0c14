"""The review pages in the admin: what each editor may do, German messages, nothing typed
lost, hostile posts refused by the services."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forms_catalog.models import FormVersion
from forms_catalog.services import (
    catalogue_load,
    form_version_create_draft,
    form_version_submit_for_review,
)
from tests.factories import FormEditorFactory
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return FormEditorFactory(username="autorin")


@pytest.fixture
def reviewer():
    return FormEditorFactory(username="pruefer")


@pytest.fixture
def submitted(author):
    catalogue_load()
    published = FormVersion.objects.get(service__slug="hundeanmeldung")
    draft = form_version_create_draft(service=published.service, user=author)
    form_version_submit_for_review(version=draft, user=author, note="Nur neu nummeriert")
    return draft


def review_url(version) -> str:
    return reverse("admin:forms_catalog_formversion_review", args=[version.pk])


def login(user) -> Client:
    return otp_force_login(Client(), user)


def test_author_sees_no_approve_form_and_a_forged_approval_is_refused(author, submitted):
    client = login(author)
    page = client.get(review_url(submitted)).content.decode()
    assert "Vier-Augen-Prinzip" in page
    assert 'value="approve"' not in page and 'value="changes"' in page
    response = client.post(
        review_url(submitted),
        {
            "action": "approve",
            "approve-checksum": submitted.checksum,
            "approve-note": "selbst geprüft",
            "approve-when": "now",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Vier-Augen-Prinzip" in html
    assert "selbst geprüft" in html  # the typed note is still there
    submitted.refresh_from_db()
    assert submitted.status == FormVersion.Status.IN_REVIEW


def test_reviewer_schedules_and_errors_keep_what_was_typed(reviewer, submitted):
    client = login(reviewer)
    page = client.get(review_url(submitted)).content.decode()
    assert 'value="approve"' in page and "Nur neu nummeriert" in page
    base = {
        "action": "approve",
        "approve-checksum": submitted.checksum,
        "approve-note": "Gute Änderung",
        "approve-when": "later",
    }
    missing = client.post(review_url(submitted), base).content.decode()
    assert "Bitte geben Sie ein Datum an." in missing and "Gute Änderung" in missing
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    past = client.post(
        review_url(submitted),
        {**base, "approve-publish_date": yesterday.isoformat(), "approve-publish_time": "08:00"},
    ).content.decode()
    assert "Vergangenheit" in past and "Gute Änderung" in past
    submitted.refresh_from_db()
    assert submitted.status == FormVersion.Status.IN_REVIEW
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        review_url(submitted),
        {**base, "approve-publish_date": tomorrow.isoformat(), "approve-publish_time": "06:30"},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == FormVersion.Status.SCHEDULED
    local = timezone.localtime(submitted.publish_at)
    assert (local.date(), local.hour, local.minute) == (tomorrow, 6, 30)
    page = client.get(review_url(submitted)).content.decode()
    assert "Veröffentlichung geplant" in page and "Gute Änderung" in page


@pytest.mark.parametrize(
    "post",
    [
        {
            "action": "approve",
            "approve-checksum": "0" * 64,
            "approve-note": "x",
            "approve-when": "now",
        },
        {"action": "approve", "approve-note": "x" * 5000, "approve-when": "now"},
        {"action": "approve", "approve-when": "sofort"},
        {"action": "explode"},
        {"action": "schedule", "schedule-publish_date": "31.02.2027", "schedule-publish_time": "x"},
    ],
)
def test_hostile_posts_change_nothing(reviewer, submitted, post):
    client = login(reviewer)
    response = client.post(review_url(submitted), post, follow=True)
    assert response.status_code == 200
    submitted.refresh_from_db()
    assert submitted.status == FormVersion.Status.IN_REVIEW


def test_publish_page_refuses_a_version_not_approved(reviewer, submitted):
    client = login(reviewer)
    url = reverse("admin:forms_catalog_formversion_publish", args=[submitted.pk])
    response = client.get(url, follow=True)
    assert "Nur eine freigegebene Version" in response.content.decode()
    response = client.post(url)
    assert "freigegebene Version" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == FormVersion.Status.IN_REVIEW


def test_unknown_version_is_404(reviewer):
    client = login(reviewer)
    assert (
        client.get(reverse("admin:forms_catalog_formversion_review", args=[999999])).status_code
        == 404
    )
