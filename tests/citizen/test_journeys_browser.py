"""A citizen journey per catalogue service (issue 13, acceptance): what was checked is stored.

Each journey starts at "/", finds its municipality by the search (a city, an
Ortsteil, a small member of a Verwaltungsgemeinschaft), fills every step with
realistic data through the browser (real small PDF and PNG files where the form
asks for documents), reads every question/answer pair from the check page,
submits, and lets a real Celery worker run the pipeline. Then the stored
submission must show exactly the check page's pairs, hold no answer the check
page did not show (a condition's hidden branch is taken on purpose), carry the
uploaded files by name, and be delivered.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from forms_catalog.selectors import summarize, visible_answers
from submissions.models import Delivery, Submission
from tests.citizen.journey_driver import (
    Add,
    Shown,
    Typed,
    check_page_pairs,
    make_file,
    normalise,
    open_service_from_start,
    submit_from_check_page,
    walk,
)
from tests.support.worker import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CATALOGUE = Path(__file__).resolve().parents[2] / "forms_catalog" / "catalogue"
TODAY = datetime.date.today()


def days(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def years_ago(years: int, month: int, day: int) -> datetime.date:
    return datetime.date(TODAY.year - years, month, day)


@dataclass(frozen=True)
class Journey:
    service: str  # catalogue slug
    query: str  # what the citizen types into the search
    gemeinde: re.Pattern  # the link of the municipality in the results
    gemeinde_name: str  # Gemeinde.name of the stored submission
    steps: list[tuple[str, dict[str, Any]]]  # in order; Path values are file names to make
    hidden: list[str]  # field ids the chosen answers hide: absent on the check page and stored
    language: str = "de"


# One table: each service's realistic data. Path("x.pdf") stands for a real file made in the test.
JOURNEYS = [
    Journey(
        service="hundeanmeldung", query="Rhönblick", gemeinde=re.compile("Rhönblick"),
        gemeinde_name="Rhönblick",
        steps=[
            ("halter", {
                "surname": "Schäfer", "given_names": "Annegret", "birth_date": years_ago(52, 4, 17),
                "street": "Hauptstraße 12", "postcode": "98617", "city": "Rhönblick",
                "phone": "036945 51234", "email": "a.schaefer@example.org",
                "moved_from": "Meiningen",
            }),
            ("hunde", {
                "dogs-0-dog_name": "Bruno", "dogs-0-chip_number": "276098106543210",
                "dogs-0-birth_date": years_ago(3, 6, 1), "dogs-0-breed": "Labrador-Mischling",
                "dogs-0-sex": "ruede", "dogs-0-colour": "schwarz",
                "dogs-0-keeping_since": days(-5), "dogs-0-dangerous": "no",
            }),
            ("haltung", {"other_address": "no"}),
            ("ermaessigung", {
                "reduction": "tierheim", "reduction_proof": Path("Tierheim-Vertrag.pdf"),
            }),
            ("sepa", {
                "sepa_mandate": "yes", "account_holder": "Annegret Schäfer",
                "iban": "DE02 1203 0000 0000 2020 51", "sepa_consent": True,
            }),
        ],
        hidden=["insurance_proof", "keeping_address"],
    ),
    Journey(
        service="gewerbe-anmeldung", query="Erfurt", gemeinde=re.compile("Erfurt"),
        gemeinde_name="Erfurt, Stadt",
        steps=[
            ("betrieb", {
                "legal_form": "gmbh", "company_name": "Krämerbrücke Feinkost GmbH",
                "register_type": "HRB", "register_court": "Amtsgericht Jena",
                "register_number": "512345", "legal_representatives": "1",
            }),
            ("person", {
                "surname": "Lehmann", "given_names": "Jörg", "sex": "maennlich",
                "birth_date": years_ago(41, 9, 3), "birth_place": "Gotha",
                "birth_country": "Deutschland", "nationality": "deutsch",
                "home_street": "Johannesstraße 45", "home_postcode": "99084",
                "home_city": "Erfurt", "phone": "0361 6543210", "email": "j.lehmann@example.org",
            }),
            ("betriebsstaette", {
                "site_street": "Krämerbrücke 21", "site_postcode": "99084", "site_city": "Erfurt",
                "establishment": "hauptniederlassung",
            }),
            ("taetigkeit", {
                "activity": "Einzelhandel mit Feinkost, Thüringer Spezialitäten und Wein",
                "side_business": "no", "start_date": days(21),
                "business_kind": ["handel"], "staff_fulltime": "2", "staff_parttime": "3",
            }),
            ("anlass", {"reason": "neuerrichtung"}),
            ("erlaubnisse", {
                "has_permit": "yes", "permit_date": days(-30),
                "permit_authority": "Stadtverwaltung Erfurt, Bürgeramt",
                "permit_file": Path("Gaststaettenerlaubnis.pdf"), "has_craft_card": "no",
            }),
        ],
        hidden=["managing_partners", "nationality_other", "head_office", "manager_name",
                "takeover_kind", "former_operator", "craft_card", "residence"],
    ),
    Journey(
        service="wohngeld-mietzuschuss", query="Hochheim", gemeinde=re.compile("Erfurt"),
        gemeinde_name="Erfurt, Stadt",
        steps=[
            ("antragsteller", {
                "surname": "Wagner", "given_names": "Sabine", "birth_date": years_ago(34, 2, 28),
                "family_status": "verheiratet", "employment": "angestellt",
                "steuer_id": Shown("86 095 742 719", "86095742719"),
                "street": "Hochheimer Straße 7",
                "postcode": "99094", "city": "Erfurt", "email": "sabine.wagner@example.org",
            }),
            ("haushalt", {
                "members": Add("members"),
                "members-0-surname": "Wagner", "members-0-given_names": "Thomas",
                "members-0-birth_date": years_ago(36, 11, 9), "members-0-relationship": "partner",
                "members-0-employment": "angestellt",
                "members-0-steuer_id": Shown("47 036 892 816", "47036892816"),
                "members-0-income_gross": Shown("2.150", "2.150,00 €"),
                "members-0-werbungskosten": Shown("85,50", "85,50 €"),
            }),
            ("wohnung", {
                "living_space": Shown("68,5", "68,5 m²"), "rooms": "3",
                "move_in_date": years_ago(4, 8, 1),
                "landlord": "KoWo Kommunale Wohnungsgesellschaft mbH Erfurt",
                "rent_cold": Shown("520,00", "520,00 €"), "heating_costs": Shown("95", "95,00 €"),
                "ancillary_other": Shown("110,40", "110,40 €"),
                "sublet": "no",
            }),
            ("einkommen", {
                "transfer_benefits": "no", "own_income_gross": Shown("1.450,00", "1.450,00 €"),
                "own_werbungskosten": Shown("45", "45,00 €"),
            }),
            ("vermoegen", {"significant_assets": "no"}),
            ("konto", {
                "account_holder": "Sabine Wagner",
                "iban": Shown("DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
            }),
            ("nachweise", {
                "rent_certificate": Path("Mietbescheinigung.pdf"), "lease": Path("Mietvertrag.pdf"),
                "income_proofs": Path("Gehaltsnachweise.pdf"),
                "other_documents": Path("Schwerbehindertenausweis.png"),
            }),
        ],
        hidden=["sublet_income", "assets_details"],
    ),
    Journey(
        service="bauantrag", query="Tonndorf", gemeinde=re.compile("Tonndorf"),
        gemeinde_name="Tonndorf",
        steps=[
            ("bauherr", {
                "surname": "Hoffmann", "given_names": "Katrin", "street": "Am Schloss 3",
                "postcode": "99438", "city": "Tonndorf", "phone": "036450 30123",
                "email": "k.hoffmann@example.org",
            }),
            ("entwurf", {
                "designer_name": "Dipl.-Ing. Uwe Krause", "designer_chamber": "aktg",
                "designer_chamber_number": "A-1234/2009", "designer_street": "Marktstraße 8",
                "designer_postcode": "99423", "designer_city": "Weimar",
                "designer_phone": "03643 123456", "designer_email": "krause@architekt.example",
            }),
            ("grundstueck", {
                "plot_street": "Am Schloss 5", "plot_postcode": "99438", "plot_city": "Tonndorf",
                "gemarkung": "Tonndorf", "flur": "3", "parcels-0-parcel": "124/2",
            }),
            ("vorhaben", {
                "description": "Neubau eines Einfamilienhauses mit Carport, eingeschossig mit "
                               "ausgebautem Dachgeschoss.",
                "project_kind": "errichtung", "procedure": "p62", "building_class": "1",
                "special_building": "no", "planning_basis": "p34", "deviations": "no",
                "building_costs": Shown("350.000", "350.000,00 €"), "dwellings": "1",
                "floor_area": Shown("142,5", "142,5 m²"),
            }),
            ("unterlagen", {
                "site_plan": Path("Lageplan.pdf"), "drawings": Path("Bauzeichnungen.pdf"),
                "building_description": Path("Baubeschreibung.pdf"),
                "energy_proof": Path("GEG-Nachweis.pdf"),
                "statistics": Path("Statistikbogen.pdf"),
            }),
        ],
        hidden=["deviations_text"],
    ),
    Journey(
        service="reisepass", query="Kranichfeld", gemeinde=re.compile("Kranichfeld"),
        gemeinde_name="Kranichfeld, Stadt",
        steps=[
            ("person", {
                "surname": "Müller", "birth_name": "Fischer", "given_names": "Claudia Maria",
                "birth_date": years_ago(45, 7, 14), "birth_place": "Weimar", "sex": "F",
                "height": Shown("168", "168 cm"), "eye_colour": "graublau", "german": True,
                "street": "Baumbachstraße 4", "postcode": "99448", "city": "Kranichfeld",
                "phone": "036450 42817", "email": "c.mueller@example.org",
            }),
            ("dokument", {
                "has_old_document": "yes", "old_document_number": "C01X00T47",
                "old_document_expiry": days(40), "old_document_status": "vorhanden",
                "pages": "32", "express": "no", "provisional": "no",
            }),
            ("termin", {
                "preferred_date": days(14), "preferred_time": "vormittag",
                "remarks": "Bitte möglichst vor 10 Uhr, ich arbeite in Erfurt.", "in_person": True,
            }),
        ],
        hidden=["custodians"],
    ),
    Journey(
        service="veranstaltungsanmeldung", query="Wölfershausen", gemeinde=re.compile("Rhönblick"),
        gemeinde_name="Rhönblick",
        steps=[
            ("veranstalter", {
                "organiser": "Kirmesverein Wölfershausen e. V.", "surname": "Bauer",
                "given_names": "Michael", "street": "Dorfstraße 9", "postcode": "98617",
                "city": "Rhönblick", "phone": "0171 2345678", "email": "kirmes@example.org",
            }),
            ("veranstaltung", {
                "title": "Kirmes Wölfershausen", "event_kind": "fest", "start_date": days(30),
                "end_date": days(32), "location": "Festwiese am Sportplatz, Wölfershausen",
                "expected_visitors": "350", "public_space": "no", "alcohol": "yes",
                "amplified_music": "yes",
                "description": "Festzelt mit Blaskapelle, Kinderkarussell und Kirmesumzug.",
            }),
            ("unterlagen", {"site_plan": Path("Lageplan-Festwiese.png")}),
        ],
        hidden=["road_closure", "security_concept"],
    ),
    # The same trade notification in English, in a small member of a Verwaltungsgemeinschaft.
    Journey(
        service="gewerbe-anmeldung", query="Tonndorf", gemeinde=re.compile("Tonndorf"),
        gemeinde_name="Tonndorf", language="en",
        steps=[
            ("betrieb", {"legal_form": "gbr", "managing_partners": "2"}),
            ("person", {
                "surname": "Novak", "given_names": "Petra", "sex": "weiblich",
                "birth_date": years_ago(29, 1, 30), "birth_place": "Brno",
                "birth_country": "Tschechien", "nationality": "eu",
                "nationality_other": "tschechisch", "home_street": "Dorfstraße 3",
                "home_postcode": "99438", "home_city": "Tonndorf",
                "email": "petra.novak@example.org",
            }),
            ("betriebsstaette", {
                "site_street": "Dorfstraße 3", "site_postcode": "99438", "site_city": "Tonndorf",
                "site_website": "https://keramik-tonndorf.example", "establishment": "zweigstelle",
                "head_street": "Marktplatz 1", "head_postcode": "99423", "head_city": "Weimar",
                "manager_name": "Petra Novak",
            }),
            ("taetigkeit", {
                "activity": "Keramikwerkstatt: Herstellung und Verkauf von Gebrauchskeramik",
                "side_business": "yes", "start_date": days(14),
                "business_kind": ["handwerk", "handel"], "staff_fulltime": "0",
                "staff_parttime": "1",
            }),
            ("anlass", {"reason": "uebernahme", "takeover_kind": "pacht",
                        "former_operator": "Töpferei Schulze"}),
            ("erlaubnisse", {
                "has_permit": "no", "has_craft_card": "yes", "craft_card_date": years_ago(1, 5, 2),
                "craft_chamber": "Handwerkskammer Erfurt",
                "craft_card_file": Path("Handwerkskarte.png"),
            }),
        ],
        hidden=["company_name", "register", "legal_representatives", "permit", "residence"],
    ),
]  # fmt: skip


def catalogue_labels(slug: str, language: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Field id -> German label and id -> the ids it is stored under, from the catalogue file."""
    definition = json.loads((CATALOGUE / f"{slug}.json").read_text(encoding="utf-8"))["definition"]
    labels: dict[str, str] = {}
    children: dict[str, list[str]] = {}

    def walk_fields(fields: list[dict]) -> None:
        for spec in fields:
            labels[spec["id"]] = spec["label"][language]
            # A repeatable group is stored under its own id, a plain group's fields flat.
            flat = "max" not in spec
            children[spec["id"]] = [c["id"] for c in spec.get("fields", [])] if flat else []
            walk_fields(spec.get("fields", []))

    for step in definition["steps"]:
        labels[step["id"]] = step["title"][language]
        walk_fields(step["fields"])
    return labels, children


