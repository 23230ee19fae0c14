"""One journey per user group through the configuration operators deploy.

nginx terminates TLS and sets X-Forwarded-For/-Proto (docs/nginx.conf);
gunicorn runs with DEBUG off, hashed static files, S3 storage, SMTP and Redis;
a Celery worker process renders and delivers. Browsers connect from 127.0.0.1,
the HTTP clients of these tests from 127.0.0.2 and 127.0.0.3, nginx reaches
gunicorn from 127.0.0.5: whatever the portal records as a client's address
must be the client's, never the proxy's.
"""

from __future__ import annotations

import http.client
import io
import re
import ssl

import pypdf
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from backoffice.models import AuditEntry
from submissions.models import Submission
from tests.backoffice.backoffice_support import make_case, make_staff, two_offices
from tests.citizen.citizen_support import PDF
from tests.citizen.test_citizen_browser import HALTER, fill_step, hund_steps, next_button
from tests.production.conftest import csrf_token, staff_login_over_http
from tests.support.production import PROXY_ADDRESS
from tests.support.worker import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def weasyprint_errors(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "RefusedURL" in line or ("weasyprint" in line.lower() and "ERROR" in line)
    ]


def test_citizen_files_through_the_tls_proxy_and_the_office_pdf_in_s3_has_its_stylesheet(
    portal, browser, tmp_path
):
    call_command("import_gv100ad", "municipalities/data/GV100AD_30112025.txt", verbosity=0)
    call_command("seed_responsibility", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    upload = tmp_path / "nachweis.pdf"
    upload.write_bytes(PDF)
    context = browser.new_context(locale="de-DE", ignore_https_errors=True)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(portal.url + "/")
        # Hashed static files from the manifest, served through the proxy.
        stylesheet = re.search(
            r'href="(/static/kern/kern\.min\.[0-9a-f]{12}\.css)"', page.content()
        )
        assert stylesheet, "the start page does not link the hashed KERN stylesheet"
        css = portal.http().get(portal.url + stylesheet.group(1))
        assert css.status_code == 200 and "max-age=315360000" in css.headers["Cache-Control"]
        page.get_by_label(re.compile("Gemeinde oder Postleitzahl")).fill("Rhönbl")
        page.get_by_role("button", name=re.compile("Gemeinde suchen")).click()
        page.get_by_role("link", name="Gemeinde Rhönblick", exact=True).click()
        page.get_by_role("link", name=re.compile("Hund anmelden")).click()
        page.get_by_role("button", name=re.compile("Antrag starten")).click()
        fill_step(page, "halter", HALTER)
        next_button(page).click()
        for step, values in hund_steps(upload):
            page.wait_for_url(re.compile(f"/schritt/{step}/"))
            fill_step(page, step, values)
            next_button(page).click()
        page.get_by_label(re.compile("Ich versichere, dass meine Angaben")).last.check()
        page.get_by_role("button", name="Antrag verbindlich absenden").click()
        page.wait_for_url(re.compile("/bestaetigung/"))
        assert "Ihr Antrag ist eingegangen" in page.locator("main").inner_text()
        reference = page.get_by_test_id("reference").inner_text()
        secret = page.get_by_test_id("secret").inner_text()
        # The session cookie is marked Secure: the portal knows it is behind TLS.
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]

        # Status lookup in a fresh browser, by reference and access code.
        other = browser.new_context(locale="de-DE", ignore_https_errors=True)
        try:
            lookup = other.new_page()
            lookup.goto(portal.url + "/status/")
            lookup.fill("[name='reference']", reference)
            lookup.fill("[name='secret']", secret)
            lookup.locator("main form button[type=submit]").click()
            expect(lookup.get_by_test_id("status")).to_be_visible()
            assert reference in lookup.locator("main").inner_text()
            assert "eingegangen" in lookup.get_by_test_id("status").inner_text()
        finally:
            other.close()
    finally:
        context.close()

    # The worker renders into S3 and delivers; the receipt arrives at the mail server.
    def receipt_mailed() -> bool:
        return any(
            m.rcpt_to == [HALTER["email"]] and reference in m.message["Subject"]
            for m in list(portal.smtp.messages)
        )

    wait_until(
        receipt_mailed,
        timeout=180,
        message=f"no receipt mail for {reference}; worker log:\n{portal.worker_log()[-4000:]}",
    )
    submission = Submission.objects.get(reference=reference)

    def delivered() -> bool:
        states = list(submission.deliveries.values_list("status", flat=True))
        return bool(states) and set(states) == {"delivered"}

    wait_until(delivered, timeout=60, message=f"not delivered:\n{portal.worker_log()[-4000:]}")
    keys = portal.s3.keys(portal.bucket)
    attachment = submission.attachments.get()
    assert {submission.office_pdf.name, submission.receipt_pdf.name, attachment.file.name} <= keys
    assert portal.s3.read(portal.bucket, attachment.file.name) == PDF

    # Styled: each label on its own line above its value, never glued to it.
    text = pdf_text(portal.s3.read(portal.bucket, submission.office_pdf.name))
    assert "Familienname" in text and "Mustermann" in text
    glued = "FamiliennameMustermann" in text
    errors = weasyprint_errors(portal.worker_log())
    assert not glued and not errors, (
        f"office PDF rendered without its stylesheet (label and value glued: {glued}); "
        f"WeasyPrint errors in the worker log: {errors[:3]}"
    )


