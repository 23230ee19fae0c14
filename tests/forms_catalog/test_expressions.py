"""The expression language: evaluation, three-valued logic, static checks, no eval."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from forms_catalog.expressions import CheckContext, ExpressionError, Scope, check, evaluate


def scope(**values):
    return Scope(values=values, on_date=datetime.date(2026, 11, 22))


@pytest.mark.parametrize(
    ("expr", "values", "expected"),
    [
        ({"eq": [{"field": "a"}, "x"]}, {"a": "x"}, True),
        ({"eq": [{"field": "a"}, "x"]}, {}, False),
        ({"lt": [{"field": "a"}, 3]}, {}, None),
        ({"lt": [{"field": "a"}, 3]}, {"a": Decimal("2.5")}, True),
        ({"and": [True, {"lt": [{"field": "a"}, 3]}]}, {}, None),
        ({"and": [False, {"lt": [{"field": "a"}, 3]}]}, {}, False),
        ({"or": [True, {"lt": [{"field": "a"}, 3]}]}, {}, True),
        ({"not": {"field": "a"}}, {"a": False}, True),
        ({"in": [{"field": "a"}, ["x", "y"]]}, {"a": "y"}, True),
        ({"contains": [{"field": "m"}, "b"]}, {"m": ["a", "b"]}, True),
        ({"age": {"field": "d"}}, {"d": datetime.date(2002, 11, 23)}, 23),
        ({"age": {"field": "d"}}, {"d": datetime.date(2002, 11, 22)}, 24),
        ({"lt": [{"field": "d"}, {"date": "2000-01-01"}]}, {"d": datetime.date(1999, 1, 1)}, True),
        ({"ge": [{"field": "d"}, {"today": True}]}, {"d": datetime.date(2026, 11, 22)}, True),
        ({"add": [1, {"mul": [2, 3.5]}]}, {}, Decimal("8.0")),
        ({"if": [{"field": "a"}, 1, 2]}, {"a": True}, 1),
        ({"count": "g"}, {"g": [{}, {}]}, 2),
        ({"filled": "a"}, {"a": ""}, False),
        ({"lt": ["text", 3]}, {}, None),
    ],
)
def test_evaluate(expr, values, expected):
    assert evaluate(expr, scope(**values)) == expected


def test_aggregates_over_a_group():
    s = Scope(values={}, groups={"dogs": [{"dangerous": False}, {"dangerous": True}]})
    assert evaluate({"any": ["dogs", {"field": "dangerous"}]}, s) is True
    assert evaluate({"all": ["dogs", {"field": "dangerous"}]}, s) is False
    assert evaluate({"sum": ["dogs", {"index": True}]}, s) == 3


def test_python_is_never_evaluated():
    with pytest.raises(ExpressionError):
        evaluate({"__import__": "os"}, scope())
    # A string that looks like code is just a string.
    assert evaluate("__import__('os').system('id')", scope()) == "__import__('os').system('id')"


def test_nesting_depth_is_bounded():
    expr: object = True
    for _ in range(100):
        expr = {"not": expr}
    with pytest.raises(ExpressionError):
        evaluate(expr, scope())


def ctx(**kw):
    return CheckContext(fields={"a", "d"}, groups={"dogs": {"dangerous"}}, params={"rate"}, **kw)


@pytest.mark.parametrize(
    ("expr", "path", "message"),
    [
        ({"eq": [{"field": "later"}, 1]}, "x.eq[0].field", "unknown or later field 'later'"),
        ({"foo": 1}, "x", "unknown operator 'foo'"),
        ({"eq": [1]}, "x.eq", "takes a list of 2"),
        ({"param": "rate"}, "x.param", "only be used in fee rules"),
        ({"index": True}, "x.index", "only available inside a repeatable group"),
        ({"date": "31.12.2020"}, "x.date", "ISO date"),
        ({"any": ["nope", True]}, "x.any[0]", "repeatable group"),
        ({"in": [{"field": "a"}, "x"]}, "x.in[1]", "list of literals"),
        ({"a": 1, "b": 2}, "x", "exactly one operator"),
    ],
)
def test_check_names_the_path(expr, path, message):
    problems = check(expr, ctx(), "x")
    assert problems, expr
    assert problems[0].path == path
    assert message in problems[0].message


def test_check_accepts_group_scope_and_fee_parameters():
    assert check({"any": ["dogs", {"field": "dangerous"}]}, ctx(), "x") == []
    assert check({"param": "rate"}, ctx(allow_params=True), "x") == []
