"""The pickers' services: only drafts, only editors, checked by the definition checks,
and what they store works for the citizen (conditions hide, rules refuse, fees add up)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from forms_catalog.compiler import CompiledForm
from forms_catalog.designer.rule_expressions import Comparison, Row, RowError
from forms_catalog.designer.rule_services import (
    condition_set,
    fee_line_delete,
    fee_line_save,
    fee_parameter_delete,
    fee_parameter_save,
    fee_settings_save,
    validation_rule_delete,
    validation_rule_save,
)
from forms_catalog.fees import calculate
from forms_catalog.models import FormVersion, FormVersionEvent
from forms_catalog.services import (
    FormVersionError,
    form_version_create_draft,
    form_version_publish_system,
)
from tests.factories import FormEditorFactory, ServiceFactory, UserFactory
from tests.forms_catalog.designer.rules_support import picker_definition
from tests.forms_catalog.helpers import TODAY

pytestmark = pytest.mark.django_db

NOTE = "steps/weiteres/fields/note"


@pytest.fixture
def editor():
    return FormEditorFactory()


@pytest.fixture
def draft():
    return form_version_create_draft(service=ServiceFactory(), definition=picker_definition())


def test_a_condition_is_stored_on_the_draft_and_hides_the_field(editor, draft):
    condition_set(
        version=draft,
        user=editor,
        element_path=NOTE,
        combine="and",
        rows=[Row(field="kind", op="eq", value="b")],
    )
    draft.refresh_from_db()
    note = draft.definition["steps"][1]["fields"][0]
    assert note["visible_if"] == {"eq": [{"field": "kind"}, "b"]}
    assert FormVersionEvent.objects.filter(version=draft, action="edited", actor=editor).exists()
    compiled = CompiledForm(draft.definition)
    assert compiled.visible_answers({"kind": "a", "note": "weg"}, on_date=TODAY).get("note") is None
    assert compiled.visible_answers({"kind": "b", "note": "da"}, on_date=TODAY)["note"] == "da"
    # No rows: the condition is removed.
    condition_set(version=draft, user=editor, element_path=NOTE, combine="and", rows=[])
    draft.refresh_from_db()
    assert "visible_if" not in draft.definition["steps"][1]["fields"][0]


def test_a_step_and_a_group_take_conditions_too(editor, draft):
    condition_set(
        version=draft,
        user=editor,
        element_path="steps/weiteres",
        combine="or",
        rows=[Row(field="member", op="eq", value="yes"), Row(field="count", op="ge", value="2")],
    )
    condition_set(
        version=draft,
        user=editor,
        element_path="steps/angaben/fields/people",
        combine="and",
        rows=[Row(field="member", op="filled")],
    )
    draft.refresh_from_db()
    assert list(draft.definition["steps"][1]["visible_if"]) == ["or"]
    assert draft.definition["steps"][0]["fields"][11]["visible_if"] == {"filled": "member"}


@pytest.mark.parametrize(
    ("path", "rows", "error"),
    [
        (NOTE, [Row(field="later", op="filled")], RowError),
        (NOTE, [Row(field="kind", op="eq", value="zzz")], RowError),
        ("steps/weiteres/fields/forged", [Row(field="kind", op="filled")], FormVersionError),
        ("../../etc", [Row(field="kind", op="filled")], FormVersionError),
    ],
)
def test_refused_conditions_change_nothing(editor, draft, path, rows, error):
    before = draft.checksum
    with pytest.raises(error):
        condition_set(version=draft, user=editor, element_path=path, combine="and", rows=rows)
    draft.refresh_from_db()
    assert draft.checksum == before


def test_published_versions_and_non_editors_are_refused(editor, draft):
    row = [Row(field="kind", op="filled")]
    with pytest.raises(FormVersionError, match="Kompetenzzentrum"):
        condition_set(version=draft, user=UserFactory(), element_path=NOTE, combine="and", rows=row)
    with pytest.raises(FormVersionError, match="Kompetenzzentrum"):
        condition_set(version=draft, user=None, element_path=NOTE, combine="and", rows=row)
    form_version_publish_system(version=draft)
    with pytest.raises(FormVersionError, match="Nur Entwürfe"):
        condition_set(version=draft, user=editor, element_path=NOTE, combine="and", rows=row)
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.PUBLISHED
    assert "visible_if" not in draft.definition["steps"][1]["fields"][0]


def test_end_at_least_start_refuses_the_step_with_its_message(editor, draft):
    rule_id = validation_rule_save(
        version=draft,
        user=editor,
        container_path="steps/angaben",
        rule_id=None,
        comparison=Comparison("end", "ge", "field", right_field="start"),
        combine="and",
        rows=[],
        message_de="Das Ende darf nicht vor dem Beginn liegen.",
        message_en="The end cannot be before the start.",
        show_at=["end"],
    )
    draft.refresh_from_db()
    rule = draft.definition["steps"][0]["rules"][0]
    assert rule["id"] == rule_id == "end_ge"
    assert rule["assert"] == {"ge": [{"field": "end"}, {"field": "start"}]}
    errors = CompiledForm(draft.definition).validate_answers(
        {
            "name": "A",
            "start": "2026-05-02",
            "end": "2026-05-01",
            "kind": "a",
        }
    )
    assert any("Das Ende darf nicht vor dem Beginn liegen." in str(e) for e in errors), errors
    # Edit: only when "kind" is b; then delete.
    validation_rule_save(
        version=draft,
        user=editor,
        container_path="steps/angaben",
        rule_id=rule_id,
        comparison=Comparison("end", "ge", "field", right_field="start"),
        combine="and",
        rows=[Row(field="kind", op="eq", value="b")],
        message_de="Ende vor Beginn.",
        message_en="End before start.",
        show_at=["end", "start"],
    )
    draft.refresh_from_db()
    rules = draft.definition["steps"][0]["rules"]
    assert len(rules) == 1 and list(rules[0]["assert"]) == ["if"]
    validation_rule_delete(
        version=draft, user=editor, container_path="steps/angaben", rule_id=rule_id
    )
    draft.refresh_from_db()
    assert "rules" not in draft.definition["steps"][0]
    # Without a choice the message is shown at field A.
    validation_rule_save(
        version=draft,
        user=editor,
        container_path="steps/angaben",
        rule_id=None,
        comparison=Comparison("end", "le", "today"),
        combine="and",
        rows=[],
        message_de="Das Ende liegt in der Zukunft.",
        message_en="The end is in the future.",
        show_at=[],
    )
    draft.refresh_from_db()
    assert draft.definition["steps"][0]["rules"][0]["fields"] == ["end"]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        (
            {
                "container_path": "steps/weiteres",
                "show_at": [],
                "comparison": Comparison("end", "le", "today"),
            },
            "show_at",
        ),
        ({"show_at": ["note"]}, "show_at"),
        ({"message_en": "  "}, "message_en"),
        ({"message_de": "x" * 2001}, "message_de"),
        ({"comparison": Comparison("end", "ge", "field", right_field="note")}, "right_field"),
    ],
)
def test_rule_refusals_name_their_input(editor, draft, changes, key):
    arguments = {
        "version": draft,
        "user": editor,
        "container_path": "steps/angaben",
        "rule_id": None,
        "comparison": Comparison("end", "ge", "field", right_field="start"),
        "combine": "and",
        "rows": [],
        "message_de": "Ende vor Beginn.",
        "message_en": "End before start.",
        "show_at": ["end"],
        **changes,
    }
    with pytest.raises(RowError) as caught:
        validation_rule_save(**arguments)
    assert caught.value.key == key


def test_group_rules_live_on_the_repeatable_group_and_forged_containers_are_refused(editor, draft):
    validation_rule_save(
        version=draft,
        user=editor,
        container_path="steps/angaben/fields/people",
        rule_id=None,
        comparison=Comparison("born", "le", "today"),
        combine="and",
        rows=[],
        message_de="Das Geburtsdatum liegt in der Zukunft.",
        message_en="The date of birth is in the future.",
        show_at=["born"],
    )
    draft.refresh_from_db()
    assert draft.definition["steps"][0]["fields"][11]["rules"][0]["fields"] == ["born"]
    with pytest.raises(FormVersionError):
        validation_rule_save(
            version=draft,
            user=editor,
            container_path="steps/angaben/fields/kind",
            rule_id=None,
            comparison=Comparison("end", "ge", "today"),
            combine="and",
            rows=[],
            message_de="x",
            message_en="x",
            show_at=["end"],
        )
    with pytest.raises(FormVersionError, match="gibt es nicht"):
        validation_rule_delete(
            version=draft, user=editor, container_path="steps/angaben", rule_id="forged"
        )


def test_fee_lines_parameters_and_settings(editor, draft):
    fee_settings_save(
        version=draft,
        user=editor,
        free=False,
        kind="gebuehr",
        period="einmalig",
        payment="bescheid",
        note_de="",
        note_en="",
    )
    fixed = fee_line_save(
        version=draft,
        user=editor,
        line_id=None,
        label_de="Bearbeitungsgebühr",
        label_en="Processing fee",
        amount_kind="fixed",
        amount="25,00",
        param="",
        for_each="",
        combine="and",
        rows=[],
    )
    rate = fee_parameter_save(
        version=draft,
        user=editor,
        param_id=None,
        label_de="Satz pro Person",
        label_en="Rate per person",
        money=True,
        default=Decimal("7.50"),
        local=False,
    )
    per_person = fee_line_save(
        version=draft,
        user=editor,
        line_id=None,
        label_de="Person {index}",
        label_en="Person {index}",
        amount_kind="param",
        amount="",
        param=rate,
        for_each="people",
        combine="and",
        rows=[Row(field="adult", op="eq", value="yes")],
    )
    draft.refresh_from_db()
    fees = draft.definition["fees"]
    assert fees["kind"] == "gebuehr" and fees["payment"] == "bescheid"
    assert fees["lines"][0] == {
        "id": fixed,
        "label": {"de": "Bearbeitungsgebühr", "en": "Processing fee"},
        "amount": 25,
    }
    assert fees["lines"][1]["for_each"] == "people" and fees["lines"][1]["amount"] == {
        "param": rate
    }
    assert draft.definition["parameters"][0]["default"] == "7.50"
    answers = {
        "name": "A",
        "kind": "a",
        "start": "2026-05-01",
        "end": "2026-05-02",
        "people": [{"person": "X", "adult": True}, {"person": "Y", "adult": False}],
    }
    result = calculate(CompiledForm(draft.definition), answers, {}, on_date=TODAY)
    assert result.amount == Decimal("32.50")
    # A used parameter cannot go; free with lines is refused; lines can be deleted.
    with pytest.raises(FormVersionError, match="verwendet"):
        fee_parameter_delete(version=draft, user=editor, param_id=rate)
    with pytest.raises(RowError):
        fee_settings_save(
            version=draft,
            user=editor,
            free=True,
            kind="",
            period="",
            payment="",
            note_de="",
            note_en="",
        )
    fee_line_delete(version=draft, user=editor, line_id=per_person)
    fee_parameter_delete(version=draft, user=editor, param_id=rate)
    draft.refresh_from_db()
    assert [li["id"] for li in draft.definition["fees"]["lines"]] == [fixed]
    assert draft.definition["parameters"] == []


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"amount": "25,005"}, "amount"),
        ({"amount": "viel"}, "amount"),
        ({"amount_kind": "param", "param": "forged"}, "param"),
        ({"for_each": "kind"}, "for_each"),
        ({"label_de": ""}, "label_de"),
        ({"rows": [Row(field="person", op="filled")]}, "field"),
    ],
)
def test_fee_line_refusals(editor, draft, changes, key):
    arguments = {
        "version": draft,
        "user": editor,
        "line_id": None,
        "label_de": "Gebühr",
        "label_en": "Fee",
        "amount_kind": "fixed",
        "amount": "25,00",
        "param": "",
        "for_each": "",
        "combine": "and",
        "rows": [],
        **changes,
    }
    with pytest.raises(RowError) as caught:
        fee_line_save(**arguments)
    assert caught.value.key == key
    draft.refresh_from_db()
    assert "fees" not in draft.definition
