"""Picker rows <-> expressions: round trips for every operator and value kind, the German
refusals (later or forged fields, wrong value types, unknown options, huge values), the
read-only wording of what the rows cannot show, and element paths."""

from __future__ import annotations

import pytest

from forms_catalog.checks import definition_errors
from forms_catalog.designer.rule_expressions import (
    KIND_OPERATORS,
    MAX_ROWS,
    Comparison,
    Row,
    RowError,
    amount_expression,
    amount_from,
    comparison_expression,
    comparison_from,
    describe,
    expression_to_rows,
    fields_before,
    fields_of_group,
    fields_of_step,
    labels_of,
    locate,
    parse_amount,
    rows_to_expression,
    rule_assertion,
    split_assertion,
    unique_id,
)
from tests.forms_catalog.designer.rules_support import picker_definition

NOTE = "steps/weiteres/fields/note"


@pytest.fixture
def definition():
    return picker_definition()


@pytest.fixture
def fields(definition):
    return fields_before(definition, locate(definition, NOTE))


def kinds(fields):
    return {f.id: f.kind for f in fields}


def test_value_kinds_come_from_the_field_types(fields):
    assert kinds(fields) == {
        "name": "text", "email": "text", "count": "number", "price": "number",
        "start": "date", "end": "date", "member": "yesno", "kind": "choice",
        "extras": "multichoice", "proof": "file", "street": "text", "city": "text",
    }  # fmt: skip
    # Repeatable groups hold lists: not offered; nor the element itself or later fields.
    assert not {"people", "person", "note", "later"} & {f.id for f in fields}


VALUES = {
    "text": ["Meier", "Müller & Söhne „GmbH“"],
    "number": ["12", "2,5", "-3", "1.250"],
    "date": ["2026-01-31"],
    "yesno": ["yes", "no"],
    "choice": ["a", "c"],
    "multichoice": ["y"],
    "file": [""],
}
FIELD_OF_KIND = {
    "text": "name",
    "number": "count",
    "date": "start",
    "yesno": "member",
    "choice": "kind",
    "multichoice": "extras",
    "file": "proof",
}
CASES = [
    (kind, op, value)
    for kind, ops in KIND_OPERATORS.items()
    for op in ops
    for value in VALUES[kind]
    if op != "in"
]


def stored(definition, expr):
    """The definition with `expr` as the condition of the field "note"."""
    definition["steps"][1]["fields"][0]["visible_if"] = expr
    return definition


@pytest.mark.parametrize(("kind", "op", "value"), CASES)
def test_every_operator_and_kind_round_trips_and_passes_the_definition_checks(
    definition, fields, kind, op, value
):
    row = Row(field=FIELD_OF_KIND[kind], op=op, value=value)
    expr = rows_to_expression([row], "and", fields)
    combine, rows = expression_to_rows(expr, fields)
    assert combine == "and" and len(rows) == 1
    again = rows_to_expression(rows, "and", fields)
    assert again == expr
    if op not in ("filled", "empty"):
        assert rows[0].value in {value, value.replace(".", "")}  # "1.250" reads as 1250
    assert definition_errors(stored(definition, expr), render=False) == []


def test_number_values_are_json_numbers_in_german_notation(fields):
    expr = rows_to_expression([Row(field="price", op="ge", value="1.250,50")], "and", fields)
    assert expr == {"ge": [{"field": "price"}, 1250.5]}
    assert expression_to_rows(expr, fields)[1][0].value == "1250,5"
    expr = rows_to_expression([Row(field="count", op="eq", value="3")], "and", fields)
    assert expr == {"eq": [{"field": "count"}, 3]} and isinstance(expr["eq"][1], int)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (Row(field="kind", op="in", values=["a", "b"]), {"in": [{"field": "kind"}, ["a", "b"]]}),
        (Row(field="name", op="in", values=["A", "B"]), {"in": [{"field": "name"}, ["A", "B"]]}),
        (Row(field="member", op="eq", value="yes"), {"eq": [{"field": "member"}, True]}),
        (Row(field="start", op="lt", value="2026-03-01"),
         {"lt": [{"field": "start"}, {"date": "2026-03-01"}]}),
        (Row(field="extras", op="contains", value="x"), {"contains": [{"field": "extras"}, "x"]}),
        (Row(field="proof", op="filled"), {"filled": "proof"}),
        (Row(field="proof", op="empty"), {"not": {"filled": "proof"}}),
    ],
)  # fmt: skip
def test_rows_become_the_languages_expressions(definition, fields, row, expected):
    assert rows_to_expression([row], "and", fields) == expected
    assert expression_to_rows(expected, fields) == ("and", [row])
    assert definition_errors(stored(definition, expected), render=False) == []


