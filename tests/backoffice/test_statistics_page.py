"""The statewide statistics page: Kreise by default, one Kreis's Gemeinden on request,
sorted by name or count, the CSV of every Gemeinde; from the tallies and the funnel
roll-up, counts only."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.case_selectors import statewide_statistics
from backoffice.funnel_rollup import funnel_rollup_refresh
from backoffice.models import AuditEntry, FunnelRollup, FunnelRollupState
from submissions.models import Submission
from submissions.tallies import tallies_rebuild
from tests.backoffice.backoffice_support import make_staff, two_offices
from tests.backoffice.test_funnel_rollup import build_history
from tests.backoffice.test_funnel_selectors import NOW as FUNNEL_NOW
from tests.factories import FormVersionFactory, GemeindeFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

URL = "/admin/backoffice/statistik/"


def _rows(body: str) -> list[tuple[str, list[str]]]:
    """(row header, cells after it) of the area table's body, tags stripped."""
    table = re.search(r'<table class="area-figures">.*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    rows = []
    for header, rest in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", rest, re.S)
        rows.append((re.sub(r"<[^>]+>", "", header).strip(), [c.strip() for c in cells]))
    return rows


@pytest.fixture
def state():
    """Two Kreise: Kreis A with a busy town, a village and a Gemeinde without cases;
    Kreis B with one town. Filed this month (the page's default month)."""
    office, _ = two_offices()
    dogs = FormVersionFactory(service__name_de="Hundeanmeldung", service__sort_order=1)
    housing = FormVersionFactory(service__name_de="Wohngeld", service__sort_order=2)
    town = GemeindeFactory(name="Aberstadt")
    kreis_a = town.kreis
    village = GemeindeFactory(name="Beerdorf", verband=town.verband)
    empty = GemeindeFactory(name="Cedorf", verband=town.verband)
    other = GemeindeFactory(name="Dettstadt")
    cases = []
    for gemeinde, version, n in (
        (town, dogs, 7),
        (town, housing, 5),
        (village, dogs, 2),
        (other, dogs, 9),
        (other, housing, 6),
    ):
        cases += [
            SubmissionFactory(office=office, gemeinde=gemeinde, form_version=version)
            for _ in range(n)
        ]
    Submission.objects.filter(pk__in=[c.pk for c in cases]).update(submitted_at=timezone.now())
    tallies_rebuild()  # rows written around the services
    editor = make_staff("kz_page", "kompetenzzentrum")
    return {
        "editor": editor,
        "kreis_a": kreis_a,
        "kreis_b": other.kreis,
        "empty": empty,
        "services": ["Hundeanmeldung", "Wohngeld"],
    }


def _columns(body: str) -> list[str]:
    head = re.search(r'<table class="area-figures">.*?</thead>', body, re.S).group(0)
    return re.findall(r'<th scope="col">(.*?)</th>', head)


def test_default_page_shows_one_row_per_kreis_with_a_link_to_its_gemeinden(state):
    body = state["editor"].client.get(URL).content.decode()
    columns = _columns(body)
    dogs, housing = columns.index("Hundeanmeldung") - 2, columns.index("Wohngeld") - 2
    rows = dict(_rows(body))
    a, b = rows[state["kreis_a"].name], rows[state["kreis_b"].name]
    assert (a[dogs], a[housing], a[-1]) == ("9", "5", "14")
    assert (b[dogs], b[housing], b[-1]) == ("9", "6", "15")
    assert f"kreis={state['kreis_a'].key}" in body
    # The Gemeinden are not listed on the default page.
    assert "Aberstadt" not in body and "Beerdorf" not in body
    assert "<caption>" in body and 'scope="row"' in body


def test_drill_down_lists_every_gemeinde_of_the_kreis_with_small_counts_suppressed(state):
    kreis = state["kreis_a"]
    body = state["editor"].client.get(f"{URL}?kreis={kreis.key}").content.decode()
    columns = _columns(body)
    dogs = columns.index("Hundeanmeldung") - 2
    rows = dict(_rows(body))
    assert list(rows) == ["Aberstadt", "Beerdorf", "Cedorf"]
    assert rows["Aberstadt"][dogs] == "7" and rows["Aberstadt"][-1] == "12"
    # Two cases: "< 5", and the row's total withheld (12 + 2 - 12 would give it back).
    assert rows["Beerdorf"][dogs] == "&lt; 5" and rows["Beerdorf"][-1] == "–"
    assert set(rows["Cedorf"]) == {"0"}  # a Gemeinde without cases is listed too
    assert "Dettstadt" not in body  # another Kreis's Gemeinde
    assert f"Gemeinden in {kreis.name}" in body
    assert "Zurück zu allen Kreisen" in body


def test_sorting_by_count_puts_the_busiest_first(state):
    body = state["editor"].client.get(f"{URL}?kreis={state['kreis_a'].key}&sortierung=anzahl")
    assert [name for name, _cells in _rows(body.content.decode())] == [
        "Aberstadt",
        "Beerdorf",
        "Cedorf",
    ]
    body = state["editor"].client.get(f"{URL}?sortierung=anzahl").content.decode()
    names = [name for name, _cells in _rows(body)]
    assert names.index(state["kreis_b"].name) < names.index(state["kreis_a"].name)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kreis=99999", "Diesen Kreis gibt es nicht"),
        ("monat=2026-13", "Bitte geben Sie einen Monat ein"),
        ("monat=1800-01", "ab dem Jahr 2000"),
        ("sortierung=x", "Bitte wählen Sie eine Sortierung"),
    ],
)
def test_a_bad_choice_gets_a_message_and_the_default_table(state, query, message):
    response = state["editor"].client.get(f"{URL}?{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert state["kreis_a"].name in dict(_rows(body))


def test_other_months_read_their_own_tallies(state):
    body = state["editor"].client.get(f"{URL}?monat=2025-01").content.decode()
    assert "01/2025" in body
    assert {cell for _name, cells in _rows(body) for cell in cells[1:]} <= {"0"}


def test_csv_lists_every_gemeinde_of_the_month_with_small_counts_suppressed_and_is_audited(
    state,
):
    month = timezone.localdate().strftime("%Y-%m")
    response = state["editor"].client.get(f"{URL}gemeinden.csv?monat={month}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"antraege-je-gemeinde-{month}.csv" in response["Content-Disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:4] == ["Monat", "AGS", "Gemeinde", "Kreis"] and header[-1] == "gesamt"
    rows = {line.split(";")[2]: line.split(";") for line in lines[1:]}
    assert {"Aberstadt", "Beerdorf", "Cedorf", "Dettstadt"} <= set(rows)
    dogs = header.index("Hundeanmeldung")
    assert rows["Beerdorf"][dogs] == "< 5" and rows["Beerdorf"][-1] == ""
    assert rows["Aberstadt"][dogs] == "7" and rows["Aberstadt"][-1] == "12"
    assert rows["Dettstadt"][3] == state["kreis_b"].name
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.EXPORT, detail__contains="per Gemeinde"
    ).exists()


