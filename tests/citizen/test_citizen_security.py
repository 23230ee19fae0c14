"""Regression tests of the citizen-side security findings (session secrets, save-later mails,
upload quota, NUL bytes). Hostile input throughout; every refusal keeps what was typed."""

from __future__ import annotations

import base64
import datetime
import json
import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from citizen.models import AccessibilityFeedback
from submissions.models import Attachment, Draft
from tests.citizen.citizen_support import (
    PDF,
    SMALL_DEFINITION,
    municipal_rule,
    municipality,
    pdf_upload,
    publish,
)
from tests.citizen.test_citizen_views import (
    PERSON,
    fill_all,
    fill_until_upload,
    start,
    step_url,
)
from tests.support.worker import wait_until
from thueringen_portal.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db

NUL_NAME_MESSAGE = "Die Anfrage enthielt unzulässige Steuerzeichen"
NUL_VALUE_MESSAGE = "Nullzeichen sind nicht erlaubt."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def setup():
    version = publish()
    municipal_rule(version.service)
    gemeinde, office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    return version, gemeinde, office


# --- access codes and sessions -------------------------------------------------------
def session_rows_text() -> list[str]:
    """Every session row, raw and decoded, as text to search."""
    rows = []
    for row in Session.objects.all():
        rows.append(row.session_data)
        rows.append(json.dumps(row.get_decoded(), default=str))
    return rows