@pytest.mark.parametrize("combine", ["and", "or"])
def test_several_rows_combine_with_and_or_and_read_back(definition, fields, combine):
    rows = [
        Row(field="kind", op="eq", value="b"),
        Row(field="count", op="gt", value="2"),
        Row(field="email", op="filled"),
    ]
    expr = rows_to_expression(rows, combine, fields)
    assert list(expr) == [combine] and len(expr[combine]) == 3
    assert expression_to_rows(expr, fields) == (combine, rows)
    assert definition_errors(stored(definition, expr), render=False) == []


def test_no_rows_means_no_condition(fields):
    assert rows_to_expression([], "and", fields) is None
    assert expression_to_rows(None, fields) == ("and", [])


def test_fields_of_the_same_repeatable_item_and_earlier_ones_only(definition):
    born = locate(definition, "steps/angaben/fields/people/fields/adult")
    found = {f.id: f.in_item for f in fields_before(definition, born)}
    assert found["person"] is True and found["born"] is True and found["name"] is False
    assert "adult" not in found
    city = locate(definition, "steps/angaben/fields/address/fields/city")
    assert "street" in {f.id for f in fields_before(definition, city)}
    step = locate(definition, "steps/angaben")
    assert fields_before(definition, step) == []
    group = locate(definition, "steps/angaben/fields/people")
    assert {"person", "born", "adult", "name"} <= {f.id for f in fields_of_group(definition, group)}
    assert {"note", "later"} <= {f.id for f in fields_of_step(definition, 1)}


@pytest.mark.parametrize(
    ("row", "message", "key"),
    [
        (Row(field="later", op="eq", value="x"), "vor diesem Element", "field"),
        (Row(field="note", op="eq", value="x"), "vor diesem Element", "field"),
        (Row(field="'; DROP TABLE", op="eq", value="x"), "vor diesem Element", "field"),
        (Row(field="person", op="eq", value="x"), "vor diesem Element", "field"),
        (Row(field="name", op="gt", value="x"), "passt nicht", "op"),
        (Row(field="proof", op="eq", value="x"), "passt nicht", "op"),
        (Row(field="name", op="explode", value="x"), "passt nicht", "op"),
        (Row(field="name", op="eq", value=""), "Bitte geben Sie einen Wert an", "value"),
        (Row(field="name", op="eq", value="x" * 201), "zu lang", "value"),
        (Row(field="count", op="eq", value="zwölf"), "Zahl", "value"),
        (Row(field="count", op="eq", value="1.45"), "Zahl", "value"),
        (Row(field="count", op="eq", value="9" * 40), "Zahl", "value"),
        (Row(field="start", op="eq", value="31.02.2026"), "gültiges Datum", "value"),
        (Row(field="member", op="eq", value="true"), "Ja oder Nein", "value"),
        (Row(field="kind", op="eq", value="z"), "gibt es bei „Feld kind“ nicht", "value"),
        (Row(field="kind", op="in", values=["a", "z"]), "gibt es bei", "value"),
        (Row(field="kind", op="in", values=[]), "mindestens einen Wert", "value"),
        (Row(field="name", op="in", values=[f"v{i}" for i in range(60)]), "Höchstens 50", "value"),
        (Row(field="extras", op="contains", value="q"), "gibt es bei", "value"),
    ],
)
def test_refusals_name_the_row_in_german(fields, row, message, key):
    rows = [Row(field="name", op="filled"), row]
    with pytest.raises(RowError) as caught:
        rows_to_expression(rows, "and", fields)
    assert message in caught.value.message
    assert caught.value.index == 1 and caught.value.key == key


def test_too_many_rows_and_an_unknown_combination_are_refused(fields):
    with pytest.raises(RowError, match="Höchstens 20"):
        rows_to_expression([Row(field="name", op="filled")] * (MAX_ROWS + 1), "and", fields)
    with pytest.raises(RowError, match="alle Bedingungen"):
        rows_to_expression([Row(field="name", op="filled")], "xor", fields)


@pytest.mark.parametrize(
    "expr",
    [
        {"ge": [{"age": {"field": "start"}}, 18]},
        {"gt": [{"count": "people"}, 1]},
        {"and": [{"or": [{"filled": "name"}, {"filled": "email"}]}, {"filled": "kind"}]},
        {"eq": ["a", {"field": "kind"}]},
        {"eq": [{"field": "kind"}, "no-such-option"]},
        {"eq": [{"field": "later"}, "x"]},
        {"eq": [{"field": "member"}, "yes"]},
        {"any": ["people", {"filled": "person"}]},
    ],
)
def test_what_rows_cannot_show_is_read_only_in_german_words(fields, definition, expr):
    assert expression_to_rows(expr, fields) is None
    text = describe(expr, labels_of(definition))
    assert text and "{" not in text and "[" not in text


