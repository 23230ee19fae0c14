"""Review and publish in a real browser under the strict CSP: editor A submits a version
for review, editor B sees the coloured side-by-side diff (the colours come from the
static stylesheet, so they prove it loads under the CSP), approves and publishes it
after the confirmation page. axe-core finds no WCAG 2.1 AA violation on these pages."""

from __future__ import annotations

import copy

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.templatetags.static import static

from forms_catalog.models import FormVersion
from forms_catalog.selectors import published_version
from forms_catalog.services import (
    form_version_create_draft,
    form_version_publish_system,
    form_version_update_draft,
)
from tests.backoffice.backoffice_support import current_totp, make_staff
from tests.factories import ServiceFactory
from tests.forms_catalog.helpers import T, definition, field, options

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
TRANSPARENT = "rgba(0, 0, 0, 0)"

V1 = definition(
    field("name", "text"),
    field("kind", "choice", options=options("a", "b")),
    field("old_note", "text", required=False),
)


def login(browser, url, staff):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", staff.password)
    page.fill("#id_otp_token", current_totp(staff.user))
    page.click("input[type=submit]")
    page.wait_for_url(url + "/admin/")
    return context, page


def no_violations(page, where: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


def background(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


def test_editor_a_submits_editor_b_sees_the_coloured_diff_approves_and_publishes(
    live_server, browser
):
    author = make_staff("kz_autorin", "kompetenzzentrum", login=False)
    reviewer = make_staff("kz_pruefer", "kompetenzzentrum", login=False)
    service = ServiceFactory(slug="hundeanmeldung-test", name_de="Testleistung")
    v1 = form_version_create_draft(service=service, definition=copy.deepcopy(V1))
    form_version_publish_system(version=v1)
    draft = form_version_create_draft(service=service, user=author.user)
    new = copy.deepcopy(V1)
    fields = new["steps"][0]["fields"]
    fields[0]["label"] = T("Familienname", "Surname")  # changed
    del fields[2]  # removed
    fields.append(field("email", "email", required=False))  # added
    form_version_update_draft(version=draft, definition=new, user=author.user)
    review = f"{live_server.url}/admin/forms_catalog/formversion/{draft.pk}/review/"

    # Editor A: sends the draft to review with a change note.
    context, page = login(browser, live_server.url, author)
    response = page.goto(review)
    csp = response.headers.get("content-security-policy", "")
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    no_violations(page, "review page (draft)")
    page.fill("#id_submit-note", "Familienname statt Name; E-Mail ergänzt")
    page.click("button[value=submit]")
    page.wait_for_url(review)
    assert page.inner_text("#version-status") == "zur Prüfung"
    # The author gets no approval form (four eyes).
    assert page.locator("button[value=approve]").count() == 0
    assert "Vier-Augen-Prinzip" in page.inner_text("#content")
    context.close()

    # Editor B: reviews the coloured diff and approves for immediate publication.
    context, page = login(browser, live_server.url, reviewer)
    page.goto(review)
    stylesheets = page.eval_on_selector_all(
        "link[rel=stylesheet]", "links => links.map(l => l.getAttribute('href'))"
    )
    assert static("forms_catalog/review.css") in stylesheets
    added = background(page, ".portal-diff__row--added .portal-diff__new")
    removed = background(page, ".portal-diff__row--removed .portal-diff__old")
    changed_old = background(page, ".portal-diff__row--changed .portal-diff__old")
    changed_new = background(page, ".portal-diff__row--changed .portal-diff__new")
    assert TRANSPARENT not in (added, removed, changed_old, changed_new)
    assert added != removed and changed_old != changed_new
    assert added == changed_new and removed == changed_old
    # Colour is not the only signal: each row names its change in text.
    assert page.inner_text(".portal-diff__row--added").startswith("hinzugefügt")
    assert "entfernt" in page.inner_text(".portal-diff__row--removed")
    assert "Familienname" in page.inner_text(".portal-diff__row--changed .portal-diff__new")
    no_violations(page, "review page (in review)")
    page.fill("#id_approve-note", "Geprüft: Beschriftungen stimmen.")
    page.check("input[name=approve-when][value=now]")
    page.click("button[value=approve]")
    page.wait_for_url("**/publish/")
    assert "Das ändert sich landesweit" in page.inner_text("#content")
    no_violations(page, "publish confirmation")
    assert FormVersion.objects.get(pk=draft.pk).status == FormVersion.Status.APPROVED
    page.click("text=Version 2 jetzt veröffentlichen")
    page.wait_for_url(review)
    assert page.inner_text("#version-status") == "veröffentlicht"
    history = page.inner_text(".portal-history")
    for action in ["angelegt", "zur Prüfung gegeben", "freigegeben", "veröffentlicht"]:
        assert action in history
    assert "kz_autorin" in history and "kz_pruefer" in history
    no_violations(page, "review page (published)")
    page.goto(f"{live_server.url}/admin/forms_catalog/formversion/{draft.pk}/diff/")
    assert page.locator(".portal-diff__row--added").count() == 1
    no_violations(page, "diff page")
    context.close()

    assert published_version(service=service).pk == draft.pk
    v1.refresh_from_db()
    assert v1.status == FormVersion.Status.RETIRED
