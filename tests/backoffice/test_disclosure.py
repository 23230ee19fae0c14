"""Small-count suppression: no back-office figure from 1 to 4 is shown as it is, for any role."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.disclosure import (
    count_display,
    count_export,
    share_visible,
    total_display,
)
from submissions.models import Submission
from submissions.tallies import tallies_rebuild
from tests.backoffice.backoffice_support import make_staff, staff_login, two_offices
from tests.factories import FormVersionFactory, GemeindeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def _cells(body: str) -> list[str]:
    """The text of every table data cell of a page, tags stripped."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
    ]


def _tables(body: str) -> list[str]:
    """The tables of the page's content (not of the admin's navigation)."""
    main = body.split('id="content-main"', 1)[1]
    return re.findall(r"<table>(.*?)</table>", main, re.S)


def _submitted(office, *, n, days_old=2, **kwargs):
    cases = [SubmissionFactory(office=office, **kwargs) for _ in range(n)]
    Submission.objects.filter(pk__in=[c.pk for c in cases]).update(
        submitted_at=timezone.now() - datetime.timedelta(days=days_old)
    )
    # Rows written around the services: the statistics' tallies are recounted.
    tallies_rebuild()
    return cases


def test_counts_from_one_to_four_read_fewer_than_five_and_totals_over_them_are_withheld():
    assert [count_display(value=n) for n in (0, 1, 4, 5)] == ["0", "< 5", "< 5", "5"]
    assert count_display(value=None) == "0"
    assert [count_export(value=n) for n in (0, 3, 1234)] == ["0", "< 5", "1234"]
    # 7 + "< 5" = 9 would give the suppressed 2 back.
    assert total_display(cells=[7, 2]) == "–"
    assert total_display(cells=[7, 0, 5]) == "12"
    assert total_display(cells=[0, 0]) == "0"
    # A share of a shown whole would give a small part back; a small whole hides it too.
    assert not share_visible(part=1, whole=20)
    assert not share_visible(part=3, whole=4)
    assert share_visible(part=0, whole=20) and share_visible(part=5, whole=20)


def test_office_lead_overview_shows_small_counts_as_fewer_than_five():
    office_a, office_b = two_offices()
    _submitted(office_a, n=2)  # 0–7 days: 2
    _submitted(office_a, n=6, days_old=40)  # 31–90 days: 6
    _submitted(office_b, n=1)
    lead = make_staff("lead_small", "lead", [office_a])
    body = lead.client.get("/admin/backoffice/uebersicht/").content.decode()
    [by_age, throughput, workload] = _tables(body)
    # Open by age: "< 5", 0, 6, 0 and the total withheld (8 - 6 would give the 2 back).
    assert _cells(by_age) == ["&lt; 5", "0", "6", "0", "–"]
    # Received in 30 days: 2; nothing decided.
    assert _cells(throughput) == ["&lt; 5", "0", "0", "0", "0"]
    # All open cases unassigned; the lead (the only staff member) has none.
    assert _cells(workload) == ["8", "0"]
    assert "lead_small" in workload


def test_office_overview_of_a_superuser_suppresses_small_counts_of_every_office():
    office_a, office_b = two_offices()
    _submitted(office_a, n=3)
    _submitted(office_b, n=5)
    root = get_user_model().objects.create_superuser(
        "root_small", "root@example.org", "pw-root-1234567"
    )
    TOTPDevice.objects.create(user=root, name="app", confirmed=True)
    client = Client()
    staff_login(client, "root_small", "pw-root-1234567", root)
    body = client.get("/admin/backoffice/uebersicht/").content.decode()
    tables = _tables(body)
    by_age = [_cells(table) for table in tables[::3]]
    assert sorted(by_age) == [["&lt; 5", "0", "0", "0", "–"], ["5", "0", "0", "0", "5"]]


def test_statewide_statistics_suppress_small_counts_for_the_kompetenzzentrum():
    office, _ = two_offices()
    version = FormVersionFactory(service__name_de="Wohngeld")
    other = FormVersionFactory(service__name_de="Hundeanmeldung")
    village = GemeindeFactory(name="Kleindorf")
    town = GemeindeFactory(name="Großstadt")
    _submitted(office, n=1, form_version=version, gemeinde=village)
    _submitted(office, n=6, form_version=other, gemeinde=town)
    editor = make_staff("kz_small", "kompetenzzentrum")
    body = editor.client.get("/admin/backoffice/statistik/").content.decode()
    cells = _cells(body)
    # The village's one Wohngeld case, its month and the median over one case.
    assert "1" not in cells and "7" not in cells
    assert "&lt; 5" in cells and "6" in cells
    # The Kreis of the village (the page's default rows), and the village in its Kreis.
    services = re.search(r"<table class=\"area-figures\">.*?</thead>", body, re.S).group(0)
    # Cells after the row's name: one per service (headers 3, 4, ...), then the total.
    wohngeld = re.findall(r"<th scope=\"col\">(.*?)</th>", services).index("Wohngeld") - 2
    row = re.search(rf"{village.kreis.name}</a></th>(.*?)</tr>", body, re.S).group(1)
    assert _cells(row)[wohngeld] == "&lt; 5" and _cells(row)[-1] == "–"
    body = editor.client.get(f"/admin/backoffice/statistik/?kreis={village.kreis.key}")
    row = re.search(r"Kleindorf</th>(.*?)</tr>", body.content.decode(), re.S).group(1)
    assert _cells(row)[wohngeld] == "&lt; 5" and _cells(row)[-1] == "–"
    assert "1" not in _cells(body.content.decode())


def test_statistics_csv_of_a_clerk_suppresses_small_counts_and_their_medians():
    office, _ = two_offices()
    version = FormVersionFactory(service__name_de="Wohngeld")
    cases = _submitted(office, n=2, status="approved", form_version=version)
    cases += _submitted(office, n=5, form_version=version)
    Submission.objects.filter(status="approved").update(decided_at=timezone.now())
    clerk = make_staff("clerk_small", "clerk", [office])
    response = clerk.client.post(
        "/admin/submissions/submission/",
        {
            "action": "export_statistics_csv",
            ACTION_CHECKBOX_NAME: [str(c.pk) for c in cases],
            "index": "0",
        },
    )
    assert response.status_code == 200
    rows = [line.split(";") for line in response.content.decode("utf-8-sig").splitlines()[1:]]
    # Two approved (count and median over two people withheld), five received.
    assert sorted(rows) == [
        ["Wohngeld", "bewilligt", "< 5", ""],
        ["Wohngeld", "eingegangen", "5", ""],
    ]
