"""Issue 13 (problem 7): the fee wording selector tells the truth about kind, period, payment
and whose amounts are shown."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from forms_catalog.models import Service
from forms_catalog.selectors import calculate_fee, fee_statement, published_version
from forms_catalog.services import CATALOGUE_DIR, catalogue_load
from tests.factories import FormVersionFactory, ServiceFactory
from tests.forms_catalog.helpers import T, definition, field

pytestmark = pytest.mark.django_db

ONE_DOG = {"dogs": [{"dog_name": "Bello", "dangerous": False}]}
TWO_DOGS = {"dogs": [{"dog_name": "Bello", "dangerous": False}, {"dog_name": "Luna"}]}


@pytest.fixture
def catalogue():
    catalogue_load()
    return {s.slug: published_version(service=s) for s in Service.objects.all()}


def test_dog_tax_is_a_yearly_tax_paid_by_notice_with_examples_marked_as_examples(catalogue):
    statement = fee_statement(
        version=catalogue["hundeanmeldung"], configured={}, municipality="Gemeinde Rhönblick"
    )
    assert (statement.kind, statement.kind_label) == ("steuer", "Steuer")
    assert (statement.period, statement.period_label) == ("jaehrlich", "jährlich")
    assert statement.payment == "bescheid"
    assert "Bescheid" in statement.payment_text
    assert statement.own_rates == [] and statement.fixed_rates == []
    assert statement.set_locally
    assert statement.set_locally_text.startswith("Den Betrag legt Gemeinde Rhönblick selbst fest.")
    assert statement.example_caption == "Nur Beispiele, nicht die Beträge von Gemeinde Rhönblick"
    assert next((r.label, r.text) for r in statement.example_rates) == (
        "Steuersatz erster Hund (jährlich)",
        "50,00 €",
    )


def test_only_the_configured_rates_are_the_municipalitys_own(catalogue):
    configured = {"rate_first": Decimal("120.00"), "rate_second": Decimal("180.00")}
    statement = fee_statement(
        version=catalogue["hundeanmeldung"], configured=configured, municipality="Stadt Erfurt"
    )
    assert statement.own_caption == "Beträge von Stadt Erfurt"
    assert [(r.label, r.amount) for r in statement.own_rates] == [
        ("Steuersatz erster Hund (jährlich)", Decimal("120.00")),
        ("Steuersatz zweiter Hund (jährlich)", Decimal("180.00")),
    ]
    # The two rates Erfurt has not set stay examples, not Erfurt's.
    assert [r.amount for r in statement.example_rates] == [Decimal("95.00"), Decimal("350.00")]
    assert statement.set_locally


def test_fully_configured_municipality_gets_a_yearly_total_and_no_examples(catalogue):
    configured = {key: Decimal("100") for key in ("rate_first", "rate_second")}
    configured |= {"rate_further": Decimal("150"), "rate_dangerous": Decimal("600")}
    statement = fee_statement(
        version=catalogue["hundeanmeldung"],
        configured=configured,
        municipality="Stadt Erfurt",
        answers=TWO_DOGS,
    )
    assert statement.example_rates == [] and not statement.set_locally
    assert statement.set_locally_text == ""
    assert [(r.label, r.text) for r in statement.calculation_lines] == [
        ("Hund 1 (Bello)", "100,00 €"),
        ("Hund 2 (Luna)", "100,00 €"),
    ]
    assert (statement.total_label, statement.total_text) == ("Gesamt pro Jahr", "200,00 €")


def test_unconfigured_local_amount_is_unknown_never_the_example(catalogue):
    """The existing rule holds: a locally set amount nobody configured is not invented.

    The example default is neither calculated on the check page nor recorded
    on the submission; the wording says the municipality sets it instead of
    claiming there is no fee.
    """
    version = catalogue["hundeanmeldung"]
    statement = fee_statement(
        version=version, configured={}, municipality="Gemeinde Rhönblick", answers=ONE_DOG
    )
    assert statement.calculation is None and statement.calculation_lines == []
    assert calculate_fee(version=version, answers=ONE_DOG, parameters={}, examples=False) is None
    # The designer's preview may still use the example.
    assert calculate_fee(version=version, answers=ONE_DOG, parameters={}).amount == 50


def test_gewerbe_says_the_same_with_and_without_answers_and_never_no_fee(catalogue):
    version = catalogue["gewerbe-anmeldung"]
    page = fee_statement(version=version, configured={}, municipality="Stadt Erfurt")
    check = fee_statement(version=version, configured={}, municipality="Stadt Erfurt", answers={})
    for statement in (page, check):
        assert (statement.kind_label, statement.period_label) == ("Gebühr", "einmalig")
        assert statement.set_locally and statement.example_rates == []
        assert statement.calculation is None
    assert page.set_locally_text == check.set_locally_text
    service = Service.objects.get(slug="gewerbe-anmeldung")
    assert "Gera" not in service.fee_note_de and "Gera" not in service.fee_note_en
    configured = fee_statement(
        version=version, configured={"fee": "30"}, municipality="Stadt Gera", answers={}
    )
    assert [(r.label, r.text) for r in configured.own_rates] == [
        ("Gebühr für die Gewerbeanmeldung", "30,00 €")
    ]
    assert configured.total_text == "30,00 €" and not configured.set_locally


def test_passport_is_paid_at_the_appointment_at_rates_fixed_by_law(catalogue):
    statement = fee_statement(
        version=catalogue["reisepass"],
        configured={},
        municipality="Stadt Erfurt",
        answers={"birth_date": "1980-05-12"},
        on_date=datetime.date(2026, 11, 26),
    )
    assert statement.payment == "appointment"
    assert statement.payment_text == "Bezahlt wird beim Termin vor Ort."
    assert not statement.set_locally and statement.own_rates == []
    assert statement.fixed_caption == "Beträge nach Gesetz oder Verordnung, überall gleich"
    assert statement.fixed_rates[0].text == "70,00 €"
    assert statement.total_text == "70,00 €" and statement.total_label == "Gesamt"


def test_english_wording_is_complete(catalogue):
    statement = fee_statement(
        version=catalogue["hundeanmeldung"],
        configured={"rate_first": "120"},
        municipality="Municipality of Rhönblick",
        answers=ONE_DOG,
        language="en",
    )
    assert (statement.kind_label, statement.period_label) == ("Tax", "every year")
    assert (
        statement.payment_text == "You receive a written notice of the amount and pay after that."
    )
    assert statement.own_caption == "Amounts set by Municipality of Rhönblick"
    assert (
        statement.example_caption == "Examples only, not the amounts of Municipality of Rhönblick"
    )
    assert statement.set_locally_text.startswith("Municipality of Rhönblick sets the amount")
    assert statement.own_rates[0].label == "Rate for the first dog (per year)"
    assert statement.own_rates[0].text == "€120.00"
    assert statement.note == "Annual dog tax before any reduction."
    assert [(r.label, r.text) for r in statement.calculation_lines] == [
        ("Dog 1 (Bello)", "€120.00")
    ]
    assert statement.total_label == "Total per year"
    passport = fee_statement(
        version=catalogue["reisepass"], configured={}, municipality="City of Erfurt", language="en"
    )
    assert passport.payment_text == "You pay at the appointment, in person."
    assert passport.kind_label == "Fee" and passport.period_label == "once"


def test_free_service_and_form_without_fee_rules():
    free = FormVersionFactory(
        service=ServiceFactory(slug="frei"), definition=definition(fees={"free": True})
    )
    statement = fee_statement(version=free, configured={}, municipality="Stadt Jena")
    assert statement.free and not statement.has_fees and not statement.set_locally
    bare = FormVersionFactory(service=ServiceFactory(slug="ohne"), definition=definition())
    statement = fee_statement(version=bare, configured={}, municipality="Stadt Jena")
    assert not statement.free and not statement.has_fees
    assert (statement.kind_label, statement.period_label, statement.payment_text) == ("", "", "")


def test_hostile_configured_values_are_ignored_not_shown():
    defn = definition(
        field("n", "number"),
        fees={
            "kind": "auslagen",
            "lines": [{"id": "a", "label": T("Auslagen"), "amount": {"param": "rate"}}],
        },
        parameters=[
            {"id": "rate", "type": "money", "label": T("Satz"), "default": None, "local": True}
        ],
    )
    version = FormVersionFactory(service=ServiceFactory(slug="auslagen"), definition=defn)
    for junk in ("<script>", True, "NaN", "1e99", None, ["1"]):
        statement = fee_statement(
            version=version, configured={"rate": junk}, municipality="X", answers={"n": 1}
        )
        assert statement.own_rates == [] and statement.set_locally, junk
        assert statement.calculation is None
    assert statement.kind_label == "Auslagen"


def test_catalogue_files_declare_kind_period_and_payment_for_every_charged_service():
    for path in sorted(CATALOGUE_DIR.glob("*.json")):
        fees = json.loads(path.read_text(encoding="utf-8"))["definition"].get("fees") or {}
        if fees.get("free"):
            continue
        assert {"kind", "period", "payment"} <= set(fees), path.name
