"""The same form version renders the same form HTML in every municipality."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from forms_catalog.models import Service
from municipalities.models import Gemeinde
from submissions.models import Draft

pytestmark = pytest.mark.django_db


def main_html(body: str, draft: Draft, gemeinde: Gemeinde) -> str:
    """<main> without what may differ: draft id, CSRF token, the municipality's name."""
    main = re.search(r"<main.*?</main>", body, flags=re.S).group(0)
    main = main.replace(str(draft.id), "DRAFT")
    main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", main)
    return main.replace(gemeinde.name, "GEMEINDE")


def walk_two_steps(client: Client, gemeinde: Gemeinde) -> tuple[str, str]:
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    draft = Draft.objects.get(id=response["Location"].split("/")[2])
    first = client.get(f"/antrag/{draft.id}/schritt/halter/").content.decode()
    invalid = client.post(
        f"/antrag/{draft.id}/schritt/halter/",
        {"halter-surname": "Muster", "halter-postcode": "12"},
    ).content.decode()
    return main_html(first, draft, gemeinde), main_html(invalid, draft, gemeinde)


def test_hundeanmeldung_renders_identically_in_two_municipalities():
    call_command("import_gv100ad", "municipalities/data/GV100AD_30112025.txt", verbosity=0)
    call_command("seed_responsibility", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    assert Service.objects.get(slug="hundeanmeldung").versions.count() == 1
    rhoenblick = Gemeinde.objects.get(name="Rhönblick")
    erfurt = Gemeinde.objects.get(name="Erfurt, Stadt")

    first_a, invalid_a = walk_two_steps(Client(), rhoenblick)
    first_b, invalid_b = walk_two_steps(Client(), erfurt)

    assert 'name="halter-surname"' in first_a
    assert first_a == first_b
    assert "Fehler:" in invalid_a or "error-summary" in invalid_a
    assert invalid_a == invalid_b
