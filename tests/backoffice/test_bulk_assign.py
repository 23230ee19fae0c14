"""Office lead: bulk assign within their offices, and the overview's figures as list links."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from backoffice.models import AuditEntry
from submissions.models import Submission
from tests.backoffice.backoffice_support import make_staff, two_offices
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db

BASE = "/admin/submissions/submission/"


@pytest.fixture
def world():
    office_a, office_b = two_offices()
    return {
        "office_a": office_a,
        "cases_a": [SubmissionFactory(office=office_a) for _ in range(3)],
        "case_b": SubmissionFactory(office=office_b),
        "lead_a": make_staff("lead_a", "lead", [office_a]),
        "clerk_a": make_staff("clerk_a", "clerk", [office_a]),
        "clerk_b": make_staff("clerk_b", "clerk", [office_b]),
    }


def _post(staff, cases, **extra):
    return staff.client.post(
        BASE,
        {
            "action": "assign_selected",
            ACTION_CHECKBOX_NAME: [str(case.pk) for case in cases],
            "index": "0",
            **extra,
        },
    )


def test_lead_bulk_assigns_cases_of_their_office_to_one_of_its_clerks(world):
    lead, clerk = world["lead_a"], world["clerk_a"]
    page = _post(lead, world["cases_a"])
    assert page.status_code == 200
    select = re.search(r'<select name="assignee".*?</select>', page.content.decode(), re.S)
    offered = set(re.findall(r'<option value="([^"]+)"', select.group(0)))
    assert offered == {"none", str(clerk.user.pk), str(lead.user.pk)}
    response = _post(lead, world["cases_a"], assignee=str(clerk.user.pk))
    assert response.status_code == 302
    assert set(
        Submission.objects.filter(office=world["office_a"]).values_list("assigned_to", flat=True)
    ) == {clerk.user.pk}
    assert AuditEntry.objects.filter(action="assign", actor=lead.user).count() == 3
    # And back to nobody.
    _post(lead, world["cases_a"][:1], assignee="none")
    assert Submission.objects.get(pk=world["cases_a"][0].pk).assigned_to is None


@pytest.mark.parametrize("forged", ["clerk_b", "abc", "9" * 40, "-1", ""])
def test_bulk_assign_refuses_a_forged_assignee_and_changes_nothing(world, forged):
    value = str(world["clerk_b"].user.pk) if forged == "clerk_b" else forged
    response = _post(world["lead_a"], world["cases_a"], assignee=value)
    assert response.status_code == 302
    assert not Submission.objects.filter(assigned_to__isnull=False).exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Bitte wählen Sie eine Person aus der Liste." in messages


def test_bulk_assign_of_another_offices_case_is_404_and_clerks_cannot_bulk_assign(world):
    response = _post(
        world["lead_a"],
        [*world["cases_a"], world["case_b"]],
        assignee=str(world["clerk_a"].user.pk),
    )
    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="refused", reference=world["case_b"].reference)
    clerk = world["clerk_a"]
    _post(clerk, world["cases_a"], assignee=str(world["clerk_a"].user.pk))
    assert not Submission.objects.filter(assigned_to__isnull=False).exists()


def test_overview_figures_link_to_the_matching_case_lists(world):
    lead = world["lead_a"]
    cases = world["cases_a"]
    Submission.objects.filter(pk=cases[0].pk).update(assigned_to=world["clerk_a"].user)
    body = lead.client.get("/admin/backoffice/uebersicht/").content.decode()
    links = {
        html.unescape(href): re.sub(r"<[^>]+>", "", text)
        for href, text in re.findall(
            r'<a href="(/admin/submissions/submission/\?[^"]+)">(.*?)</a>', body
        )
    }
    open_total = next(
        h
        for h in links
        if "alter=" not in h
        and "bearbeitung" not in h
        and "status__in" in h
        and "zeitraum" not in h
    )
    listed = lead.client.get(open_total).context["cl"].result_list
    assert {case.pk for case in listed} == {case.pk for case in cases}
    unassigned = next(h for h in links if "bearbeitung=niemand" in h)
    listed = lead.client.get(unassigned).context["cl"].result_list
    assert {case.pk for case in listed} == {cases[1].pk, cases[2].pk}
    mine = next(h for h in links if f"bearbeitung={world['clerk_a'].user.pk}" in h)
    assert [case.pk for case in lead.client.get(mine).context["cl"].result_list] == [cases[0].pk]
    # Another office's id in the same link shows nothing of it.
    foreign = open_total.replace(
        f"behoerde={world['office_a'].pk}", f"behoerde={world['case_b'].office_id}"
    )
    assert list(lead.client.get(foreign).context["cl"].result_list) == []
