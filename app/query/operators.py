"""The operators of the query language, one registry entry each, and the only list of them.

An entry says how the operator is written (`field__name`), how many values it takes and what
kind they are read as, how a value is bound, the SQL it produces, how an index can serve it,
which of the usual operator sets it joins, whether the docs show the filter's example with
it, and its wording in the OpenAPI document. The parser, the planner, the SQL builder, the
documentation and the response schema's enum all read this table, so adding an operator is
one entry here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, func, or_


class Use(Enum):
    """How a term can use an index on its column."""

    EQ = "eq"  # one value: the index range is fixed on this column
    SET = "set"  # a few values, or a range: the index range ends at this column
    RANGE = "range"
    OTHER = "other"  # tested row by row


class Arity(Enum):
    ONE = "one"  # one value of the field's kind
    MANY = "many"  # a comma-separated list of the field's kind
    FLAG = "flag"  # true or false, whatever the field's kind
    TEXT = "text"  # one free-text value, whatever the field's kind


# (column, bound values, parsed values, column may be null) -> condition
Build = Callable[[ColumnElement[Any], list[Any], list[Any], bool], ColumnElement[bool]]


# (filter's kind, its closed vocabulary, the values) -> an equivalent (operator, values)
Rewrite = Callable[[type, tuple[str, ...] | None, list[Any]], tuple[str, list[Any]] | None]
# The usual sets an operator joins, for declaring filters (see below).
SET, RANGE, TEXT, LOOKUP = "set", "range", "text", "lookup"


def _row_by_row(_values: list[Any]) -> Use:
    return Use.OTHER


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Operator:
    name: str
    phrase: str  # completes "<filter description> (...)" in the docs
    arity: Arity
    build: Build
    sets: frozenset[str] = frozenset()  # which of the usual sets offer it
    use: Callable[[list[Any]], Use] = _row_by_row  # how an index serves it, given the values
    bind: Callable[[Any], Any] = _as_is  # a parsed value as the statement binds it
    shows_example: bool = False  # the docs illustrate it with the filter's example value
    # True when it keeps the rows that do NOT match the values: a lookup filter then keeps
    # the ids it did not resolve to.
    negated: bool = False
    # An equivalent an index can serve (`__ne` on a closed vocabulary as `__in` the rest).
    rewrite: Rewrite | None = None

    @property
    def suffix(self) -> str:
        return "" if self.name == "exact" else f"__{self.name}"


def _not_equal(
    column: ColumnElement[Any], bound: list[Any], _values: list[Any], nullable: bool
) -> ColumnElement[bool]:
    # "not 2020" includes the rows that have no year at all; __isnull=false excludes them.
    different = column != bound[0]
    return or_(different, column.is_(None)) if nullable else different


def _is_null(
    column: ColumnElement[Any], _bound: list[Any], values: list[Any], _nullable: bool
) -> ColumnElement[bool]:
    # The flag changes the statement, not a bound value: two shapes, each indexable.
    return column.is_(None) if values[0] else column.is_not(None)


def _contains(
    column: ColumnElement[Any], bound: list[Any], _values: list[Any], _nullable: bool
) -> ColumnElement[bool]:
    return func.lower(column).like(bound[0], escape="\\")  # bound to like_pattern(text)


def _other_values(
    kind: type, choices: tuple[str, ...] | None, values: list[Any]
) -> tuple[str, list[Any]] | None:
    """`__ne` on a boolean or a closed vocabulary as membership in the other values, which
    an index serves and a probe counts (an empty list matches nothing); on an open one,
    None: unchanged."""
    if kind is bool:
        return "exact", [not values[0]]
    if choices is None:
        return None
    return "in", [choice for choice in choices if choice != values[0]]


def _one_or_set(values: list[Any]) -> Use:
    return Use.EQ if len(values) == 1 else Use.SET


def _null_or_range(values: list[Any]) -> Use:
    return Use.EQ if values[0] else Use.RANGE  # IS NULL is an index equality, IS NOT NULL a range


EVERY = frozenset({SET, RANGE, TEXT, LOOKUP})
_ENTRIES = (
    Operator("exact", "equal to", Arity.ONE, lambda c, b, _v, _n: c == b[0], EVERY,
             use=lambda _v: Use.EQ, shows_example=True),
    Operator("ne", "not equal to; rows with no value count as different", Arity.ONE,
             _not_equal, EVERY, shows_example=True, negated=True, rewrite=_other_values),
    Operator("gt", "greater than", Arity.ONE, lambda c, b, _v, _n: c > b[0],
             frozenset({RANGE}), use=lambda _v: Use.RANGE),
    Operator("gte", "greater than or equal to", Arity.ONE, lambda c, b, _v, _n: c >= b[0],
             frozenset({RANGE}), use=lambda _v: Use.RANGE),
    Operator("lt", "less than", Arity.ONE, lambda c, b, _v, _n: c < b[0],
             frozenset({RANGE}), use=lambda _v: Use.RANGE),
    Operator("lte", "less than or equal to", Arity.ONE, lambda c, b, _v, _n: c <= b[0],
             frozenset({RANGE}), use=lambda _v: Use.RANGE),
    Operator("in", "any of (comma-separated)", Arity.MANY, lambda c, b, _v, _n: c.in_(b),
             EVERY, use=_one_or_set, shows_example=True),
    Operator("contains", "contains, ignoring case", Arity.TEXT, _contains, frozenset({TEXT}),
             bind=lambda text: like_pattern(str(text)), shows_example=True),
    # Offered by a filter whose column can be null (see Filter), so exactly where it means
    # something; a flag tests the column itself, also on a lookup filter.
    Operator("isnull", "true: has no value; false: has one", Arity.FLAG, _is_null,
             use=_null_or_range),
)  # fmt: skip
OPERATORS: dict[str, Operator] = {entry.name: entry for entry in _ENTRIES}


def _offered_by(name: str) -> tuple[str, ...]:
    return tuple(entry.name for entry in _ENTRIES if name in entry.sets)


# The usual sets, for declaring filters, in the registry's order.
SET_OPERATORS = _offered_by(SET)
RANGE_OPERATORS = _offered_by(RANGE)
TEXT_OPERATORS = _offered_by(TEXT)
# Lookup filters compare resolved ids: equality, difference and membership only.
LOOKUP_OPERATORS = _offered_by(LOOKUP)


def like_pattern(text: str) -> str:
    """A case-folded LIKE pattern matching `text` literally anywhere."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