def same_label(shown: str, label: str) -> bool:
    """A check page label names the field of `label` (a step label may add its unit)."""
    return any(
        candidate in (label, re.sub(r" \([^)]*\)$", "", label))
        for candidate in (shown, shown.rsplit(": ", 1)[-1])
    )


def answer_keys(value: Any) -> set[str]:
    """Every key at any depth of the stored answers."""
    if isinstance(value, dict):
        keys = set(value)
        for item in value.values():
            keys |= answer_keys(item)
        return keys
    if isinstance(value, list):
        return set().union(*(answer_keys(item) for item in value)) if value else set()
    return set()


@pytest.mark.parametrize("journey", JOURNEYS, ids=[f"{j.service}-{j.language}" for j in JOURNEYS])
def test_journey_from_start_page_to_delivery_stores_what_the_check_page_showed(
    journey, live_portal, pipeline_worker, page, tmp_path
):
    labels, children = catalogue_labels(journey.service, journey.language)
    steps = [(step, with_files(values, tmp_path)) for step, values in journey.steps]
    if journey.language == "en":
        page.goto(live_portal + "/")
        page.get_by_role("button", name="English").click()
    open_service_from_start(
        page,
        live_portal,
        journey.query,
        journey.gemeinde,
        re.compile(labels_service(journey.service, journey.language)),
    )
    typed = Typed()
    walk(page, steps, typed)
    assert "/pruefen/" in page.url, page.locator("main").inner_text()
    shown = check_page_pairs(page)
    shown_text = "\n".join(" | ".join(pair) for pair in shown)

    # What was typed is what the check page shows, under the label the step showed.
    shown_values = {(label, value) for _, label, value in shown}
    for label, text in typed.texts.items():
        assert any(
            same_label(shown_label, label) and value == normalise(text)
            for shown_label, value in shown_values
        ), f"typed {label!r} = {text!r}, the check page shows:\n{shown_text}"
    for name in typed.files:
        assert name in shown_text, f"uploaded {name} is not on the check page:\n{shown_text}"
    # The branch taken hides these: not on the check page.
    for field_id in journey.hidden:
        hidden = labels[field_id]
        assert not any(
            same_label(label, hidden) or label.startswith(hidden + ":") for _, label, _ in shown
        ), f"{field_id} ({hidden}) shown though its condition hides it:\n{shown_text}"

    reference, _secret = submit_from_check_page(page)
    submission = Submission.objects.get(reference=reference)
    wait_until(
        lambda: Submission.objects.filter(
            pk=submission.pk, delivered_at__isnull=False, citizen_notified_at__isnull=False
        ).exists(),
        timeout=120,  # PDFs under load on a shared machine; returns as soon as done
        message=f"{reference} not delivered:\n{pipeline_worker.log()}",
    )
    submission.refresh_from_db()

    # The stored answers, read as people read them, are exactly the check page's pairs.
    stored = [
        (normalise(section.title), normalise(row.label), normalise(row.value))
        for section in summarize(
            version=submission.form_version, answers=submission.answers, language=journey.language
        )
        for row in section.rows
    ]
    assert stored == shown
    # Nothing is stored that the check page did not show.
    assert visible_answers(version=submission.form_version, answers=submission.answers) == (
        submission.answers
    )
    stored_keys = answer_keys(submission.answers)
    for field_id in journey.hidden:
        for key in [field_id, *children[field_id]]:
            assert key not in stored_keys, f"{key} was stored though hidden"
    assert sorted(a.original_name for a in submission.attachments.all()) == sorted(typed.files)
    # Delivered, the citizen notified, no error.
    assert submission.gemeinde.name == journey.gemeinde_name
    assert submission.office is not None and submission.pipeline_error == ""
    assert submission.pdfs_rendered_at is not None
    deliveries = list(submission.deliveries.all())
    assert deliveries and all(d.status == Delivery.Status.DELIVERED for d in deliveries)


def with_files(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The step's values with each Path("name") replaced by a real file of that name."""
    return {k: make_file(folder, v.name) if isinstance(v, Path) else v for k, v in values.items()}


def labels_service(slug: str, language: str) -> str:
    """The service's name as the municipality page links it."""
    service = json.loads((CATALOGUE / f"{slug}.json").read_text(encoding="utf-8"))["service"]
    return re.escape(service[f"name_{language}"])