def test_describe_wording(definition):
    labels = labels_of(definition)
    assert describe({"ge": [{"age": {"field": "start"}}, 18]}, labels) == (
        "Alter nach „Beginn“ ist mindestens 18"
    )
    assert describe({"gt": [{"count": "people"}, 1]}, labels) == (
        "Anzahl der Einträge in „Personen“ ist größer als 1"
    )
    deep = {"not": {"not": {"not": {"filled": "name"}}}}
    for _ in range(40):
        deep = {"not": deep}
    assert describe(deep, labels).endswith("…)" * 1) or "…" in describe(deep, labels)


def test_locate_finds_elements_and_refuses_forged_paths(definition):
    assert locate(definition, "steps/angaben").json_path == "steps[0]"
    assert locate(definition, "steps/angaben/fields/kind").json_path == "steps[0].fields[7]"
    group = locate(definition, "steps/angaben/fields/people")
    assert group.kind == "group" and group.repeatable_group
    assert (
        locate(definition, "steps/angaben/fields/people/fields/born").json_path
        == "steps[0].fields[11].fields[1]"
    )
    for forged in [
        "", "steps", "steps/nope", "steps/angaben/fields/nope",
        "steps/angaben/fields/kind/fields/a",
        "steps/../etc/passwd", "steps/Angaben", "fields/angaben", "steps/angaben/felder/kind",
        "steps/angaben/fields/people/fields/born/fields/x", "steps/" + "a" * 5000, None, 42,
        ["steps", "angaben"],
    ]:  # fmt: skip
        assert locate(definition, forged) is None, forged


def test_comparisons_round_trip_with_a_field_a_value_and_today(definition):
    comparable = fields_of_step(definition, 0)
    for comparison in [
        Comparison("end", "ge", "field", right_field="start"),
        Comparison("end", "le", "today"),
        Comparison("count", "lt", "value", right_value="10"),
        Comparison("start", "gt", "value", right_value="2026-05-01"),
        Comparison("kind", "ne", "value", right_value="a"),
        Comparison("member", "eq", "value", right_value="yes"),
    ]:
        expr = comparison_expression(comparison, comparable)
        assert comparison_from(expr, comparable) == comparison
        condition = rows_to_expression([Row(field="kind", op="eq", value="b")], "and", comparable)
        assertion = rule_assertion(expr, condition)
        assert split_assertion(assertion) == (expr, condition)
        rule = {
            "id": "r",
            "assert": assertion,
            "fields": ["end"],
            "message": {"de": "x", "en": "x"},
        }
        definition["steps"][0]["rules"] = [rule]
        assert definition_errors(definition, render=False) == []


@pytest.mark.parametrize(
    ("comparison", "key"),
    [
        (Comparison("name", "gt", "field", right_field="email"), "op"),
        (Comparison("end", "ge", "field", right_field="count"), "right_field"),
        (Comparison("end", "ge", "field", right_field="end"), "right_field"),
        (Comparison("end", "ge", "field", right_field="later"), "right_field"),
        (Comparison("count", "ge", "today"), "right_kind"),
        (Comparison("count", "ge", "value", right_value="viel"), "right_value"),
        (Comparison("proof", "eq", "value", right_value="x"), "left"),
        (Comparison("later", "eq", "value", right_value="x"), "left"),
        (Comparison("end", "around", "today"), "op"),
        (Comparison("end", "ge", "yesterday"), "right_kind"),
    ],
)
def test_comparison_refusals(definition, comparison, key):
    with pytest.raises(RowError) as caught:
        comparison_expression(comparison, fields_of_step(definition, 0))
    assert caught.value.key == key and caught.value.message


def test_amounts_german_input_and_round_trip():
    assert parse_amount("25,00") == parse_amount("25") == parse_amount("25,0")
    assert str(parse_amount("1.234,50")) == "1234.50"
    assert amount_expression("fixed", "25,00", "", []) == 25
    assert amount_expression("fixed", "12,5", "", []) == 12.5
    assert amount_from(12.5) == ("fixed", "12,50", "")
    assert amount_expression("param", "", "rate", ["rate"]) == {"param": "rate"}
    assert amount_from({"param": "rate"}) == ("param", "", "rate")
    assert amount_from({"mul": [{"param": "rate"}, 2]}) is None
    # "25.00" could be 25 or a mistyped 2.500 in German notation: refused, not guessed.
    for bad in ["", "abc", "25,005", "25.00", "1e5", "9" * 40, "1000000", "--3"]:
        with pytest.raises(RowError):
            parse_amount(bad)
    with pytest.raises(RowError, match="angelegten Betrag"):
        amount_expression("param", "", "forged", ["rate"])
    with pytest.raises(RowError):
        amount_expression("formula", "", "", [])


def test_unique_ids_follow_the_id_rules():
    assert unique_id("Gebühr für Änderung", set(), "x") == "gebuehr_fuer_aenderung"
    assert unique_id("Gebühr", {"gebuehr", "gebuehr_2"}, "x") == "gebuehr_3"
    assert unique_id("1. Hund", set(), "position") == "position"
    assert unique_id("", set(), "regel") == "regel"
