"""Stored answers are never trusted: garbage of every shape must not crash any reader."""

from __future__ import annotations

import itertools
import json

import pytest

from forms_catalog.compiler import CompiledForm
from forms_catalog.fees import calculate
from forms_catalog.summary import export, summarize
from tests.forms_catalog.helpers import CATALOGUE, TODAY, catalogue_definition

GARBAGE = [None, "", "x" * 10_000, 0, -1, 1.5, True, [], [1, "a", None], {}, {"a": [1]},
           "<script>alert(1)</script>", "\x00", "2026-13-45", [{"attachment_id": 1}],
           "Infinity", "NaN", "1e999999", 10**30, "xxxxxxxxxx"]  # fmt: skip


def garbage_answers(compiled: CompiledForm, seed: int) -> dict:
    values = itertools.cycle(GARBAGE[seed:] + GARBAGE[:seed])
    answers: dict = {}
    for spec in compiled.definition.fields.values():
        answers[spec.id] = next(values)
    for group in compiled.definition.groups.values():
        if group.repeatable:
            answers[group.id] = [
                {f.id: next(values) for f in group.fields},
                next(values),
                {"unknown": next(values)},
            ]
    return answers


@pytest.mark.parametrize("slug", sorted(p.stem for p in CATALOGUE.glob("*.json")))
@pytest.mark.parametrize("seed", range(0, len(GARBAGE), 3))
def test_readers_survive_garbage_answers(slug, seed):
    compiled = CompiledForm(catalogue_definition(slug))
    answers = garbage_answers(compiled, seed)
    for language in ("de", "en"):
        sections = summarize(compiled, answers, language, on_date=TODAY)
        for section in sections:
            assert all(isinstance(row.value, str) for row in section.rows)
    exported = export(compiled, answers, meta={}, on_date=TODAY)
    json.dumps(exported)
    calculate(compiled, answers, {"rate_first": "x"}, on_date=TODAY)
    problems = compiled.validate_answers(answers, today=TODAY)
    assert isinstance(problems, list)
    for step in compiled.steps:
        form = compiled.form_class(step.id)(answers=answers, language="de", today=TODAY)
        form.nodes()


def test_non_dict_answers_are_treated_as_empty():
    compiled = CompiledForm(catalogue_definition("hundeanmeldung"))
    assert compiled.visible_answers(["not", "a", "dict"]) == {}
    assert summarize(compiled, "garbage", "de")  # sections with "—" rows
