"""Offices add the Ortsteile of their own Gemeinden in the admin; nobody else's.
The Kompetenzzentrum and platform administrators maintain all of them."""

from __future__ import annotations

import pytest

from municipalities.models import GemeindeAlias
from municipalities.selectors import search_gemeinden_hits
from tests.backoffice.backoffice_support import make_staff
from tests.factories import GemeindeFactory, GemeindeverbandFactory, OfficeFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/municipalities/gemeindealias/"
ADD_URL = LIST_URL + "add/"


@pytest.fixture
def world():
    verband_a, verband_b = GemeindeverbandFactory(), GemeindeverbandFactory()
    gemeinde_a = GemeindeFactory(verband=verband_a, name="Adorf")
    gemeinde_b = GemeindeFactory(verband=verband_b, name="Bedorf")
    office_a = OfficeFactory(name="VG A", verband=verband_a)
    OfficeFactory(name="VG B", verband=verband_b)
    alias_b = GemeindeAlias.objects.create(name="Unterbedorf", gemeinde=gemeinde_b)
    return {
        "gemeinde_a": gemeinde_a,
        "gemeinde_b": gemeinde_b,
        "lead_a": make_staff("lead_a", "lead", [office_a]),
        "clerk_a": make_staff("clerk_a", "clerk", [office_a]),
        "alias_b": alias_b,
    }


def data(gemeinde, name="Oberadorf", **overrides) -> dict:
    return {
        "name": name,
        "kind": "ortsteil",
        "gemeinde": gemeinde.pk,
        "valid_from": "1990-10-03",
        "valid_to": "",
        **overrides,
    }


def test_lead_adds_an_ortsteil_of_their_gemeinde_and_the_search_finds_it(world):
    client = world["lead_a"].client
    assert search_gemeinden_hits(query="Oberadorf") == []
    page = client.get(ADD_URL).content.decode()
    assert "Adorf" in page and "Bedorf" not in page
    response = client.post(ADD_URL, data(world["gemeinde_a"]))
    assert response.status_code == 302
    hit = search_gemeinden_hits(query="Oberadorf")[0]
    assert (hit.gemeinde, hit.alias_kind) == (world["gemeinde_a"], "ortsteil")


def test_lead_cannot_see_or_touch_another_offices_names(world):
    client = world["lead_a"].client
    listing = client.get(LIST_URL).content.decode()
    assert "Unterbedorf" not in listing
    base = f"{LIST_URL}{world['alias_b'].pk}"
    assert client.get(f"{base}/change/").status_code == 404
    assert client.post(f"{base}/change/", data(world["gemeinde_a"])).status_code == 404
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 404
    # A forged POST naming another office's Gemeinde is a form error.
    response = client.post(ADD_URL, data(world["gemeinde_b"], name="<b>Hijack</b>"))
    assert response.status_code == 200
    assert not GemeindeAlias.objects.filter(name="<b>Hijack</b>").exists()
    assert GemeindeAlias.objects.get(pk=world["alias_b"].pk).gemeinde == world["gemeinde_b"]


def test_a_clerk_has_no_access(world):
    client = world["clerk_a"].client
    assert client.get(LIST_URL).status_code == 403
    assert client.post(ADD_URL, data(world["gemeinde_a"])).status_code == 403
    assert not GemeindeAlias.objects.filter(name="Oberadorf").exists()


def test_kompetenzzentrum_and_platform_maintain_all(world):
    for username, role in [("kompetenz", "kompetenzzentrum"), ("platform", "platform")]:
        client = make_staff(username, role).client
        assert "Unterbedorf" in client.get(LIST_URL).content.decode()
        name = f"Teil {username}"
        assert client.post(ADD_URL, data(world["gemeinde_b"], name=name)).status_code == 302
        assert search_gemeinden_hits(query=name)[0].gemeinde == world["gemeinde_b"]
