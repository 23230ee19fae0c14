"""Status access and withdrawal in a real browser (system Chromium), checked by axe-core.

"Zugangscode verloren?" with the keyboard only, from the status form to the
new code in the mail and back into the status page; the receipt e-mail's
personal link to the status page and the withdrawal's confirm step. axe on
every new page and state, in German and English.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from submissions.access import access_code_mail
from submissions.models import Submission
from submissions.pipeline import (
    Step,
    pipeline_notify_citizen,
    pipeline_render_pdfs,
    pipeline_resolve_office,
)
from submissions.services import submission_submit
from tests.submissions.conftest import make_answers, make_draft, office_setup  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()
CODE_RE = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b")
LINK_RE = re.compile(r"https?://[^\s/]+(/status/TH-[0-9A-Z-]+/zugang/[0-9a-f]+/)")


def assert_accessible(page, what: str) -> None:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


@pytest.fixture
def filed(office_setup, clean_broker):  # noqa: F811 - the imported fixture
    """An application in the citizen's language with its receipt mailed: (submission, link)."""

    def _filed(language: str, smtp_server) -> tuple[Submission, str]:
        submission, _ = submission_submit(
            draft=make_draft(office_setup), answers=make_answers(), language=language
        )
        assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
        assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
        assert pipeline_notify_citizen(submission_id=submission.pk) is Step.DONE
        body = smtp_server.text_of(smtp_server.messages[-1])
        return Submission.objects.get(pk=submission.pk), LINK_RE.search(body).group(1)

    return _filed


def choose_language(page, url: str, language: str) -> None:
    page.goto(url + "/")
    if language == "en":
        page.get_by_role("button", name="English").click()


@pytest.mark.parametrize("language", ["de", "en"])
def test_lost_code_with_the_keyboard_only(live_server, page, filed, smtp_server, language):
    """Tab, type and Enter only: from the status form to a new code and back."""
    submission, _ = filed(language, smtp_server)
    smtp_server.messages.clear()
    choose_language(page, live_server.url, language)
    keyboard = page.keyboard

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"could not reach {selector} with the Tab key")

    page.goto(live_server.url + "/status/")
    assert_accessible(page, f"status form ({language})")
    tab_to("[data-testid=access-code-lost-link]")
    with page.expect_navigation():
        keyboard.press("Enter")
    assert page.url.endswith("/status/zugangscode/")
    assert page.locator("html").get_attribute("lang") == language
    assert_accessible(page, f"lost code form ({language})")

    tab_to("button.kern-btn--primary")
    with page.expect_navigation():
        keyboard.press("Enter")
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, f"lost code form with an error ({language})")

    tab_to("#id_reference")
    keyboard.type(submission.reference.lower())
    tab_to("button.kern-btn--primary")
    with page.expect_navigation():
        keyboard.press("Enter")
    requested = page.get_by_test_id("access-code-requested")
    expect(requested).to_be_visible()
    assert_accessible(page, f"lost code requested ({language})")

    # What the e-mail worker does with the queued task.
    assert access_code_mail(submission_id=submission.pk, nonce="browser") == "sent"
    (mail,) = smtp_server.messages
    assert mail.rcpt_to == ["erika@example.org"]
    secret = CODE_RE.search(smtp_server.text_of(mail)).group(1)

    page.goto(live_server.url + "/status/")
    tab_to("#id_reference")
    keyboard.type(submission.reference)
    tab_to("#id_secret")
    keyboard.type(secret)
    tab_to("button.kern-btn--primary")
    with page.expect_navigation():
        keyboard.press("Enter")
    expect(page.get_by_test_id("status")).to_be_visible()
    assert submission.reference in page.locator("main").inner_text()
    assert_accessible(page, f"status page after a new code ({language})")


@pytest.mark.parametrize("language", ["de", "en"])
def test_receipt_link_opens_the_status_page_and_the_citizen_withdraws(
    live_server, page, filed, smtp_server, language
):
    submission, link = filed(language, smtp_server)
    choose_language(page, live_server.url, language)
    page.goto(live_server.url + link)
    # The token is gone from the address bar.
    assert page.url == f"{live_server.url}/status/{submission.reference}/"
    assert page.get_by_test_id("status").is_visible()
    assert_accessible(page, f"status page from the receipt link ({language})")

    page.get_by_test_id("withdraw-link").click()
    page.wait_for_url(re.compile("/zurueckziehen/$"))
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() in {"Antrag zurückziehen?", "Withdraw application?"}
    assert_accessible(page, f"withdrawal confirm step ({language})")

    reason = page.get_by_label(re.compile("Grund für die Rücknahme|Reason for withdrawing"))
    reason.fill('Umgezogen <img src=x onerror="alert(1)">')
    page.get_by_test_id("withdraw-confirm").click()
    page.wait_for_url(f"{live_server.url}/status/{submission.reference}/")
    status = page.get_by_test_id("status").inner_text()
    assert status in {"zurückgezogen", "withdrawn"}, status
    assert 'onerror="alert(1)"' in page.locator("main").inner_text()
    assert page.get_by_test_id("withdraw-link").count() == 0
    assert_accessible(page, f"status page after withdrawal ({language})")
    assert Submission.objects.get(pk=submission.pk).status == "withdrawn"

    page.goto(f"{live_server.url}/status/{submission.reference}/zurueckziehen/")
    assert page.get_by_test_id("withdraw-not-possible").is_visible()
    assert page.get_by_test_id("withdraw-confirm").count() == 0
    assert_accessible(page, f"withdrawal no longer possible ({language})")

    # Without this browser's session the page shows nothing.
    page.context.clear_cookies()
    response = page.goto(f"{live_server.url}/status/{submission.reference}/")
    assert response.status == 404 and page.get_by_test_id("status").count() == 0
