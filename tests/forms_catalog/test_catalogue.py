"""The catalogue forms filled to completion with realistic data, step by step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict

from forms_catalog.models import Service
from forms_catalog.selectors import (
    applicant_contact,
    calculate_fee,
    compiled_form,
    export_answers,
    published_version,
    summarize,
)
from forms_catalog.services import catalogue_load
from tests.forms_catalog.helpers import (
    GEWERBE_GMBH_PAGES,
    TODAY,
    catalogue_definition,
    d,
    pdf,
    store_upload,
)

pytestmark = pytest.mark.django_db


def fill(slug: str, pages: dict[str, dict], files: dict[str, dict] | None = None):
    """Walk through every visible step like the wizard does; every step must validate."""
    catalogue_load()
    version = published_version(service=Service.objects.get(slug=slug))
    compiled = compiled_form(version=version)
    answers: dict = {}
    visited = []
    for step in compiled.steps:
        if not compiled.step_is_visible(step.id, answers, TODAY):
            continue
        visited.append(step.id)
        data = MultiValueDict()
        for key, value in pages.get(step.id, {}).items():
            data.setlist(f"{step.id}-{key}", value if isinstance(value, list) else [value])
        uploads = MultiValueDict()
        for key, value in (files or {}).get(step.id, {}).items():
            uploads.setlist(f"{step.id}-{key}", value if isinstance(value, list) else [value])
        form = compiled.form_class(step.id)(
            data=data, files=uploads, prefix=step.id, answers=answers, language="de", today=TODAY
        )
        assert form.is_valid(), (step.id, form.errors)
        render_to_string("forms_catalog/step_fields.html", {"form": form})
        answers = form.merged_answers(store_upload)
    assert compiled.validate_answers(answers, today=TODAY) == []
    return version, answers, visited


PERSON = {
    "surname": "Schneider",
    "given_names": "Anna Maria",
    "phone": "0361 5551234",
    "email": "anna.schneider@example.de",
    "street": "Anger 12",
    "postcode": "99084",
    "city": "Erfurt",
}


def test_gewerbe_anmeldung_gmbh_branch_with_permit_and_residence_title():
    pages = GEWERBE_GMBH_PAGES
    files = {
        "erlaubnisse": {"permit_file": pdf("erlaubnis.pdf"), "residence_file": pdf("titel.pdf")}
    }
    version, answers, _ = fill("gewerbe-anmeldung", pages, files)
    assert answers["register_number"] == "512345"
    assert answers["permit_file"][0]["name"] == "erlaubnis.pdf"
    assert "managing_partners" not in answers  # hidden for a GmbH
    assert applicant_contact(version=version, answers=answers) == (
        "Anna Maria Schneider",
        "anna.schneider@example.de",
    )
    assert calculate_fee(version=version, answers=answers, parameters={}) is None
    fee = calculate_fee(version=version, answers=answers, parameters={"fee": "25"})
    assert fee.amount == Decimal("25.00")


def test_gewerbe_anmeldung_sole_trader_refuses_unspecific_activity():
    catalogue_load()
    compiled = compiled_form(
        version=published_version(service=Service.objects.get(slug="gewerbe-anmeldung"))
    )
    form = compiled.form_class("taetigkeit")(
        data={
            "activity": "Handel mit Waren aller Art",
            "side_business": "yes",
            **d("2026-12-01", "start_date"),
            "business_kind": "handel",
            "staff_fulltime": "0",
            "staff_parttime": "0",
        },
        answers={"birth_date": "1990-01-01"},
        today=TODAY,
    )
    assert not form.is_valid()
    assert "zu allgemein" in form.errors["activity"][0]


# Every field of the official form GewA 1 (Anlage 1 GewAnzV), signature dropped.
GEWA1 = {
    "GewA1.01": "Name im Register mit Rechtsform",
    "GewA1.02": "Registerart",
    "GewA1.03": "Registergericht",
    "GewA1.04": "Registernummer",
    "GewA1.05": "Zahl der geschäftsführenden Gesellschafter",
    "GewA1.06": "Zahl der gesetzlichen Vertreter",
    "GewA1.07": "Name",
    "GewA1.08": "Vornamen",
    "GewA1.09": "Geschlecht",
    "GewA1.10": "Geburtsdatum",
    "GewA1.11": "Geburtsort und -land",
    "GewA1.12": "Staatsangehörigkeit",
    "GewA1.13": "Anschrift der Wohnung",
    "GewA1.14": "Telefon",
    "GewA1.15": "E-Mail",
    "GewA1.16": "Anschrift der Betriebsstätte",
    "GewA1.17": "Art der Niederlassung (Haupt-, Zweig-, Automaten-, Reisegewerbe)",
    "GewA1.18": "Anschrift der Hauptniederlassung",
    "GewA1.19": "Vertretungsberechtigte Person / Betriebsleitung",
    "GewA1.20": "Frühere Betriebsstätte",
    "GewA1.21": "Angemeldete Tätigkeit",
    "GewA1.22": "Nebenerwerb",
    "GewA1.23": "Beginn der Tätigkeit",
    "GewA1.24": "Art des Betriebes",
    "GewA1.25": "Beschäftigte Vollzeit",
    "GewA1.26": "Beschäftigte Teilzeit",
    "GewA1.27": "Grund der Anmeldung",
    "GewA1.28": "Art der Übernahme",
    "GewA1.29": "Früherer Gewerbetreibender",
    "GewA1.30": "Erlaubnis (Datum, Behörde, Kopie)",
    "GewA1.31": "Handwerkskarte",
    "GewA1.32": "Aufenthaltstitel",
}


def test_gewerbe_anmeldung_contains_every_gewa1_field():
    defn = catalogue_definition("gewerbe-anmeldung")
    refs: dict[str, list[str]] = {}
    for step in defn["steps"]:
        for item in step["fields"]:
            for spec in item.get("fields", []) if item["type"] == "group" else [item]:
                refs.setdefault(spec.get("ref", ""), []).append(spec["id"])
    assert set(GEWA1) <= set(refs), sorted(set(GEWA1) - set(refs))
    assert len(GEWA1) == 32  # 33 fields of GewA 1 minus the signature
    assert set(refs["GewA1.13"]) == {"home_street", "home_postcode", "home_city"}
    assert set(refs["GewA1.30"]) == {"has_permit", "permit_date", "permit_authority", "permit_file"}
    establishment = next(
        f for s in defn["steps"] for f in s["fields"] if f["id"] == "establishment"
    )
    assert {o["value"] for o in establishment["options"]} == {
        "hauptniederlassung",
        "zweigniederlassung",
        "zweigstelle",
        "automaten",
        "reisegewerbe",
    }


def test_wohngeld_with_two_household_members():
    pages = {
        "antragsteller": {
            "surname": "Schneider",
            "given_names": "Anna",
            **d("1979-02-03", "birth_date"),
            "family_status": "verheiratet",
            "employment": "angestellt",
            "steuer_id": "86095742719",
            "street": "Juri-Gagarin-Ring 40",
            "postcode": "99084",
            "city": "Erfurt",
            "email": "anna@example.de",
        },
        "haushalt": {
            "members-count": "2",
            "members-0-surname": "Schneider",
            "members-0-given_names": "Thomas",
            **d("1977-08-30", "members-0-birth_date"),
            "members-0-relationship": "partner",
            "members-0-employment": "angestellt",
            "members-0-steuer_id": "47036892816",
            "members-0-income_gross": "1.850,00",
            "members-0-werbungskosten": "1230",
            "members-1-surname": "Schneider",
            "members-1-given_names": "Lena",
            **d("2014-06-11", "members-1-birth_date"),
            "members-1-relationship": "kind",
            "members-1-employment": "schule",
            "members-1-steuer_id": "65929970489",
        },
        "wohnung": {
            "living_space": "72,5",
            "rooms": "3",
            **d("2019-04-01", "move_in_date"),
            "landlord": "Kommunale Wohnungsgesellschaft Erfurt",
            "rent_cold": "545,00",
            "heating_costs": "95",
            "sublet": "no",
        },
        "einkommen": {"transfer_benefits": "no", "own_income_gross": "1200", "own_benefits": "250"},
        "vermoegen": {"significant_assets": "no"},
        "konto": {"account_holder": "Anna Schneider", "iban": "DE89 3704 0044 0532 0130 00"},
    }
    files = {
        "nachweise": {
            "rent_certificate": pdf("mietbescheinigung.pdf"),
            "lease": pdf("mietvertrag.pdf"),
            "income_proofs": [pdf(f"lohn-{m:02d}.pdf") for m in range(1, 13)],
        }
    }
    version, answers, _ = fill("wohngeld-mietzuschuss", pages, files)
    assert [m["steuer_id"] for m in answers["members"]] == ["47036892816", "65929970489"]
    assert answers["members"][0]["income_gross"] == "1850.00"
    assert answers["living_space"] == "72.5"
    assert len(answers["income_proofs"]) == 12
    fee = calculate_fee(version=version, answers=answers, parameters={})
    assert fee.amount == Decimal("0.00") and fee.lines == []


def test_wohngeld_refuses_sgb_ii_recipients_and_a_wrong_member_steuer_id():
    catalogue_load()
    compiled = compiled_form(
        version=published_version(service=Service.objects.get(slug="wohngeld-mietzuschuss"))
    )
    form = compiled.form_class("einkommen")(data={"transfer_benefits": "yes"}, today=TODAY)
    assert not form.is_valid()
    assert "§ 7 WoGG" in form.errors["transfer_benefits"][0]
    form = compiled.form_class("haushalt")(
        data={
            "members-count": "1",
            "members-0-surname": "X",
            "members-0-given_names": "Y",
            **d("2000-01-01", "members-0-birth_date"),
            "members-0-relationship": "kind",
            "members-0-employment": "schule",
            "members-0-steuer_id": "12345678901",
        },
        today=TODAY,
    )
    assert not form.is_valid()
    assert "members-0-steuer_id" in form.errors


HUND_PAGES = {
    "halter": {**PERSON, **d("1970-01-15", "birth_date")},
    "hunde": {
        "dogs-count": "3",
        "dogs-0-dog_name": "Bello",
        "dogs-0-chip_number": "276098106123456",
        **d("2022-03-01", "dogs-0-birth_date"),
        "dogs-0-breed": "Labrador",
        "dogs-0-sex": "ruede",
        "dogs-0-colour": "schwarz",
        **d("2026-11-15", "dogs-0-keeping_since"),
        "dogs-0-dangerous": "no",
        "dogs-1-dog_name": "Luna",
        "dogs-1-chip_number": "276098106654321",
        **d("2021-07-20", "dogs-1-birth_date"),
        "dogs-1-breed": "Mischling",
        "dogs-1-sex": "huendin",
        "dogs-1-colour": "braun-weiß",
        **d("2026-11-15", "dogs-1-keeping_since"),
        "dogs-1-dangerous": "no",
        "dogs-2-dog_name": "Rocky",
        "dogs-2-chip_number": "276098106000001",
        **d("2020-01-01", "dogs-2-birth_date"),
        "dogs-2-breed": "American Staffordshire Terrier",
        "dogs-2-sex": "ruede",
        "dogs-2-colour": "grau",
        **d("2026-11-20", "dogs-2-keeping_since"),
        "dogs-2-dangerous": "yes",
    },
    "haltung": {"other_address": "no"},
    "ermaessigung": {"reduction": "tierheim"},
    "sepa": {
        "sepa_mandate": "yes",
        "account_holder": "Anna Maria Schneider",
        "iban": "DE89370400440532013000",
        "sepa_consent": "on",
    },
}


def test_hundeanmeldung_three_dogs_one_dangerous_with_reduction_and_sepa():
    files = {
        "ermaessigung": {
            "reduction_proof": pdf("tierheim.pdf"),
            "insurance_proof": pdf("haftpflicht.pdf"),
        }
    }
    version, answers, _ = fill("hundeanmeldung", HUND_PAGES, files)
    assert [dog["chip_number"] for dog in answers["dogs"]][2] == "276098106000001"
    assert "keeping_street" not in answers
    fee = calculate_fee(version=version, answers=answers, parameters={})
    assert fee.lines == [
        ("Hund 1 (Bello)", Decimal("50.00")),
        ("Hund 2 (Luna)", Decimal("75.00")),
        ("Hund 3 (Rocky)", Decimal("350.00")),
    ]
    assert fee.amount == Decimal("475.00")
    local = calculate_fee(
        version=version,
        answers=answers,
        parameters={"rate_first": "60", "rate_dangerous": "600", "junk": "x"},
    )
    assert local.amount == Decimal("735.00")


def test_hundeanmeldung_needs_insurance_only_for_a_dangerous_dog():
    catalogue_load()
    compiled = compiled_form(
        version=published_version(service=Service.objects.get(slug="hundeanmeldung"))
    )
    safe = {"dogs": [{"dog_name": "Bello", "dangerous": False}]}
    form = compiled.form_class("ermaessigung")(
        data={"reduction": "keine"}, answers=safe, today=TODAY
    )
    assert form.is_valid(), form.errors
    risky = {"dogs": [{"dog_name": "Rocky", "dangerous": True}]}
    form = compiled.form_class("ermaessigung")(
        data={"reduction": "keine"}, answers=risky, today=TODAY
    )
    assert not form.is_valid()
    assert "insurance_proof" in form.errors


def test_hundeanmeldung_chip_number_must_have_15_digits():
    catalogue_load()
    compiled = compiled_form(
        version=published_version(service=Service.objects.get(slug="hundeanmeldung"))
    )
    data = {k.removeprefix(""): v for k, v in HUND_PAGES["hunde"].items()}
    data["dogs-0-chip_number"] = "27609810612345"
    form = compiled.form_class("hunde")(data=data, today=TODAY)
    assert not form.is_valid()
    assert form.errors["dogs-0-chip_number"] == ["Die Transpondernummer hat genau 15 Ziffern."]


def test_bauantrag_single_family_house():
    pages = {
        "bauherr": PERSON,
        "entwurf": {
            "designer_name": "Kraus, Peter",
            "designer_chamber": "aktg",
            "designer_chamber_number": "A-1234/2010",
            "designer_street": "Löberstraße 5",
            "designer_postcode": "99096",
            "designer_city": "Erfurt",
            "designer_phone": "0361 4444",
            "designer_email": "kraus@architekten.example",
        },
        "grundstueck": {
            "plot_street": "Am Hang 7",
            "plot_postcode": "98617",
            "plot_city": "Rhönblick",
            "gemarkung": "Wohlmuthausen",
            "flur": "3",
            "parcels-count": "2",
            "parcels-0-parcel": "117",
            "parcels-1-parcel": "118/2",
        },
        "vorhaben": {
            "description": "Neubau eines Einfamilienhauses mit Carport",
            "project_kind": "errichtung",
            "procedure": "p62",
            "building_class": "1",
            "special_building": "no",
            "planning_basis": "p30",
            "deviations": "no",
            "building_costs": "385000",
            "dwellings": "1",
            "floor_area": "164,3",
        },
    }
    files = {
        "unterlagen": {
            name: pdf(f"{name}.pdf")
            for name in (
                "site_plan",
                "drawings",
                "building_description",
                "statistics",
                "energy_proof",
            )
        }
    }
    version, answers, _ = fill("bauantrag", pages, files)
    assert answers["parcels"] == [{"parcel": "117"}, {"parcel": "118/2"}]
    assert calculate_fee(version=version, answers=answers, parameters={}) is None
    fee = calculate_fee(version=version, answers=answers, parameters={"fee_per_mille": "5"})
    assert fee.amount == Decimal("1925.00")


def test_bauantrag_rules_and_pdf_only():
    catalogue_load()
    compiled = compiled_form(
        version=published_version(service=Service.objects.get(slug="bauantrag"))
    )
    form = compiled.form_class("grundstueck")(
        data={
            "plot_street": "a",
            "plot_postcode": "98617",
            "plot_city": "b",
            "gemarkung": "c",
            "flur": "3",
            "parcels-count": "1",
            "parcels-0-parcel": "117/a",
        },
        today=TODAY,
    )
    assert not form.is_valid() and "parcels-0-parcel" in form.errors
    vorhaben = {
        "description": "Neubau Versammlungsstätte",
        "project_kind": "errichtung",
        "procedure": "p62",
        "building_class": "5",
        "special_building": "yes",
        "planning_basis": "p34",
        "deviations": "no",
        "building_costs": "1000000",
        "dwellings": "0",
        "floor_area": "900",
    }
    form = compiled.form_class("vorhaben")(data=vorhaben, today=TODAY)
    assert not form.is_valid()
    assert "§ 63" in form.errors["procedure"][0]
    form = compiled.form_class("unterlagen")(
        data={}, files={"site_plan": pdf("lageplan.png", b"\x89PNG\r\n\x1a\n....")}, today=TODAY
    )
    assert not form.is_valid()
    assert "nicht erlaubten Typ" in form.errors["site_plan"][0]


PASS_PAGES = {
    "person": {
        "surname": "Schneider",
        "birth_name": "Kowalenko",
        "given_names": "Anna Maria",
        **d("2004-03-10", "birth_date"),
        "birth_place": "Gera",
        "sex": "F",
        "height": "168",
        "eye_colour": "gruen",
        "german": "on",
        "street": "Anger 12",
        "postcode": "99084",
        "city": "Erfurt",
        "phone": "0361 5551234",
        "email": "anna.schneider@example.de",
    },
    "dokument": {
        "has_old_document": "yes",
        "old_document_number": "C01X00T47",
        **d("2026-12-31", "old_document_expiry"),
        "old_document_status": "vorhanden",
        "pages": "48",
        "express": "yes",
        "provisional": "no",
    },
    "termin": {
        **d("2026-12-03", "preferred_date"),
        "preferred_time": "vormittag",
        "in_person": "on",
    },
}


def test_reisepass_adult_under_24_with_48_pages_and_express():
    version, answers, visited = fill("reisepass", PASS_PAGES)
    assert "sorgeberechtigte" not in visited
    fee = calculate_fee(version=version, answers=answers, parameters={}, on_date=TODAY)
    assert fee.lines == [
        ("Reisepass (unter 24 Jahren)", Decimal("37.50")),
        ("48 Seiten", Decimal("22.00")),
        ("Expressverfahren", Decimal("32.00")),
    ]
    assert fee.amount == Decimal("91.50")
    older = {
        **answers,
        "birth_date": "1960-01-01",
        "express": False,
        "pages": "32",
        "provisional": True,
    }
    fee = calculate_fee(version=version, answers=older, parameters={}, on_date=TODAY, language="en")
    assert fee.lines == [
        ("Passport (age 24 and over)", Decimal("70.00")),
        ("Provisional passport", Decimal("26.00")),
    ]
    # The 24th birthday is the boundary.
    birthday = {**answers, "birth_date": "2002-11-22", "express": False, "pages": "32"}
    assert (
        calculate_fee(version=version, answers=birthday, parameters={}, on_date=TODAY).amount == 70
    )


def test_reisepass_minor_needs_custodian_consent_and_has_no_photo_upload():
    pages = {
        **PASS_PAGES,
        "person": {**PASS_PAGES["person"], **d("2012-05-05", "birth_date")},
        "sorgeberechtigte": {
            "custodians-count": "2",
            "custodians-0-name": "Schneider, Anna",
            "custodians-0-agrees": "on",
            "custodians-1-name": "Schneider, Tom",
            "custodians-1-agrees": "on",
        },
    }
    version, answers, visited = fill("reisepass", pages)
    assert "sorgeberechtigte" in visited and len(answers["custodians"]) == 2
    types = {
        f["type"]
        for s in version.definition["steps"]
        for i in s["fields"]
        for f in (i["fields"] if i["type"] == "group" else [i])
    }
    assert "file" not in types


def test_veranstaltung_added_as_a_file_only_can_be_filled():
    pages = {
        "veranstalter": {"organiser": "Heimatverein Wohlmuthausen e. V.", **PERSON},
        "veranstaltung": {
            "title": "Dorffest 2027",
            "event_kind": "fest",
            **d("2027-06-12", "start_date"),
            **d("2027-06-13", "end_date"),
            "location": "Dorfplatz Wohlmuthausen",
            "expected_visitors": "1500",
            "public_space": "yes",
            "road_closure": "yes",
            "alcohol": "yes",
            "amplified_music": "yes",
        },
    }
    files = {"unterlagen": {"security_concept": pdf("sicherheitskonzept.pdf")}}
    version, answers, _ = fill("veranstaltungsanmeldung", pages, files)
    assert version.service.name_de == "Veranstaltung anmelden"
    assert answers["security_concept"][0]["name"] == "sicherheitskonzept.pdf"


def test_summary_and_export_of_a_filled_form_leave_hidden_answers_out():
    files = {
        "ermaessigung": {
            "reduction_proof": pdf("tierheim.pdf"),
            "insurance_proof": pdf("haftpflicht.pdf"),
        }
    }
    version, answers, _ = fill("hundeanmeldung", HUND_PAGES, files)
    answers["keeping_street"] = "Versteckte Straße 1"  # stale answer of a hidden group
    sections = summarize(version=version, answers=answers, language="de")
    rows = {r.path: r for s in sections for r in s.rows}
    assert "keeping_street" not in rows
    assert rows["dogs[2].dangerous"].value == "Ja"
    assert rows["dogs[0].birth_date"].value == "01.03.2022"
    assert rows["dogs[0].chip_number"].label == "Hund 1: Transpondernummer (Mikrochip)"
    assert rows["iban"].value == "DE89 3704 0044 0532 0130 00"
    assert rows["reduction_proof"].value.startswith("tierheim.pdf")
    english = summarize(version=version, answers=answers, language="en")
    assert english[0].title == "Keeper"
    exported = export_answers(version=version, answers=answers)
    assert "keeping_street" not in exported["answers"]
    assert exported["service"] == "hundeanmeldung" and exported["version"] == version.number
    assert {
        "path": "dogs[0].dog_name",
        "step": "hunde",
        "type": "text",
        "label": {"de": "Name des Hundes", "en": "Dog's name"},
        "value": "Bello",
    } in exported["fields"]