def test_access_code_was_readable_from_django_session_and_now_is_in_no_session_row(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_all(client, draft)
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    confirmation_url = response["Location"]
    cookie = response.cookies["portal_code"]
    assert cookie["path"] == confirmation_url and cookie["httponly"] and cookie["max-age"]
    page = client.get(confirmation_url).content.decode()
    reference = re.search(r'data-testid="reference">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="secret">([^<]+)<', page).group(1)
    assert len(secret) >= 16
    # Shown once: a reload still confirms, but without the code.
    reload = client.get(confirmation_url)
    assert reload.status_code == 200
    assert secret not in reload.content.decode()
    assert 'data-testid="secret-shown-once"' in reload.content.decode()
    # Another browser opens the status page with reference and code.
    other = Client()
    status = other.post("/status/", {"reference": reference, "secret": secret})
    assert reference in status.content.decode() and "eingegangen" in status.content.decode()
    assert other.get(confirmation_url).status_code == 200
    rows = session_rows_text()
    assert len(rows) >= 4
    # The grants are there (so decoding worked), the secret is nowhere.
    assert any(reference in text for text in rows)
    assert not [text for text in rows if secret in text]
    # A forged or moved code cookie shows nothing.
    forger = Client()
    forger.cookies["portal_code"] = f"{secret}:forged:signature"
    forger.post("/status/", {"reference": reference, "secret": secret})
    assert secret not in forger.get(confirmation_url).content.decode()


def test_double_click_lost_the_response_with_the_code_and_a_new_code_is_shown_once(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_all(client, draft)
    check = f"/antrag/{draft.id}/pruefen/"
    first = client.post(check, {"declaration": "on"})
    # The browser cancelled the first response (second click): its cookie never arrived.
    unseen = first.cookies["portal_code"].value
    del client.cookies["portal_code"]
    second = client.post(check, {"declaration": "on"})
    assert second.status_code == 302 and second["Location"] == first["Location"]
    head = client.head(first["Location"])
    assert head.status_code == 200
    page = client.get(first["Location"]).content.decode()
    reference = re.search(r'data-testid="reference">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="secret">([^<]+)<', page).group(1)
    assert secret not in unseen
    assert secret not in client.get(first["Location"]).content.decode()
    other = Client()
    assert (
        "eingegangen"
        in other.post("/status/", {"reference": reference, "secret": secret}).content.decode()
    )
    # The code that never reached the page opens nothing any more.
    old_code = unseen.rsplit(":", 1)[0]
    refused = Client().post("/status/", {"reference": reference, "secret": old_code})
    assert "keinen Antrag" in refused.content.decode()
    assert not [text for text in session_rows_text() if secret in text or old_code in text]


@pytest.mark.worker
def test_expired_sessions_are_cleared_by_the_beat_job_in_a_worker(celery_worker):
    schedule = settings.CELERY_BEAT_SCHEDULE["sessions-clear-expired"]
    assert schedule["task"] == clear_expired_sessions.name
    now = timezone.now()
    Session.objects.create(
        session_key="e" * 32, session_data="x", expire_date=now - datetime.timedelta(minutes=1)
    )
    Session.objects.create(
        session_key="f" * 32, session_data="x", expire_date=now + datetime.timedelta(hours=1)
    )
    clear_expired_sessions.delay()
    wait_until(
        lambda: not Session.objects.filter(session_key="e" * 32).exists(),
        message=f"expired session not cleared:\n{celery_worker.log()}",
    )
    assert Session.objects.filter(session_key="f" * 32).exists()


# --- save and continue later -------------------------------------------------------
def queued_messages(broker, queue: str) -> list[str]:
    """The task messages waiting in a queue, decoded to text (args included)."""
    texts = []
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        texts.append(raw.decode() + base64.b64decode(message["body"]).decode())
    return texts


def save_later(client, draft, email: str):
    return client.post(f"/antrag/{draft.id}/speichern/", {"email": email})


@pytest.mark.worker
def test_save_later_sent_unlimited_mails_in_the_request_and_now_queues_them_rate_limited(
    transactional_db, clean_broker, smtp_server, start_worker, setup
):
    _, gemeinde, _ = setup
    client = Client()
    draft = start(client, gemeinde)
    client.post(step_url(draft, "halter"), PERSON)
    started = time.monotonic()
    pages = [save_later(client, draft, f"opfer{n}@example.org") for n in range(30)]
    took = time.monotonic() - started
    statuses = [page.status_code for page in pages]
    # Three mails per draft; later requests are refused with a message, the address kept.
    assert statuses == [200] * 3 + [429] * 27, statuses
    refused = pages[-1].content.decode()
    assert "<title>Fehler:" in refused and "in einer Stunde erneut" in refused
    assert 'value="opfer29@example.org"' in refused
    assert 'data-testid="resume-link"' not in refused
    assert not smtp_server.messages, "nothing may be sent inside the request"
    assert took < 15
    links = [
        re.search(r'data-testid="resume-link">([^<]+)<', p.content.decode()).group(1)
        for p in pages[:3]
    ]
    # The broker holds the draft id and a nonce, never a link's token or the address.
    waiting = queued_messages(clean_broker, "email")
    assert len(waiting) == 3
    for text in waiting:
        assert str(draft.id) in text and "opfer" not in text
        assert not any(link.rstrip("/").rsplit("/", 1)[1] in text for link in links)
    # A worker on the e-mail queue sends the newest link only (the older ones open nothing).
    worker = start_worker(
        queues="email", env={"EMAIL_HOST": smtp_server.host, "EMAIL_PORT": str(smtp_server.port)}
    )
    wait_until(lambda: len(smtp_server.messages) >= 1, timeout=60, message=worker.log())
    wait_until(lambda: worker.log().count("succeeded") >= 3, message=worker.log())
    assert len(smtp_server.messages) == 1, worker.log()
    sent = smtp_server.messages[0]
    assert sent.rcpt_to == ["opfer2@example.org"]
    assert links[2] in sent.message.get_body(("plain",)).get_content()
    resumed = Client().get(links[2].replace("http://testserver", ""), follow=True)
    assert resumed.status_code == 200
    assert resumed.redirect_chain[-1][0] == step_url(draft, "hund")


def test_save_later_mails_are_limited_per_client_across_drafts(client, setup):
    _, gemeinde, _ = setup
    statuses = []
    for _round in range(4):
        draft = start(client, gemeinde)
        statuses += [save_later(client, draft, "ziel@example.org").status_code for _ in range(3)]
    assert statuses == [200] * 10 + [429] * 2, statuses
    # Without an address no mail is asked for: the link is still shown.
    draft = start(client, gemeinde)
    page = save_later(client, draft, "")
    assert page.status_code == 200 and 'data-testid="resume-link"' in page.content.decode()


@pytest.mark.parametrize("language", ["de", "en"])
def test_save_later_refusal_speaks_the_citizens_language(client, setup, language):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    client.cookies["django_language"] = language
    for _ in range(3):
        save_later(client, draft, "erika@example.org")
    page = save_later(client, draft, "erika@example.org").content.decode()
    expected = {"de": "in einer Stunde erneut", "en": "Please try again in an hour"}[language]
    assert expected in page


# --- uploads ----------------------------------------------------------------------------
def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def test_single_file_field_piled_up_a_file_per_invalid_post_and_now_keeps_only_the_newest(
    client, setup, _private_media
):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    for number in range(25):
        response = client.post(
            step_url(draft, "nachweise"),
            {
                "nachweise-versicherung": pdf_upload(f"nachweis-{number}.pdf"),
                "nachweise-rueckfragen": "<kaputt>",
            },
        )
        assert response.status_code == 200
    body = response.content.decode()
    assert "nachweis-24.pdf" in body and 'value="&lt;kaputt&gt;"' in body
    # The replaced files are gone at once: one row, one stored object.
    assert list(Attachment.objects.filter(draft=draft).values_list("original_name", flat=True)) == [
        "nachweis-24.pdf"
    ]
    assert len(stored_files(_private_media)) == 1
    # Several files posted at once into the single-file field store nothing extra.
    client.post(
        step_url(draft, "nachweise"),
        {
            "nachweise-versicherung": [pdf_upload(f"viele-{n}.pdf") for n in range(10)],
            "nachweise-rueckfragen": "<kaputt>",
        },
    )
    assert Attachment.objects.filter(draft=draft).count() == 1
    assert len(stored_files(_private_media)) == 1


@pytest.fixture
def multi_file_setup():
    definition = json.loads(json.dumps(SMALL_DEFINITION))
    upload_field = definition["steps"][3]["fields"][0]
    upload_field.update({"multiple": True, "max_files": 10})
    version = publish(definition)
    municipal_rule(version.service)
    gemeinde, office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    return version, gemeinde, office


def big_pdf(name: str, size: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF + b"0" * (size - len(PDF)), "application/pdf")


@pytest.mark.parametrize("language", ["de", "en"])
def test_per_draft_byte_quota_refuses_the_file_that_would_exceed_it_and_keeps_the_others(
    client, multi_file_setup, settings, language
):
    settings.PORTAL_MAX_DRAFT_BYTES = 250_000
    _, gemeinde, _ = multi_file_setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    client.cookies["django_language"] = language
    for name in ("eins.pdf", "zwei.pdf"):
        client.post(
            step_url(draft, "nachweise"),
            {"nachweise-versicherung": big_pdf(name, 100_000), "nachweise-rueckfragen": "x"},
        )
    response = client.post(
        step_url(draft, "nachweise"),
        {"nachweise-versicherung": big_pdf("drei.pdf", 100_000), "nachweise-rueckfragen": "x"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    expected = {
        "de": "Alle Dateien zusammen dürfen höchstens",
        "en": "all files together may be at most",
    }
    assert expected[language] in body and "drei.pdf" in body
    assert "eins.pdf" in body and "zwei.pdf" in body and 'value="x"' in body
    names = set(Attachment.objects.filter(draft=draft).values_list("original_name", flat=True))
    assert names == {"eins.pdf", "zwei.pdf"}
    # Removing a file makes room again.
    first = Attachment.objects.get(draft=draft, original_name="eins.pdf")
    response = client.post(
        step_url(draft, "nachweise"),
        {
            "nachweise-versicherung": big_pdf("drei.pdf", 100_000),
            "nachweise-versicherung-delete": str(first.id),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    names = set(Attachment.objects.filter(draft=draft).values_list("original_name", flat=True))
    assert names == {"zwei.pdf", "drei.pdf"}


def test_uploads_are_rate_limited_per_client_with_a_message_and_the_input_kept(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    fill_until_upload(client, draft)
    for number in range(60):
        client.post(
            step_url(draft, "nachweise"),
            {"nachweise-versicherung": pdf_upload(f"n{number}.pdf"), "nachweise-rueckfragen": "y"},
        )
    response = client.post(
        step_url(draft, "nachweise"),
        {"nachweise-versicherung": pdf_upload("zu-viel.pdf"), "nachweise-rueckfragen": "y"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "sehr viele Dateien" in body
    assert 'value="y"' in body and "n59.pdf" in body
    assert Attachment.objects.filter(draft=draft).get().original_name == "n59.pdf"


# --- NUL bytes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"halter-vorname": "Er\x00ika"}, "Steuerzeichen"),
        ({"halter-vor\x00name": "Erika"}, NUL_NAME_MESSAGE),
        ({"\x00": "\x00", "halter-vorname\x00": "x"}, NUL_NAME_MESSAGE),
    ],
    ids=["value", "name", "bare-name"],
)
def test_nul_byte_in_wizard_field_or_name_is_refused_with_message_and_keeps_input(
    client, setup, extra, message
):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    response = client.post(step_url(draft, "halter"), {**PERSON, **extra})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Fehler:" in body and message in body
    assert 'value="Mustermann"' in body and 'value="e@x.de"' in body
    # What was typed is kept in the draft (without the NUL), and the step is not done.
    draft.refresh_from_db()
    assert "halter" not in draft.data.get("done", [])
    again = client.get(step_url(draft, "halter")).content.decode()
    assert 'value="Mustermann"' in again and 'value="e@x.de"' in again


def test_nul_byte_in_wizard_field_is_refused_in_english(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    client.cookies["django_language"] = "en"
    response = client.post(step_url(draft, "halter"), {**PERSON, "halter-vor\x00name": "E"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "The request contained control characters" in body
    assert 'value="Mustermann"' in body


def test_nul_byte_while_saving_an_unfinished_step_keeps_the_rest(client, setup):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    data = {**PERSON, "halter-vorname": "Eri\x00ka", "halter-x\x00": "1", "wizard_save": "1"}
    response = client.post(step_url(draft, "halter"), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    stored = str(draft.data)
    assert "Mustermann" in stored and "\x00" not in stored


@pytest.mark.parametrize("where", ["value", "name"])
def test_nul_byte_in_status_lookup_is_refused_with_message_and_keeps_input(client, where):
    data = {"reference": "TH-2026-7K3M-Q9XD", "secret": "geheim"}
    if where == "value":
        data["secret"] = "gehe\x00im"
    else:
        data["x\x00y"] = "1"
    response = client.post("/status/", data)
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert (NUL_VALUE_MESSAGE if where == "value" else NUL_NAME_MESSAGE) in body
    assert 'value="TH-2026-7K3M-Q9XD"' in body


@pytest.mark.parametrize("where", ["value", "name"])
def test_nul_byte_in_feedback_is_refused_with_message_and_keeps_input(client, where):
    data = {"message": "Kontrast zu gering", "page_url": "/status/"}
    if where == "value":
        data["page_url"] = "/sta\x00tus/"
    else:
        data["\x00"] = ""
    response = client.post("/barrierefreiheit/", data)
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert (NUL_VALUE_MESSAGE if where == "value" else NUL_NAME_MESSAGE) in body
    assert "Kontrast zu gering" in body
    assert not AccessibilityFeedback.objects.exists()


@pytest.mark.parametrize("where", ["value", "name"])
def test_nul_byte_in_save_for_later_is_refused_with_message_and_keeps_input(client, setup, where):
    _, gemeinde, _ = setup
    draft = start(client, gemeinde)
    data = {"email": "erika@example.org"}
    if where == "value":
        data["email"] = "erika\x00@example.org"
    else:
        data["email\x00"] = "x"
    response = client.post(f"/antrag/{draft.id}/speichern/", data)
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert 'data-testid="resume-link"' not in body
    if where == "name":
        assert NUL_NAME_MESSAGE in body and 'value="erika@example.org"' in body
    assert Draft.objects.get(id=draft.id).email == ""


@pytest.mark.parametrize("query", [{"q": "Erf\x00urt"}, {"q\x00": "Erfurt"}, {"q": "\x00" * 50}])
def test_nul_byte_in_municipality_search_is_no_server_error(client, query):
    response = client.get("/gemeinden/", query)
    assert response.status_code in (200, 400)
    assert "Serverfehler" not in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"username": "clerk\x00", "password": "falsch-falsch-falsch"},
        {"username": "clerk", "password": "falsch\x00"},
        {"username": "clerk", "password": "falsch-falsch", "otp_token": "12\x0034"},
        {"username": "clerk", "password": "falsch-falsch", "x\x00": "1"},
    ],
    ids=["username", "password", "otp", "name"],
)
def test_nul_byte_in_admin_login_is_refused_with_message_and_keeps_username(data):
    get_user_model().objects.create_user("clerk", password="richtig-richtig-1", is_staff=True)
    client = Client()
    response = client.post("/admin/login/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in body and "clerk" in body
    assert "errornote" in body or "kern-alert" in body or "errorlist" in body