def test_clerk_logs_in_with_totp_through_the_proxy_downloads_from_s3_audited_with_own_address(
    portal, settings
):
    # The case's files are written into the stack's bucket, as the worker would.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": portal.s3.storage_setting(portal.bucket),
    }
    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-PROD-0001")
    attachment = case.attachments.get()
    assert {case.office_pdf.name, attachment.file.name} <= portal.s3.keys(portal.bucket)
    clerk = make_staff("clerk_prod", "clerk", [office], login=False)

    http = portal.http("127.0.0.2")
    response = staff_login_over_http(http, portal, clerk.user, clerk.password)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert all(cookie.secure for cookie in http.cookies), "cookies without Secure behind TLS"
    case_url = f"{portal.url}/admin/submissions/submission/{case.pk}/change/"
    page = http.get(case_url)
    assert page.status_code == 200 and "TH-2026-PROD-0001" in page.text
    office_pdf = http.get(f"{portal.url}/admin/submissions/submission/{case.pk}/pdf/office/")
    assert office_pdf.status_code == 200
    assert office_pdf.content == b"%PDF-1.7 office TH-2026-PROD-0001"
    upload = http.get(
        f"{portal.url}/admin/submissions/submission/{case.pk}/attachment/{attachment.pk}/"
    )
    assert upload.status_code == 200
    assert upload.content == b"%PDF-1.7 attachment TH-2026-PROD-0001"

    downloads = AuditEntry.objects.filter(
        submission=case,
        action__in=[AuditEntry.Action.DOWNLOAD_PDF, AuditEntry.Action.DOWNLOAD_ATTACHMENT],
    )
    assert downloads.count() == 2
    assert set(downloads.values_list("ip_address", flat=True)) == {"127.0.0.2"}, (
        f"the audit records the proxy ({PROXY_ADDRESS}), not the clerk"
    )
    # Plain HTTP on the proxy only redirects to HTTPS.
    http_port = re.search(r"listen 127\.0\.0\.1:(\d+);", portal.log("portal.conf")).group(1)
    plain = http.get(f"http://127.0.0.1:{http_port}/status/", allow_redirects=False)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")


def test_kompetenzzentrum_logs_in_through_the_proxy_and_opens_the_statewide_statistics(portal):
    editor = make_staff("kz_prod", "kompetenzzentrum", login=False)
    http = portal.http("127.0.0.3")
    response = staff_login_over_http(http, portal, editor.user, editor.password)
    assert response.status_code == 302
    statistics = http.get(portal.url + "/admin/backoffice/statistik/")
    assert statistics.status_code == 200
    assert "Landesweite Statistik" in statistics.text


def status_lookup(http, portal, *, headers=None):
    form = http.get(portal.url + "/status/", headers=headers)
    return http.post(
        portal.url + "/status/",
        data={
            "csrfmiddlewaretoken": csrf_token(form.text),
            "reference": "TH-2026-XXXX-XXXX",
            "secret": "falsch",
        },
        headers={"Referer": portal.url + "/status/", **(headers or {})},
    )


def test_status_lookup_limit_behind_the_proxy_is_per_citizen_and_cannot_be_dodged_by_a_header(
    portal,
):
    first, second = portal.http("127.0.0.2"), portal.http("127.0.0.3")
    for _ in range(10):
        assert status_lookup(first, portal).status_code == 200
    assert status_lookup(first, portal).status_code == 429
    # A forged X-Forwarded-For does not give the first citizen a fresh counter.
    forged = status_lookup(first, portal, headers={"X-Forwarded-For": "1.2.3.4"})
    assert forged.status_code == 429
    # The next citizen behind the same proxy is not limited.
    assert status_lookup(second, portal).status_code == 200


def test_five_wrong_passwords_from_one_address_do_not_lock_the_clerk_out_elsewhere(portal):
    office, _ = two_offices()
    clerk = make_staff("clerk_lock", "clerk", [office], login=False)
    attacker = portal.http("127.0.0.2")
    # The attacker even names the clerk's address in a forged header.
    forged = {"X-Forwarded-For": "127.0.0.3"}
    for _ in range(5):
        wrong = staff_login_over_http(
            attacker, portal, clerk.user, "falsches-passwort", headers=forged
        )
        assert wrong.status_code != 302
    # The attacker's address is locked out, even with the right password now.
    locked = staff_login_over_http(attacker, portal, clerk.user, clerk.password)
    assert locked.status_code != 302
    # The clerk, at another address behind the same proxy, logs in.
    response = staff_login_over_http(portal.http("127.0.0.3"), portal, clerk.user, clerk.password)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_the_proxy_refuses_a_body_over_portal_max_request_bytes_before_gunicorn_reads_it(
    portal, settings
):
    documented = re.search(r"client_max_body_size (\d+)m;", portal.log("portal.conf"))
    limit = int(documented.group(1)) * 1024 * 1024
    assert limit == settings.DATA_UPLOAD_MAX_MEMORY_SIZE, (
        "nginx and PORTAL_MAX_REQUEST_BYTES differ"
    )
    posts_before = portal.log("gunicorn.log").count('"POST /status/')
    context = ssl.create_default_context(cafile=str(portal.directory / "portal.crt"))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", portal.https_port, context=context, source_address=("127.0.0.2", 0)
    )
    try:
        # Only the announced length: nginx answers before a byte of the body is sent.
        connection.putrequest("POST", "/status/")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(limit + 1))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert portal.log("gunicorn.log").count('"POST /status/') == posts_before
