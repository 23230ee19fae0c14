"""A small, safe expression language for visibility, cross-field rules and fees.

Expressions are JSON: literals (string, number, true/false, null) or objects
with exactly one operator key. They are interpreted by walking the tree here;
nothing is ever passed to Python's eval. The whole language:

    {"field": "id"}            value of a field (inside a repeatable group, a
                               field of the same item wins over a top-level one)
    {"param": "id"}            municipality parameter (fees)
    {"today": true}            the reference date (on_date or today)
    {"date": "2026-01-31"}     a date literal
    {"age": EXPR}              full years from a date until the reference date
    {"count": "group_id"}      number of items of a repeatable group
    {"index": true}            1-based position of the current group item
    {"filled": "id"}           the field has a non-empty answer
    {"not": EXPR}   {"and": [EXPR, ...]}   {"or": [EXPR, ...]}
    {"eq"|"ne"|"lt"|"le"|"gt"|"ge": [EXPR, EXPR]}
    {"in": [EXPR, [literal, ...]]}         {"contains": [EXPR, literal]}
    {"add"|"sub"|"mul"|"min"|"max": [EXPR, ...]}
    {"if": [COND, THEN, ELSE]}
    {"any"|"all": ["group_id", EXPR]}      {"sum": ["group_id", EXPR]}

Three-valued logic: a comparison involving an empty answer (other than
eq/ne) is unknown (None). A condition shows a field only when it is true; a
rule fails only when it is false, so an unanswered field never trips a rule
(whether it must be answered is the job of "required").
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_DEPTH = 32

COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}
ARITHMETIC = {"add", "sub", "mul", "min", "max"}
AGGREGATES = {"any", "all", "sum"}
OPERATORS = {
    "field", "param", "today", "date", "age", "count", "index", "filled", "not", "and", "or",
    "in", "contains", "if", *COMPARISONS, *ARITHMETIC, *AGGREGATES,
}  # fmt: skip


class ExpressionError(ValueError):
    """A malformed expression. `path` is relative to the expression's root."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class Scope:
    """Typed values an expression can see."""

    values: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    on_date: datetime.date | None = None
    # Inside a repeatable group item: the item's values, its 1-based index and field ids.
    item: dict[str, Any] | None = None
    item_fields: frozenset[str] = frozenset()
    index: int | None = None
    # For aggregates: group id -> list of typed item dicts.
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def today(self) -> datetime.date:
        return self.on_date or datetime.date.today()

    def lookup(self, name: str) -> Any:
        if self.item is not None and name in self.item_fields:
            return self.item.get(name)
        return self.values.get(name)

    def for_item(self, group_id: str, index: int, fields: frozenset[str]) -> Scope:
        items = self.groups.get(group_id) or []
        return Scope(
            values=self.values,
            params=self.params,
            on_date=self.on_date,
            item=items[index],
            item_fields=fields,
            index=index + 1,
            groups=self.groups,
        )


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, (str, list, dict)):
        return bool(value)
    return bool(value)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float, str)):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _align(a: Any, b: Any) -> tuple[Any, Any]:
    """Make two values comparable: dates with ISO strings, numbers with numbers."""
    if isinstance(a, datetime.date) and isinstance(b, str):
        b = _parse_date(b)
    elif isinstance(b, datetime.date) and isinstance(a, str):
        a = _parse_date(a)
    elif (
        isinstance(a, (int, float, Decimal))
        and isinstance(b, (int, float, Decimal))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        a, b = _number(a), _number(b)
    return a, b


def _parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _compare(op: str, a: Any, b: Any) -> bool | None:
    a, b = _align(a, b)
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return None
    try:
        if op == "lt":
            return a < b
        if op == "le":
            return a <= b
        if op == "gt":
            return a > b
        return a >= b
    except TypeError:
        return None


def full_years(born: datetime.date, on: datetime.date) -> int:
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def evaluate(expr: Any, scope: Scope, _depth: int = 0) -> Any:
    """Evaluate a (previously checked) expression. Never raises on odd data: unknown is None."""
    if _depth > MAX_DEPTH:
        raise ExpressionError("expression nested too deeply")
    if expr is None or isinstance(expr, (bool, int, float, str)):
        return Decimal(str(expr)) if isinstance(expr, float) else expr
    if isinstance(expr, list):
        return [evaluate(item, scope, _depth + 1) for item in expr]
    if not isinstance(expr, dict) or len(expr) != 1:
        raise ExpressionError("an expression object has exactly one operator")
    ((op, arg),) = expr.items()
    ev: Callable[[Any], Any] = lambda e: evaluate(e, scope, _depth + 1)  # noqa: E731
    if op == "field":
        return scope.lookup(arg)
    if op == "param":
        return scope.params.get(arg)
    if op == "today":
        return scope.today
    if op == "date":
        return _parse_date(arg)
    if op == "age":
        born = ev(arg)
        if isinstance(born, str):
            born = _parse_date(born)
        return full_years(born, scope.today) if isinstance(born, datetime.date) else None
    if op == "count":
        value = scope.lookup(arg)
        return len(value) if isinstance(value, list) else 0
    if op == "index":
        return scope.index
    if op == "filled":
        return not is_empty(scope.lookup(arg))
    if op == "not":
        value = ev(arg)
        return None if value is None else not truthy(value)
    if op in {"and", "or"}:
        results = [ev(item) for item in arg]
        decided = [truthy(r) for r in results if r is not None]
        if op == "and":
            if False in decided:
                return False
            return None if len(decided) < len(results) else True
        if True in decided:
            return True
        return None if len(decided) < len(results) else False
    if op in COMPARISONS:
        return _compare(op, ev(arg[0]), ev(arg[1]))
    if op == "in":
        value = ev(arg[0])
        return None if value is None else value in arg[1]
    if op == "contains":
        container = ev(arg[0])
        return arg[1] in container if isinstance(container, list) else False
    if op in ARITHMETIC:
        numbers = [_number(ev(item)) for item in arg]
        if any(n is None for n in numbers):
            return None
        if op == "add":
            return sum(numbers, Decimal(0))
        if op == "sub":
            return numbers[0] - sum(numbers[1:], Decimal(0))
        if op == "mul":
            result = Decimal(1)
            for n in numbers:
                result *= n
            return result
        return min(numbers) if op == "min" else max(numbers)
    if op == "if":
        condition = ev(arg[0])
        return ev(arg[1]) if truthy(condition) else ev(arg[2])
    if op in AGGREGATES:
        group_id, inner = arg
        items = scope.groups.get(group_id) or []
        fields = frozenset(items[0].keys()) if items else frozenset()
        fields = frozenset().union(*(i.keys() for i in items)) if items else fields
        results = [
            evaluate(inner, scope.for_item(group_id, i, fields), _depth + 1)
            for i in range(len(items))
        ]
        if op == "any":
            return any(truthy(r) for r in results)
        if op == "all":
            return all(truthy(r) for r in results)
        numbers = [_number(r) for r in results]
        return sum((n for n in numbers if n is not None), Decimal(0))
    raise ExpressionError(f"unknown operator {op!r}")


# --- Static checking (publishing) --------------------------------------------
@dataclass
class CheckContext:
    """What an expression may refer to at its place in the definition."""

    fields: set[str]  # top-level field ids visible to the expression
    groups: dict[str, set[str]]  # repeatable group id -> its field ids
    params: set[str]
    item_fields: set[str] = field(default_factory=set)  # when inside a repeatable group
    in_item: bool = False
    allow_params: bool = False


def references(expr: Any) -> set[str]:
    """All field/group ids an expression refers to (for dependency checks)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and len(node) == 1:
            ((op, arg),) = node.items()
            if op in {"field", "count", "filled"} and isinstance(arg, str):
                found.add(arg)
            elif op in AGGREGATES and isinstance(arg, list) and arg:
                if isinstance(arg[0], str):
                    found.add(arg[0])
                walk(arg[1:])
            elif op not in {"param", "date", "today", "index"}:
                walk(arg)

    walk(expr)
    return found


def check(expr: Any, ctx: CheckContext, path: str = "", _depth: int = 0) -> list[ExpressionError]:
    """Return every problem of an expression, each with its path below `path`."""
    errors: list[ExpressionError] = []

    def err(message: str, where: str = path) -> None:
        errors.append(ExpressionError(message, where))

    if _depth > MAX_DEPTH:
        err("expression nested too deeply")
        return errors
    if expr is None or isinstance(expr, (bool, int, float, str)):
        return errors
    if not isinstance(expr, dict):
        err("expected a literal or an object with one operator")
        return errors
    if len(expr) != 1:
        err("an expression object must have exactly one operator key")
        return errors
    ((op, arg),) = expr.items()
    here = f"{path}.{op}"
    if op not in OPERATORS:
        err(f"unknown operator '{op}'")
        return errors

    def sub(node: Any, where: str, ctx_: CheckContext = ctx) -> None:
        errors.extend(check(node, ctx_, where, _depth + 1))

    def args(n_min: int, n_max: int | None = None) -> list | None:
        if not isinstance(arg, list) or len(arg) < n_min or (n_max and len(arg) > n_max):
            count = f"{n_min}" if n_max == n_min else f"{n_min} or more"
            err(f"'{op}' takes a list of {count} arguments", here)
            return None
        return arg

    if op in {"field", "filled"}:
        if not isinstance(arg, str):
            err(f"'{op}' takes a field id", here)
        elif not (arg in ctx.fields or (ctx.in_item and arg in ctx.item_fields)):
            err(f"unknown or later field '{arg}'", here)
    elif op == "count":
        if not isinstance(arg, str) or arg not in ctx.groups:
            err(f"'count' needs the id of an earlier repeatable group, got {arg!r}", here)
    elif op == "param":
        if not ctx.allow_params:
            err("parameters can only be used in fee rules", here)
        elif arg not in ctx.params:
            err(f"undeclared parameter '{arg}'", here)
    elif op == "today" or op == "index":
        if op == "index" and not ctx.in_item:
            err("'index' is only available inside a repeatable group", here)
    elif op == "date":
        if not isinstance(arg, str) or _parse_date(arg) is None:
            err("'date' takes an ISO date YYYY-MM-DD", here)
    elif op in {"age", "not"}:
        sub(arg, here)
    elif op in {"and", "or", *ARITHMETIC}:
        items = args(1)
        for i, item in enumerate(items or []):
            sub(item, f"{here}[{i}]")
    elif op in COMPARISONS:
        for i, item in enumerate(args(2, 2) or []):
            sub(item, f"{here}[{i}]")
    elif op == "in":
        items = args(2, 2)
        if items:
            sub(items[0], f"{here}[0]")
            if not isinstance(items[1], list) or any(isinstance(v, (dict, list)) for v in items[1]):
                err("the second argument of 'in' is a list of literals", f"{here}[1]")
    elif op == "contains":
        items = args(2, 2)
        if items:
            sub(items[0], f"{here}[0]")
            if isinstance(items[1], (dict, list)):
                err("the second argument of 'contains' is a literal", f"{here}[1]")
    elif op == "if":
        for i, item in enumerate(args(3, 3) or []):
            sub(item, f"{here}[{i}]")
    elif op in AGGREGATES:
        items = args(2, 2)
        if items:
            if not isinstance(items[0], str) or items[0] not in ctx.groups:
                err(f"'{op}' needs the id of a repeatable group", f"{here}[0]")
            else:
                inner = CheckContext(
                    fields=ctx.fields,
                    groups=ctx.groups,
                    params=ctx.params,
                    item_fields=ctx.groups[items[0]],
                    in_item=True,
                    allow_params=ctx.allow_params,
                )
                sub(items[1], f"{here}[1]", inner)
    return errors