def test_csv_and_page_are_404_for_office_staff(state):
    office, _ = two_offices()
    lead = make_staff("lead_csv", "lead", [office])
    assert lead.client.get(f"{URL}gemeinden.csv").status_code == 404
    assert lead.client.get(URL).status_code == 404


def test_query_counts_of_the_page_are_pinned(state):
    client = state["editor"].client
    client.get(URL)  # warm-up (content types, permissions)
    # Session, user, OTP, permissions, the statistics' reads (service months, services,
    # Kreise, the month's tallies, the areas, roll-up state, live drafts, decisions), the
    # audit entry and the session; with a roll-up horizon one more (its rows).
    for url, expected in (
        (URL, 26),
        (f"{URL}?kreis={state['kreis_a'].key}", 26),
        (f"{URL}gemeinden.csv", 13),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        tallies = [q for q in queries.captured_queries if "submissiontally" in q["sql"]]
        assert len(tallies) == 1, url  # one grouped read of the month's tally rows
        assert not [q for q in queries.captured_queries if '"submissions_submission"' in q["sql"]]
        assert len(queries) == expected, (url, [q["sql"][:120] for q in queries.captured_queries])


def test_decided_cases_in_an_old_month_do_not_change_the_month_shown(state):
    # The tallies count by month of submission: a case filed last year is not this month's.
    old = SubmissionFactory(office=two_offices()[0], gemeinde=state["empty"])
    Submission.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=400)
    )
    tallies_rebuild()
    body = state["editor"].client.get(f"{URL}?kreis={state['kreis_a'].key}").content.decode()
    assert set(dict(_rows(body))["Cedorf"]) == {"0"}


def test_completion_from_the_funnel_roll_up_equals_the_count_over_all_drafts():
    build_history()  # 600 drafts over five months: submitted, expired, still open
    horizon = funnel_rollup_refresh(now=FUNNEL_NOW)
    months = FunnelRollup.objects.filter(kreis=0, period=FunnelRollup.Period.MONTH)
    assert months.exists() and horizon.day != 1  # whole months and single days are read
    rolled_up = statewide_statistics(now=FUNNEL_NOW).completion
    FunnelRollupState.objects.all().delete()  # no horizon: every draft is counted
    counted = statewide_statistics(now=FUNNEL_NOW).completion
    assert rolled_up == counted
    assert sum(started for _month, started, _submitted, _rate in counted) == 600
    assert any(submitted for _month, _started, submitted, _rate in counted)
